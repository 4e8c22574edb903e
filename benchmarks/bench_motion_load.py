"""Benchmark: parse a 10-minute 120 fps BVH and compute world positions and orientations.

Builds the file by tiling the frames of a sample BVH (``meredith_walk_120fps.bvh`` from
``../shared/data``, or the bundled ``mocapbank_walk.bvh`` when the sample folder is absent)
to 72,000 frames, then times ``load_bvh`` (parse + forward kinematics with orientations) and its
phases, then keypoint mapping and foot contacts on the result. Prints the numbers
and writes them to ``benchmarks/results/bench_motion_load.json``.

    python benchmarks/bench_motion_load.py [--minutes 10] [--fps 120] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from retargetjax.motion import (
    bvh_forward_kinematics,
    foot_contacts,
    load_bvh,
    map_keypoints,
    read_bvh,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "motions" / "bvh" / "meredith_walk_120fps.bvh"
BUNDLED = ROOT / "retargetjax" / "assets" / "motions" / "mocapbank_walk.bvh"


def make_long_bvh(source: Path, frames: int, fps: float, out: Path) -> None:
    """Write ``out``: the hierarchy of ``source`` and its frames tiled to ``frames`` lines."""
    text = source.read_text()
    head, motion = text.split("MOTION", 1)
    lines = [s for s in motion.splitlines()[3:] if s.strip()]
    reps = -(-frames // len(lines))
    body = "\n".join((lines * reps)[:frames])
    out.write_text(f"{head}MOTION\nFrames: {frames}\nFrame Time: {1.0 / fps:.6f}\n{body}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=120.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_motion_load.json"
    )
    args = parser.parse_args()
    source = SAMPLE if SAMPLE.is_file() else BUNDLED
    frames = round(args.minutes * 60 * args.fps)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.bvh"
        make_long_bvh(source, frames, args.fps, path)
        size_mb = path.stat().st_size / 1e6
        load_bvh(path)  # warm-up (imports, page cache)
        totals, parses, fks = [], [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            motion = load_bvh(path)
            totals.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            sk, _, values = read_bvh(path)
            parses.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            bvh_forward_kinematics(sk, values)
            fks.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        kp = map_keypoints(motion, verbose=False)
        foot_contacts(motion, kp)
        contacts_s = time.perf_counter() - t0
    result = {
        "source": source.name,
        "frames": frames,
        "joints": motion.num_joints,
        "file_mb": round(size_mb, 1),
        "load_bvh_s": round(min(totals), 3),
        "parse_s": round(min(parses), 3),
        "forward_kinematics_s": round(min(fks), 3),
        "map_keypoints_and_contacts_s": round(contacts_s, 3),
        "target_s": 2.0,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "numpy": np.__version__,
    }
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()

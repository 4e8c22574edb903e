"""Dataset throughput: the grouped path vs one clip at a time vs one process per clip.

.venv/bin/python benchmarks/bench_batch.py [--clips 64] [--devices 1] [--quick]

Builds a dataset of ``--clips`` BVH clips cut and tiled from the MIT sample clips to mixed
lengths (2 s to 2 min at 30 fps), then retargets it onto the G1:

* ``grouped``: :func:`retargetjax.batch.run_grouped` (many clips per solve, one group per
  device), with the number of solver compilations and peak memory;
* ``one_at_a_time``: ``BatchRunner.run(..., max_workers=1)`` with ``RetargetWorker`` (one
  clip per solve, one process; each distinct window count is a new compile);
* ``process_per_clip``: ``retargetjax-retarget`` once per clip (how peers run datasets),
  timed on ``--process-clips`` clips spread over the length range; a fit
  ``seconds = a + b·frames`` to them predicts the whole dataset.

``--devices 4`` fakes four CPU devices (``XLA_FLAGS``). Results go to
``benchmarks/results/bench_batch*.json``. Compile time is included in every mode (a real run
pays it too). ``--quick`` uses fewer solver steps and clips (a smoke run).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--process-clips", type=int, default=4)
    parser.add_argument("--modes", default="grouped,one_at_a_time,process_per_clip")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--solver",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a solver setting for every mode (repeatable), e.g. init_tolerance=0.05",
    )
    return parser.parse_args()


ARGS = _args()
if ARGS.devices > 1:
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={ARGS.devices}"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import solver_config, table, write_result  # noqa: E402


def build_dataset(folder: Path, n_clips: int, seed: int = 0) -> list[int]:
    """``n_clips`` BVH clips of 60–3600 frames (log-uniform), tiled from the sample walks."""
    from retargetjax.motion import HumanMotion, load_motion, sample_motion_path, write_bvh

    base = load_motion(sample_motion_path())
    rng = np.random.default_rng(seed)
    lengths = np.exp(rng.uniform(np.log(60), np.log(3600), n_clips)).astype(int)
    lengths[:2] = (60, 3600)
    out = []
    for i, n in enumerate(lengths):
        start = int(rng.integers(0, base.num_frames - 30))
        clip = base.trim(start, base.num_frames)
        parts = [clip]
        while sum(p.num_frames for p in parts) < n:
            parts.append(base)
        motion = _concat(parts, HumanMotion).trim(0, int(n))
        write_bvh(motion, folder / f"c{i // 16:02d}" / f"clip{i:03d}.bvh")
        out.append(int(n))
    return out


def _concat(parts, cls):
    """Clips end to end (the root jumps at each seam: fine for timing, not for quality)."""
    import dataclasses

    first = parts[0]
    if len(parts) == 1:
        return first
    arrays = {}
    for field in dataclasses.fields(first):
        value = getattr(first, field.name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == first.num_frames:
            arrays[field.name] = np.concatenate([getattr(p, field.name) for p in parts], axis=0)
    return dataclasses.replace(first, **arrays)


def main() -> None:
    import jax

    from retargetjax.batch import (
        BatchRunner,
        JobSettings,
        RetargetWorker,
        compile_count,
        discover_jobs,
        run_grouped,
    )

    base = {"init_iterations": 4, "iterations": 20} if ARGS.quick else {}
    config = solver_config(ARGS.solver, base)
    keys = set(base) | {item.partition("=")[0] for item in ARGS.solver}
    solver = config.solver.model_dump(include=keys)
    worker = RetargetWorker(JobSettings(robot="unitree_g1", config=config))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        lengths = build_dataset(data, ARGS.clips)
        frames = sum(lengths)
        print(f"{len(lengths)} clips, {frames} frames ({frames / 30 / 60:.1f} min at 30 fps)")
        modes = ARGS.modes.split(",")

        def row(mode, seconds, n_clips, n_frames, **extra):
            results.append(
                {
                    "mode": mode,
                    "devices": len(jax.devices()),
                    "clips": n_clips,
                    "seconds": seconds,
                    "clips_per_s": n_clips / seconds,
                    "frames_per_s": n_frames / seconds,
                    **extra,
                }
            )
            print(table(results[-1:], list(results[-1])))

        if "grouped" in modes:
            jobs = discover_jobs(data, "**/*.bvh", Path(tmp) / "grouped")
            before = compile_count()
            t0 = time.perf_counter()
            manifest = run_grouped(jobs, worker, manifest_path=Path(tmp) / "g.json")
            seconds = time.perf_counter() - t0
            assert manifest.success_count == len(jobs), manifest.failed_count
            row(
                "grouped",
                seconds,
                len(jobs),
                frames,
                compiles=compile_count() - before,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            )
        if "one_at_a_time" in modes:
            jobs = discover_jobs(data, "**/*.bvh", Path(tmp) / "single")
            before = compile_count()
            t0 = time.perf_counter()
            manifest = BatchRunner.run(jobs, worker, manifest_path=Path(tmp) / "s.json")
            seconds = time.perf_counter() - t0
            assert manifest.success_count == len(jobs), manifest.failed_count
            row("one_at_a_time", seconds, len(jobs), frames, compiles=compile_count() - before)
        if "process_per_clip" in modes:
            # Clips spread over the length range, each in a fresh process; the per-clip time
            # t = a + b·frames fitted to them predicts the whole dataset.
            jobs = discover_jobs(data, "**/*.bvh", Path(tmp) / "procs")
            by_len = sorted(jobs, key=lambda j: lengths[int(j.id.rsplit("clip", 1)[1])])
            k = max(2, ARGS.process_clips)
            picks = [by_len[round(i * (len(by_len) - 1) / (k - 1))] for i in range(k)]
            times, sub_frames = [], []
            for job in picks:
                cmd = [
                    sys.executable,
                    "-m",
                    "retargetjax.apps.retarget",
                    f"motion.path={job.motion}",
                    f"output={job.output}",
                    "metrics=false",
                    f"hydra.run.dir={Path(tmp) / 'runs' / job.id}",
                    *[f"solver.{k}={v}" for k, v in solver.items()],
                ]
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                times.append(time.perf_counter() - t0)
                sub_frames.append(lengths[int(job.id.rsplit("clip", 1)[1])])
            b, a = np.polyfit(np.asarray(sub_frames, float), np.asarray(times), 1)
            predicted = float(len(lengths) * a + b * frames)
            print(
                f"process per clip: {k} clips of {sub_frames} frames took "
                f"{[round(t, 1) for t in times]} s; fit {a:.1f} s + {b * 1000:.2f} ms/frame"
            )
            row(
                "process_per_clip",
                predicted,
                len(lengths),
                frames,
                extrapolated_from=k,
                seconds_per_clip_fixed=round(float(a), 2),
            )
    print(table(results, list(results[0])))
    speed = {r["mode"]: r["clips_per_s"] for r in results}
    if "grouped" in speed:
        for other in ("one_at_a_time", "process_per_clip"):
            if other in speed:
                print(f"grouped / {other}: {speed['grouped'] / speed[other]:.2f}x")
    suffix = f"_{ARGS.devices}dev" + ("_quick" if ARGS.quick else "")
    print(write_result(f"bench_batch{suffix}.json", {"args": vars(ARGS), "results": results}))


if __name__ == "__main__":
    main()

"""Throughput on whatever device JAX finds (GPU, TPU or CPU), in one command.

    python benchmarks/bench_device.py [--quick] [--out FILE.json] [--robot unitree_g1]

Prints and writes JSON: the device kind and count; frames/s for one clip and for grouped
blocks of 64 / 256 / 1,024 windows (``--quick``: a smoke run of about a minute on a 2-core
CPU: one 10 s clip, one block of 2 windows, the clip's own shape, so it compiles once, and
the cost analysis of the lowered programs, not the compiled ones: bytes about twice the
compiled count); compile time; peak device memory (from the device's memory statistics where
it has them, else the process's peak RSS); the hours that 4 million frames (about AMASS)
take at the best rate; and, from XLA's cost analysis of the solve, the FLOPs and bytes per
frame and the on-paper ceiling of this machine and of one H200 (``benchmarks/_cost.py``);
and one refinement iteration split into its pieces (linearisation, chunked and not; the CG
step; the candidate costs; pair selection) over 64 windows (``--pieces``;
``benchmarks/_iteration.py``).

Timings exclude compilation (each shape is solved once to compile, then timed); the
default solver settings are used (``RetargetConfig()``), so the numbers are at default
quality. Nothing here pins the CPU: set ``JAX_PLATFORMS=cpu`` to force it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

AMASS_FRAMES = 4_000_000


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: one 10 s clip, 2 windows, lowered cost analysis",
    )
    p.add_argument("--out", type=Path, default=None, help="JSON file (default: results folder)")
    p.add_argument("--robot", default="unitree_g1")
    p.add_argument("--blocks", default=None, help="comma-separated windows per block")
    p.add_argument("--clip-seconds", type=float, default=None)
    p.add_argument("--no-cost", action="store_true", help="skip XLA's cost analysis")
    p.add_argument(
        "--pieces",
        type=int,
        default=None,
        help="windows for the split of one iteration into its pieces (default: 64; "
        "--quick: none; 0: none)",
    )
    return p.parse_args(argv)


def _walk(seconds: float, fps: float) -> Any:
    """The bundled sample clip tiled end to end (each copy continuing where the last ended)
    to ``seconds`` at ``fps``: a real motion of any length with no outside data."""
    import dataclasses

    from retargetjax.motion import load_motion, sample_motion_path

    base = load_motion(sample_motion_path("walk"))
    if abs(base.fps - fps) > 1e-6:
        base = base.resample(fps)
    need = max(2, round(seconds * fps))
    step = base.positions[-1, 0] - base.positions[0, 0]
    step[2] = 0.0
    reps, offset = [], np.zeros(3, np.float32)
    while sum(r.shape[0] for r in reps) < need:
        reps.append(base.positions + offset)
        offset = offset + step
    pos = np.concatenate(reps)[:need]
    return dataclasses.replace(base, positions=pos, orientations=None)


def _peak_memory(device: Any) -> dict[str, Any]:
    stats = None
    try:
        stats = device.memory_stats()
    except Exception:  # backends without memory statistics raise or return None
        stats = None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    out: dict[str, Any] = {"process_peak_rss_bytes": int(rss)}
    if stats:
        out["device_peak_bytes"] = int(stats.get("peak_bytes_in_use", 0))
        out["device_limit_bytes"] = int(stats.get("bytes_limit", 0))
    return out


def _timed(problems: list[Any], robot: Any, config: Any, device: Any) -> tuple[float, float]:
    """(first call seconds incl. compile, second call seconds)."""
    from retargetjax.retarget import solve_problems

    t0 = time.perf_counter()
    solve_problems(problems, robot, config, device=device)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    solve_problems(problems, robot, config, device=device)
    return first, time.perf_counter() - t0


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns (and writes) the result dictionary."""
    args = _args(argv)
    import jax

    from retargetjax.retarget import RetargetConfig, prepare_problem
    from retargetjax.robot import load_robot

    devices = jax.devices()
    device = devices[0]
    config = RetargetConfig()
    robot = load_robot(args.robot)
    window = config.solver.window
    fps = config.solver.fps
    blocks = (
        [int(b) for b in args.blocks.split(",")]
        if args.blocks
        else ([2] if args.quick else [64, 256, 1024])
    )
    clip_seconds = args.clip_seconds or (10.0 if args.quick else 60.0)
    result: dict[str, Any] = {
        "device": {
            "platform": device.platform,
            "kind": getattr(device, "device_kind", device.platform),
            "count": len(devices),
        },
        "robot": robot.name,
        "solver": config.solver.model_dump(),
        "quick": args.quick,
        "complete": False,
    }
    out = args.out or Path(__file__).resolve().parent / "results" / "device.json"
    _progress(f"device: {len(devices)} × {result['device']['kind']} ({device.platform})")

    _progress(f"one clip of {clip_seconds:.0f} s: compiling, then solving …")
    clip = prepare_problem(_walk(clip_seconds, fps), robot, config)
    first, steady = _timed([clip], robot, config, device)
    result["one_clip"] = {
        "frames": clip.num_frames,
        "compile_s": round(max(first - steady, 0.0), 2),
        "solve_s": round(steady, 3),
        "frames_per_s": round(clip.num_frames / steady, 1),
    }
    _progress(f"  {result['one_clip']}")
    _save(result, out)

    # Blocks of G windows: G clips of exactly one window each fill G rows (G a power of two,
    # so no padding rows), the shape a grouped batch solves per call and device.
    source = _walk(window / fps * 4, fps)
    pieces = [prepare_problem(source.trim(i * 16, i * 16 + window), robot, config) for i in (0, 1)]
    result["blocks"] = []
    for g in blocks:
        _progress(f"block of {g} windows ({g * window} frames): compiling, then solving …")
        problems = [pieces[i % 2] for i in range(g)]
        first, steady = _timed(problems, robot, config, device)
        row = {
            "windows": g,
            "frames": g * window,
            "compile_s": round(max(first - steady, 0.0), 2),
            "solve_s": round(steady, 3),
            "frames_per_s": round(g * window / steady, 1),
            **_peak_memory(device),
        }
        result["blocks"].append(row)
        _progress(f"  {row}")
        _save(result, out)

    rates = [result["one_clip"]["frames_per_s"]] + [b["frames_per_s"] for b in result["blocks"]]
    best = max(rates)
    result["best_frames_per_s"] = best
    result["hours_for_4M_frames"] = round(AMASS_FRAMES / best / 3600.0, 2)
    result["memory"] = _peak_memory(device)

    pieces_windows = args.pieces if args.pieces is not None else (0 if args.quick else 64)
    if pieces_windows > 0:
        from _iteration import iteration_split, report

        _progress(f"one iteration piece by piece over {pieces_windows} windows …")
        problems = [pieces[i % 2] for i in range(pieces_windows)]
        result["iteration"] = iteration_split(problems, robot, config, device)
        _progress(report(result["iteration"]))
        _save(result, out)

    if not args.no_cost:
        from _cost import H200_PEAK, ceiling_frames_per_s, measured_peaks, solver_cost

        _progress("cost analysis of the solve (XLA) …")
        cost = solver_cost(pieces[:1], robot, config, compiled=not args.quick)
        peaks = measured_peaks(0.5)
        per_frame = cost["per_frame_total"]
        result["cost"] = cost
        result["machine_peaks_measured"] = peaks
        result["ceiling_frames_per_s"] = {
            "this_device": round(ceiling_frames_per_s(per_frame, peaks), 1),
            "h200_on_paper": round(ceiling_frames_per_s(per_frame, H200_PEAK), 1),
        }
        result["fraction_of_this_device_ceiling"] = round(
            best / max(result["ceiling_frames_per_s"]["this_device"], 1e-9), 4
        )
    result["complete"] = True
    _save(result, out)
    _report(result)
    print(f"written to {out}")
    return result


def _save(result: dict[str, Any], out: Path) -> None:
    """Write ``result`` to ``out`` atomically (:func:`~retargetjax.batch.write_text_atomic`).
    Called after every stage, so a run stopped part-way (a time limit on a borrowed GPU)
    keeps what it measured; ``complete`` is true only in the last write."""
    from retargetjax.batch import write_text_atomic

    write_text_atomic(out, json.dumps(result, indent=2, default=str))


def _report(r: dict[str, Any]) -> None:
    d = r["device"]
    print(f"\n# retargetjax on {d['count']} × {d['kind']} ({d['platform']}), robot {r['robot']}")
    print("| case | frames | compile s | solve s | frames/s | peak memory |")
    print("|---|---|---|---|---|---|")
    c = r["one_clip"]
    print(
        f"| one clip | {c['frames']} | {c['compile_s']} | {c['solve_s']} | {c['frames_per_s']} | |"
    )
    for b in r["blocks"]:
        mem = b.get("device_peak_bytes", b["process_peak_rss_bytes"])
        kind = "device" if "device_peak_bytes" in b else "RSS"
        print(
            f"| block of {b['windows']} windows | {b['frames']} | {b['compile_s']} | "
            f"{b['solve_s']} | {b['frames_per_s']} | {mem / 2**30:.2f} GiB ({kind}) |"
        )
    print(f"\nbest {r['best_frames_per_s']} frames/s: 4M frames in {r['hours_for_4M_frames']} h")
    if "cost" in r:
        pf = r["cost"]["per_frame_total"]
        print(
            f"per frame (all iterations): {pf['flops'] / 1e6:.2f} MFLOP, "
            f"{pf['bytes'] / 1e6:.2f} MB accessed (XLA cost analysis, {r['cost']['analysed']})"
        )
        ceil = r["ceiling_frames_per_s"]
        print(
            f"ceiling: this device {ceil['this_device']} frames/s "
            f"(reached {100 * r['fraction_of_this_device_ceiling']:.1f} %), "
            f"one H200 on paper {ceil['h200_on_paper']} frames/s"
        )


if __name__ == "__main__":
    run()

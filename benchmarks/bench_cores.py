"""How the solver uses this machine's CPU cores: one process, one process held to one core,
and one process per core solving at the same time.

    python benchmarks/bench_cores.py [--quick] [--processes N] [--seconds S] [--out FILE.json]

Every case solves the same clip (the bundled walk tiled to ``--seconds``, 60 by default,
onto the G1, default settings) in a fresh process: it compiles (or loads the program from
a compile cache shared by the cases, so only the first case pays the compile), solves once
more to warm up, then times ``--repeats`` solves and reports the best. The cases:

- ``one process``: as a user runs it, XLA free to use every core;
- ``one process, one core``: the same, held to CPU 0 (``os.sched_setaffinity``); if it is
  about as fast as the case above, the solve runs on one core and a second core idles;
- ``N processes, one core each``: ``N`` copies at once, each held to its own core, started
  together after all have compiled (a file barrier); their summed frames/s is what a batch
  split over ``N`` worker processes could reach on this machine.

Prints a Markdown table and writes JSON (``benchmarks/results/cores.json`` by default,
atomically). ``--quick``: a 10 s clip, 2 processes at most, 2 repeats (the tests run it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 s clip, 2 processes, 2 repeats")
    ap.add_argument("--processes", type=int, default=None, help="processes at once (cores)")
    ap.add_argument("--seconds", type=float, default=None, help="clip length (default 60)")
    ap.add_argument("--repeats", type=int, default=None, help="timed solves per case")
    ap.add_argument("--out", type=Path, default=None, help="JSON result file")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def _child(spec: dict[str, Any]) -> None:
    """One case's process: pin, compile, wait at the barrier, time, print one JSON line."""
    if spec.get("cpu") is not None:
        os.sched_setaffinity(0, {spec["cpu"]})
    sys.path.insert(0, str(HERE))
    from bench_device import _walk

    from retargetjax.compile_cache import enable_compile_cache
    from retargetjax.retarget import RetargetConfig, prepare_problem, solve_problems
    from retargetjax.robot import load_robot

    enable_compile_cache(spec["cache"])
    config = RetargetConfig()
    robot = load_robot("unitree_g1")
    problem = prepare_problem(_walk(spec["seconds"], config.solver.fps), robot, config)
    t0 = time.perf_counter()
    solve_problems([problem], robot, config)
    first = time.perf_counter() - t0
    if spec.get("ready"):
        Path(spec["ready"]).touch()
        while not Path(spec["go"]).exists():
            time.sleep(0.01)
    best = float("inf")
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        solve_problems([problem], robot, config)
        best = min(best, time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "frames": problem.num_frames,
                "first_s": round(first, 2),
                "solve_s": round(best, 3),
                "frames_per_s": round(problem.num_frames / best, 1),
            }
        ),
        flush=True,
    )


def _spawn(spec: dict[str, Any]) -> subprocess.Popen:
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _result(proc: subprocess.Popen) -> dict[str, Any]:
    out, err = proc.communicate()
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-5:])
        raise SystemExit(f"error: a benchmark process failed (exit {proc.returncode}):\n{tail}")
    return json.loads(out.strip().splitlines()[-1])


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns (and writes) the result dictionary."""
    from retargetjax.batch import write_json_atomic

    args = _args(argv)
    if args.child is not None:
        _child(json.loads(args.child))
        return {}
    cores = sorted(os.sched_getaffinity(0))
    processes = args.processes or min(len(cores), 2 if args.quick else len(cores))
    if not 1 <= processes <= len(cores):
        raise SystemExit(
            f"error: --processes {processes}: this process may use {len(cores)} cores;"
            f" expected 1 to {len(cores)}"
        )
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    repeats = args.repeats or (2 if args.quick else 3)
    out = args.out or HERE / "results" / "cores.json"
    result: dict[str, Any] = {"cores": len(cores), "seconds": seconds, "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = {"cache": str(Path(tmp) / "cache"), "seconds": seconds, "repeats": repeats}

        def case(name: str, specs: list[dict[str, Any]]) -> None:
            print(f"{name}: compiling, then solving …", file=sys.stderr, flush=True)
            go = Path(tmp) / f"go-{len(result['cases'])}"
            for k, spec in enumerate(specs):
                if len(specs) > 1:
                    spec.update(ready=str(go) + f".ready{k}", go=str(go))
            procs = [_spawn({**base, **s}) for s in specs]
            if len(specs) > 1:
                while not all(Path(s["ready"]).exists() for s in specs):
                    if any(p.poll() not in (None, 0) for p in procs):
                        break
                    time.sleep(0.05)
                go.touch()
            rows = [_result(p) for p in procs]
            total = sum(r["frames_per_s"] for r in rows)
            result["cases"].append(
                {
                    "case": name,
                    "processes": len(rows),
                    "frames_per_s_each": [r["frames_per_s"] for r in rows],
                    "frames_per_s_total": round(total, 1),
                    "first_call_s": max(r["first_s"] for r in rows),
                }
            )
            write_json_atomic(out, result)

        case("one process", [{}])
        case("one process, one core", [{"cpu": cores[0]}])
        if processes > 1:
            case(
                f"{processes} processes, one core each",
                [{"cpu": c} for c in cores[:processes]],
            )
    one = result["cases"][0]["frames_per_s_total"]
    for c in result["cases"]:
        c["vs_one_process"] = round(c["frames_per_s_total"] / one, 2)
    result["complete"] = True
    write_json_atomic(out, result)
    print(f"the walk tiled to {seconds:.0f} s onto G1, {len(cores)} cores:")
    print("| case | frames/s each | frames/s in all | vs one process |")
    print("|---|---|---|---|")
    for c in result["cases"]:
        each = " / ".join(f"{v:.0f}" for v in c["frames_per_s_each"])
        print(f"| {c['case']} | {each} | {c['frames_per_s_total']:.0f} | {c['vs_one_process']} |")
    print(f"written to {out}")
    return result


if __name__ == "__main__":
    run()

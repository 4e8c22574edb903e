"""Forward-kinematics throughput for a bundled robot on the current JAX backend.

Prints a table (frames per second for the forward pass and for forward+backward, i.e. the
gradient of a scalar loss of all body positions w.r.t. root pose and joint angles) for
several batch sizes, plus compile times, and writes ``benchmarks/results/fk.json``.

    python benchmarks/bench_fk.py [--robot unitree_g1] [--batches 1 256 4096 65536] [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from retargetjax.robot import forward_kinematics, load_robot


def _time(fn, *args, repeats: int) -> float:
    """Median wall time of ``fn(*args)`` in seconds (after one warm call)."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robot", default="unitree_g1")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 256, 4096, 65536])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "fk.json"))
    args = parser.parse_args()

    robot = load_robot(args.robot)

    @jax.jit
    def forward(robot, root_pos, root_quat, q):
        return forward_kinematics(robot, root_pos, root_quat, q).pos

    def loss(root_pos, root_quat, q, robot):
        return jnp.sum(forward_kinematics(robot, root_pos, root_quat, q).pos ** 2)

    grad = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))

    rows = []
    print(
        f"robot {args.robot}: {robot.num_bodies} bodies, {robot.num_joints} joints, "
        f"{len(robot.level_ranges)} tree levels; backend {jax.default_backend()}"
    )
    print(
        f"{'batch':>7} {'compile fwd s':>13} {'compile f+b s':>13} {'fwd ms':>9} "
        f"{'fwd fps':>12} {'f+b ms':>9} {'f+b fps':>12}"
    )
    rng = np.random.default_rng(0)
    for batch in args.batches:
        q = jnp.asarray(rng.uniform(-0.5, 0.5, (batch, robot.num_joints)), jnp.float32)
        root_pos = jnp.asarray(rng.normal(size=(batch, 3)), jnp.float32)
        quat = rng.normal(size=(batch, 4))
        root_quat = jnp.asarray(quat / np.linalg.norm(quat, axis=-1, keepdims=True), jnp.float32)
        t0 = time.perf_counter()
        forward.lower(robot, root_pos, root_quat, q).compile()
        compile_fwd = time.perf_counter() - t0
        t0 = time.perf_counter()
        grad.lower(root_pos, root_quat, q, robot).compile()
        compile_bwd = time.perf_counter() - t0
        repeats = max(3, args.repeats if batch <= 4096 else args.repeats // 4)
        t_fwd = _time(forward, robot, root_pos, root_quat, q, repeats=repeats)
        t_bwd = _time(grad, root_pos, root_quat, q, robot, repeats=repeats)
        row = {
            "batch": batch,
            "compile_forward_s": compile_fwd,
            "compile_grad_s": compile_bwd,
            "forward_ms": 1e3 * t_fwd,
            "forward_fps": batch / t_fwd,
            "grad_ms": 1e3 * t_bwd,
            "grad_fps": batch / t_bwd,
        }
        rows.append(row)
        print(
            f"{batch:>7} {compile_fwd:>13.2f} {compile_bwd:>13.2f} {row['forward_ms']:>9.3f} "
            f"{row['forward_fps']:>12.0f} {row['grad_ms']:>9.3f} {row['grad_fps']:>12.0f}"
        )

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "robot": args.robot,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "jax": jax.__version__,
        "rows": rows,
    }
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".fk.", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle, indent=2)
    os.replace(tmp, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

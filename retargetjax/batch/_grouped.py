"""The grouped batch path: many clips per solve, one group per device, one compile per shape.

Pending jobs (after the same resume rules as :class:`~retargetjax.batch.BatchRunner`) are
prepared (loaded, scaled; a file that fails here is recorded ``failed`` at once), split by
:meth:`~retargetjax.batch.JobSettings.key` (robot, costs, solver, loader options: jobs with
different settings never share a solve), and packed into **groups**:

* every clip is cut into windows of ``W = solver.window`` frames (overlap ``solver.overlap``;
  the last window padded, masked);
* clips are packed first-fit-decreasing by window count into groups of at most ``G`` windows,
  ``G = min(max_windows, next_pow2(total windows of the key))`` fixed for the whole run, and
  every group is padded with fully masked windows to exactly ``G``; a clip longer than ``G``
  windows is a group of its own of ``next_pow2(its windows)``;
* ``D = len(devices)`` groups make one call: group ``i`` is placed on ``devices[i]`` and
  solved there as one vmapped ``(G, W, …)`` block (dispatched asynchronously to every device
  before any result is awaited, except on CPU, see :func:`solve_groups`). A dataset
  therefore compiles once per (robot, settings, device) — plus once per size of over-long
  clip — whatever its size, and a group's clips give the same result on any device count
  (a group is always solved as the same ``(G, W)`` block).

  (A single program over a device mesh, ``jax.shard_map``, would compile once for all
  devices, but on host-platform CPU devices its concurrent LAPACK solves deadlock.)

After each call every clip is blended back from its windows, written atomically, and its
record goes into the manifest (rewritten atomically, one job at a time). A clip whose solve
is non-finite fails alone; a call that raises is retried one job at a time (same shape, no
recompile), so one bad clip never takes its group down.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..types import RunStatus
from ._models import BatchJob, BatchManifest
from ._runner import _check_jobs, _execute, _ManifestState, _Outcome, _plan, _record
from ._worker import PreparedJob, RetargetWorker

__all__ = ["GroupPlan", "compile_count", "plan_groups", "run_grouped", "solve_groups"]


def compile_count() -> int:
    """Compiled programs of the solver in this process (one per shape, settings and device)."""
    from ..retarget._solver import solve_windows

    return solve_windows._cache_size()


@dataclass(frozen=True)
class _Placed:
    problem: Any
    plan: Any
    first: int  # index of its first window in the call's stack


def solve_groups(
    groups: Sequence[Sequence[Any]],
    robot: Any,
    config: Any,
    devices: Sequence[Any],
    group_windows: int,
) -> list[list[dict[str, Any] | Exception]]:
    """Solve ``groups`` of ``RetargetProblem`` s, group ``i`` on ``devices[i]``, in one call.

    Every group is padded to ``group_windows`` windows of ``config.solver.window`` frames
    (fully masked padding) and missing groups (``len(groups) < len(devices)``) are all
    padding, so the compiled shape is ``(len(devices)·group_windows, window)`` whatever the
    clips.

    Returns:
        Per group, per clip: the solution dict of
        :func:`~retargetjax.retarget.solve_problems` (``root_pos``, ``root_quat``,
        ``joint_pos``, ``final_loss``, ``solve_s``, ``windows``, ``window``,
        ``batch_windows``), or the :class:`~retargetjax.retarget.RetargetError` of a clip
        whose solution is not finite.

    Raises:
        ValueError: more groups than devices, or a group with more than ``group_windows``
            windows.
    """
    import jax
    import jax.numpy as jnp

    from ..retarget import RetargetError
    from ..retarget._solver import WEIGHT_NAMES, SolverStatic, WindowData, solve_windows
    from ..retarget._windows import blend_windows, plan_windows

    sc = config.solver
    window, n_dev = sc.window, len(devices)
    if len(groups) > n_dev:
        raise ValueError(f"{len(groups)} groups for {n_dev} devices; expected at most one each")
    placed: list[list[_Placed]] = []
    for g, problems in enumerate(groups):
        row, first = [], g * group_windows
        for problem in problems:
            plan = plan_windows(problem.num_frames, window, sc.overlap)
            row.append(_Placed(problem, plan, first))
            first += len(plan.starts)
        if first > (g + 1) * group_windows:
            raise ValueError(
                f"group {g} needs {first - g * group_windows} windows; expected at most "
                f"{group_windows}"
            )
        placed.append(row)
    everyone = [s for row in placed for s in row]
    if not everyone:
        return [[] for _ in groups]
    frame_kp = everyone[0].problem.frame_keypoints
    if any(s.problem.frame_keypoints != frame_kp for s in everyone):
        raise RetargetError("problems for one solve must come from the same robot")

    n_total = len(groups) * group_windows
    filler = everyone[0]

    def stack(get: Callable[[_Placed], np.ndarray]) -> np.ndarray:
        pad = get(filler)[:1]
        out = np.repeat(pad, n_total, axis=0).astype(np.float32)
        for s in everyone:
            out[s.first : s.first + len(s.plan.starts)] = get(s)
        return out

    def per_frame(name: str) -> Callable[[_Placed], np.ndarray]:
        return lambda s: getattr(s.problem, name)[s.plan.frame_index()]

    mask = np.zeros((n_total, window), np.float32)
    for s in everyone:
        mask[s.first : s.first + len(s.plan.starts)] = s.plan.mask()
    default_q = np.asarray(robot.default_joint_pos, np.float32)
    data = WindowData(
        target_keypoints=stack(per_frame("target_keypoints")),
        keypoint_weight=stack(per_frame("keypoint_frame_weight")),
        target_frames=stack(per_frame("target_frames")),
        frame_weight=stack(
            lambda s: np.broadcast_to(
                s.problem.frame_weight, (len(s.plan.starts), *s.problem.frame_weight.shape)
            )
        ),
        sole_contact=stack(per_frame("sole_contact")),
        contact=stack(per_frame("contact")),
        mask=mask,
        root_pos=stack(per_frame("root_pos_init")),
        root_quat=stack(per_frame("root_quat_init")),
        joint_pos=np.broadcast_to(default_q, (n_total, window, default_q.shape[0])).astype(
            np.float32
        ),
    )
    static = SolverStatic.from_config(sc, frame_kp)
    weights = np.array([getattr(config.costs, n) for n in WEIGHT_NAMES], np.float32)
    fps = np.asarray(everyone[0].problem.fps, np.float32)
    # Dispatch every device's block before waiting for any (asynchronous dispatch lets the
    # devices run side by side). On CPU the blocks run one after the other: several host
    # "devices" share the same cores, and concurrent LAPACK calls across them can deadlock.
    t0 = time.perf_counter()
    pending = []
    for g, device in enumerate(devices[: len(groups)]):
        block = jax.tree_util.tree_map(
            lambda a, g=g: a[g * group_windows : (g + 1) * group_windows], data
        )
        args = jax.device_put((robot, block, jnp.asarray(weights), jnp.asarray(fps)), device)
        out = solve_windows(*args, static)
        if device.platform == "cpu":
            out = jax.block_until_ready(out)
        pending.append(out)
    blocks = [jax.tree_util.tree_map(np.asarray, jax.block_until_ready(o)) for o in pending]
    x = jax.tree_util.tree_map(lambda *a: np.concatenate(a, axis=0), *[b[0] for b in blocks])
    loss = np.concatenate([b[1] for b in blocks], axis=0)
    solve_s = time.perf_counter() - t0

    lower, upper = np.asarray(robot.joint_lower), np.asarray(robot.joint_upper)
    results: list[list[dict[str, Any] | Exception]] = []
    for row in placed:
        out_row: list[dict[str, Any] | Exception] = []
        for s in row:
            sl = slice(s.first, s.first + len(s.plan.starts))
            root_pos = blend_windows(s.plan, x.root_pos[sl])
            root_quat = blend_windows(s.plan, x.root_quat[sl], reference=s.problem.root_quat_init)
            joint_pos = np.clip(blend_windows(s.plan, x.joint_pos[sl]), lower, upper)
            # A continuous quaternion sign (q and −q are one rotation) suits trackers.
            flips = np.cumsum(np.sum(root_quat[1:] * root_quat[:-1], axis=-1) < 0) % 2
            root_quat[1:] *= np.where(flips[:, None] == 1, -1.0, 1.0)
            arrays = {"root_pos": root_pos, "root_quat": root_quat, "joint_pos": joint_pos}
            bad = [k for k, v in arrays.items() if not np.all(np.isfinite(v))]
            if bad:
                out_row.append(
                    RetargetError(
                        f"the solver produced non-finite {', '.join(bad)}; refusing to write it"
                    )
                )
                continue
            out_row.append(
                {
                    **{k: v.astype(np.float32) for k, v in arrays.items()},
                    "final_loss": float(np.mean(loss[sl])),
                    "solve_s": solve_s,
                    "windows": len(s.plan.starts),
                    "window": window,
                    "batch_windows": group_windows,
                }
            )
        results.append(out_row)
    return results


@dataclass(frozen=True)
class GroupPlan:
    """Jobs of one settings key packed into groups (lists of indices into the prepared jobs)."""

    group_windows: int
    """Windows per group (the compiled block size ``G``)."""
    groups: tuple[tuple[int, ...], ...]
    """Groups of regular size, in solve order."""
    oversized: tuple[tuple[int, int], ...]
    """``(index, group_windows)`` of clips with more than ``G`` windows, solved alone."""


def plan_groups(window_counts: Sequence[int], max_windows: int, group_windows: int | None = None):
    """Pack clips (by window count) into groups of at most ``G`` windows, first-fit
    decreasing; ``G = min(max_windows, next_pow2(sum))`` unless ``group_windows`` is given.

    First-fit decreasing: take clips from most to fewest windows and put each in the first
    group with room, else open a new group; it uses at most ``11/9·OPT + 1`` groups.
    """
    from ..retarget._windows import next_pow2

    if group_windows is None:
        group_windows = min(next_pow2(max_windows), next_pow2(max(1, sum(window_counts))))
    order = sorted(range(len(window_counts)), key=lambda i: (-window_counts[i], i))
    groups: list[list[int]] = []
    room: list[int] = []
    oversized = []
    for i in order:
        n = window_counts[i]
        if n > group_windows:
            oversized.append((i, next_pow2(n)))
            continue
        for g, free in enumerate(room):
            if n <= free:
                groups[g].append(i)
                room[g] -= n
                break
        else:
            groups.append([i])
            room.append(group_windows - n)
    return GroupPlan(group_windows, tuple(tuple(g) for g in groups), tuple(oversized))


def _fail(job: BatchJob, exc: BaseException, started_at: Any) -> Any:
    def raise_it(_: BatchJob) -> None:
        raise exc

    outcome = _execute(raise_it, job)
    return _record(job, outcome._replace(started_at=started_at))


def run_grouped(
    jobs: Iterable[BatchJob],
    worker: RetargetWorker,
    *,
    manifest_path: str | Path,
    force: bool = False,
    input_dir: Path | None = None,
    output_dir: Path | None = None,
    pattern: str = "",
    progress: bool | None = None,
    devices: Sequence[Any] | None = None,
    max_windows: int = 64,
    chunk_jobs: int = 1024,
) -> BatchManifest:
    """Run ``jobs`` like :meth:`BatchRunner.run` (same resume rules and manifest), solving
    many clips per call, one group per device (see the module docstring).

    Args:
        jobs, manifest_path, force, input_dir, output_dir, pattern: as for
            :meth:`~retargetjax.batch.BatchRunner.run`.
        worker: the :class:`RetargetWorker` whose ``prepare``/``finish`` load and write jobs.
        progress: a tqdm bar (jobs, frames/s, ETA); ``None``: only when stderr is a terminal.
        devices: the devices to spread groups over; default ``jax.devices()``.
        max_windows: most windows in one group (per device per call); rounded to a power
            of two. Bigger groups mean fewer calls but more memory and more padding.
        chunk_jobs: jobs prepared (held in memory) at once; groups are formed per chunk.

    Returns:
        The manifest as last written. Records carry, besides the worker's provenance,
        ``device``, ``group`` (``"call:group"``) and ``bucket`` (window, group windows).

    Raises:
        ValueError, ManifestError: as :meth:`BatchRunner.run`, before anything is written.
        KeyboardInterrupt: after the manifest holds every job finished so far.
    """
    import jax
    from tqdm.auto import tqdm

    from ..retarget._windows import plan_windows

    jobs = list(jobs)
    manifest_path = Path(manifest_path)
    _check_jobs(jobs, manifest_path)
    if max_windows < 1 or chunk_jobs < 1:
        raise ValueError(
            f"max_windows and chunk_jobs must be >= 1, got {max_windows} and {chunk_jobs} "
            f"(batch manifest {manifest_path} not touched)"
        )
    devices = list(devices) if devices is not None else list(jax.devices())
    previous = BatchManifest.load(manifest_path) if manifest_path.exists() else None
    state = _ManifestState(
        path=manifest_path,
        jobs=jobs,
        previous=previous,
        input_dir=input_dir,
        output_dir=output_dir,
        pattern=pattern,
    )
    to_run = _plan(jobs, previous, state, force)
    manifest = state.write()

    show = sys.stderr.isatty() if progress is None else progress
    stats = {"frames": 0, "t0": time.perf_counter()}
    group_windows: dict[str, int] = {}  # per settings key: fixed for the run (one shape)
    call_index = 0

    with tqdm(
        total=len(jobs),
        initial=len(jobs) - len(to_run),
        disable=not show,
        unit="job",
        desc="batch",
        dynamic_ncols=True,
    ) as bar:

        def done(record: Any, frames: int = 0) -> None:
            nonlocal manifest
            state.set(record)
            manifest = state.write()
            stats["frames"] += frames
            elapsed = max(time.perf_counter() - stats["t0"], 1e-9)
            bar.set_postfix(
                ok=manifest.success_count,
                failed=manifest.failed_count,
                fps=f"{stats['frames'] / elapsed:.0f}",
                refresh=False,
            )
            bar.update(1)

        for start in range(0, len(to_run), chunk_jobs):
            chunk = to_run[start : start + chunk_jobs]
            by_key: dict[str, list[tuple[PreparedJob, Any]]] = {}
            for job in chunk:
                started_at = _now()
                holder: list[PreparedJob] = []
                outcome = _execute(lambda j, h=holder: h.append(worker.prepare(j)), job)
                if outcome.status is RunStatus.FAILED:
                    done(_record(job, outcome))
                    continue
                prepared = holder[0]
                by_key.setdefault(prepared.settings.key(), []).append((prepared, started_at))

            for key, items in by_key.items():
                config = items[0][0].settings.config
                counts = [
                    len(
                        plan_windows(
                            p.num_frames, config.solver.window, config.solver.overlap
                        ).starts
                    )
                    for p, _ in items
                ]
                plan = plan_groups(counts, max_windows, group_windows.get(key))
                group_windows.setdefault(key, plan.group_windows)
                calls: list[tuple[int, list[tuple[int, ...]]]] = []
                for c in range(0, len(plan.groups), len(devices)):
                    calls.append((plan.group_windows, list(plan.groups[c : c + len(devices)])))
                calls += [(g, [(i,)]) for i, g in plan.oversized]
                for size, groups in calls:
                    _run_call(call_index, size, groups, items, devices, worker, done, bar.write)
                    call_index += 1
    return manifest


def _now() -> Any:
    from ._models import utc_now

    return utc_now()


def _run_call(
    call_index: int,
    size: int,
    groups: list[tuple[int, ...]],
    items: list[tuple[PreparedJob, Any]],
    devices: Sequence[Any],
    worker: RetargetWorker,
    done: Callable[..., None],
    say: Callable[[str], None],
) -> None:
    """Solve one call's groups, then finish (write + record) each job in turn."""
    first = items[groups[0][0]][0]
    robot, config = first.robot, first.settings.config
    try:
        solved = solve_groups(
            [[items[i][0].problem for i in g] for g in groups], robot, config, devices, size
        )
    except Exception as exc:
        jobs_in_call = [i for g in groups for i in g]
        if len(jobs_in_call) == 1:
            prepared, started_at = items[jobs_in_call[0]]
            done(_fail(prepared.job, exc, started_at))
            return
        say(f"group call {call_index} failed ({type(exc).__name__}: {exc}); retrying one by one")
        for i in jobs_in_call:
            _run_call(call_index, size, [(i,)], items, devices, worker, done, say)
        return
    for g, (group, solutions) in enumerate(zip(groups, solved)):
        for i, solution in zip(group, solutions):
            prepared, started_at = items[i]
            if isinstance(solution, Exception):
                done(_fail(prepared.job, solution, started_at))
                continue
            extra = {
                "device": str(devices[g]),
                "group": f"{call_index}:{g}",
                "bucket": {"window": solution["window"], "group_windows": size},
                "group_jobs": len(group),
            }
            finish = functools.partial(worker.finish, prepared, solution, **extra)
            outcome: _Outcome = _execute(lambda _, finish=finish: finish(), prepared.job)
            done(
                _record(prepared.job, outcome._replace(started_at=started_at)), prepared.num_frames
            )

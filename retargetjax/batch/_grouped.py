"""The grouped batch path: many clips per solve, one block per device, one compile per robot.

Pending jobs (after the same resume rules as :class:`~retargetjax.batch.BatchRunner`) are
prepared (loaded, scaled; a file that fails here is recorded ``failed`` at once) and split
by :meth:`~retargetjax.batch.JobSettings.key` (robot, costs, solver, loader options: jobs
with different settings never share a solve). The clips of one key are laid on **rows** of
``W = solver.window`` frames (:func:`plan_rows`):

* longest first, each clip cut into overlapping windows (overlap ``solver.overlap``): its
  full windows on rows of their own, its last piece shorter than ``W`` (a whole short
  clip, or a long clip's tail) on a row shared with other pieces, first fit, each after a
  one-frame masked gap (the solver keeps every scalar per run of valid frames, so pieces
  side by side are solved exactly as if alone);
* the rows are solved in **calls** of ``D·G`` rows (``D = len(devices)``, ``G`` rows per
  device, fixed for the run): rows ``[kDG + iG, kDG + (i+1)G)`` go to ``devices[i]`` as one
  vmapped ``(G, W, …)`` block, dispatched to every device before any result is awaited
  (except on CPU, see :func:`solve_rows`); only the very last block is padded.

Every block of every call has the same shape, so a dataset compiles once per (robot,
settings, device) whatever its clip lengths — a ten-minute clip simply spans several calls
— and since windows are solved independently, outputs do not depend on the device count.
(A single program over a device mesh, ``jax.shard_map``, would compile once for all
devices, but on host-platform CPU devices its concurrent LAPACK solves deadlock.)

As soon as a call has solved a clip's last row, the clip is blended back from its windows,
written atomically, and its record goes into the manifest (rewritten atomically, one job at
a time). A clip whose solution is non-finite fails alone; a call that raises is redone one
clip at a time (same block shape, no recompile), so one bad clip never takes others down.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..types import RunStatus
from ._models import BatchJob, BatchManifest
from ._run_common import (
    Outcome,
    advance,
    check_jobs,
    execute,
    failure,
    make_record,
    progress_bar,
    start_run,
)
from ._worker import PreparedJob, RetargetWorker

__all__ = [
    "RowPlan",
    "compile_count",
    "default_max_windows",
    "plan_rows",
    "run_grouped",
    "solve_rows",
]

CPU_MAX_WINDOWS = 16
"""Rows per device per call on CPU: the solver's frames/s is flat from 1 to 32 windows per
call there (measured on 2 cores), so small blocks only save memory and end padding."""
ACCELERATOR_MAX_WINDOWS = 256
"""Rows per device per call on a GPU/TPU: 65,536 frames per block, enough to fill it."""


def compile_count() -> int:
    """Compiled programs of the solver in this process (one per shape, settings and device)."""
    from ..retarget import solver_compile_count

    return solver_compile_count()


def default_max_windows(devices: Sequence[Any]) -> int:
    """Rows per block when not given: small on CPU, large on an accelerator."""
    if all(getattr(d, "platform", "cpu") == "cpu" for d in devices):
        return CPU_MAX_WINDOWS
    return ACCELERATOR_MAX_WINDOWS


@dataclass(frozen=True)
class RowPlan:
    """Clips of one settings key laid on rows, and the block size they are solved in."""

    slots: tuple[Any, ...]
    """:class:`~retargetjax.retarget.ClipSlot` of each clip (input order)."""
    num_rows: int
    """Rows used (the last call pads up to a whole block)."""
    group_windows: int
    """Rows per device per call (``G``, the compiled block size)."""

    def last_row(self, i: int) -> int:
        """The row after which clip ``i`` is fully solved."""
        return self.slots[i].last_row


def plan_rows(
    num_frames: Sequence[int],
    window: int,
    overlap: int,
    max_windows: int,
    group_windows: int | None = None,
    align: int = 1,
) -> RowPlan:
    """Lay clips (by frame count) on rows, longest first, shared-row pieces starting at
    multiples of ``align`` (:func:`~retargetjax.retarget.row_alignment`);
    ``G = min(next_pow2(max_windows), next_pow2(rows))`` unless ``group_windows`` is given
    (it is fixed once per run).

    Longest first makes the shared rows of short clips first-fit decreasing, which uses at
    most ``11/9·OPT + 1`` rows.
    """
    from ..retarget import next_pow2, plan_clip_rows

    slots, rows = plan_clip_rows(num_frames, window, overlap, align)
    if group_windows is None:
        group_windows = min(next_pow2(max_windows), next_pow2(max(rows, 1)))
    return RowPlan(tuple(slots), rows, group_windows)


def solve_rows(
    problems: Sequence[Any],
    slots: Sequence[Any],
    first_row: int,
    robot: Any,
    config: Any,
    devices: Sequence[Any],
    group_windows: int,
) -> tuple[Any, np.ndarray, list[Any], float]:
    """Solve rows ``[first_row, first_row + D·G)`` of a layout, ``G`` rows per device.

    ``slots[i]`` places ``problems[i]`` (rows outside the call are ignored, so a clip may
    span calls). Returns the rows' solution as a numpy ``FrameState`` of ``(D·G, W, …)``
    arrays, their losses ``(D·G,)``, the device of each row and the call's seconds.
    """
    import jax

    from ..retarget import solve_rows as dispatch_rows

    if not problems:
        raise ValueError("solve_rows needs at least one problem")
    # Dispatch every device's block before waiting for any (asynchronous dispatch lets the
    # devices run side by side). On CPU the blocks run one after the other: several host
    # "devices" share the same cores, and concurrent LAPACK calls across them can deadlock.
    t0 = time.perf_counter()
    pending, row_devices = [], []
    for d, device in enumerate(devices):
        start = first_row + d * group_windows
        out = dispatch_rows(problems, slots, start, group_windows, robot, config, device=device)
        if device.platform == "cpu":
            out = jax.block_until_ready(out)
        pending.append(out)
        row_devices += [device] * group_windows
    blocks = [jax.tree_util.tree_map(np.asarray, jax.block_until_ready(o)) for o in pending]
    x = jax.tree_util.tree_map(lambda *a: np.concatenate(a, axis=0), *[b[0] for b in blocks])
    loss = np.concatenate([b[1] for b in blocks], axis=0)
    return x, loss, row_devices, time.perf_counter() - t0


def _fail(job: BatchJob, exc: BaseException, started_at: Any) -> Any:
    return make_record(job, failure(job, exc, started_at))


class _RowBuffer:
    """Solved rows of one settings key, kept until every clip on them is written."""

    def __init__(self, num_rows: int) -> None:
        self.num_rows = num_rows
        self.x: Any = None
        self.loss = np.zeros(num_rows, np.float32)
        self.device: list[Any] = [None] * num_rows
        self.call = np.zeros(num_rows, np.int64)
        self.solve_s = np.zeros(num_rows, np.float64)

    def put(self, first: int, x: Any, loss: np.ndarray, devices: list[Any], call: int, s: float):
        import jax

        n = min(len(loss), self.num_rows - first)
        if self.x is None:
            self.x = jax.tree_util.tree_map(
                lambda a: np.zeros((self.num_rows, *a.shape[1:]), a.dtype), x
            )
        for mine, theirs in zip(self.x, x):
            mine[first : first + n] = theirs[:n]
        self.loss[first : first + n] = loss[:n]
        self.device[first : first + n] = devices[:n]
        self.call[first : first + n] = call
        self.solve_s[first : first + n] = s / max(n, 1)


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
    max_windows: int | None = None,
    chunk_jobs: int = 1024,
) -> BatchManifest:
    """Run ``jobs`` like :meth:`BatchRunner.run` (same resume rules and manifest), solving
    many clips per call, one block per device (see the module docstring).

    Args:
        jobs, manifest_path, force, input_dir, output_dir, pattern: as for
            :meth:`~retargetjax.batch.BatchRunner.run`.
        worker: the :class:`RetargetWorker` whose ``prepare``/``finish`` load and write jobs.
        progress: a tqdm bar (jobs, frames/s, ETA); ``None``: only when stderr is a terminal.
        devices: the devices to spread blocks over; default ``jax.devices()``.
        max_windows: most rows (windows) per device per call, rounded to a power of two;
            ``None``: :func:`default_max_windows` of ``devices``.
        chunk_jobs: jobs prepared (held in memory) at once; rows are laid out per chunk.

    Returns:
        The manifest as last written. Records carry, besides the worker's provenance,
        ``device`` (of the clip's first row), ``devices``, ``group`` (``"call:device"`` of
        its first row), ``bucket`` (window, rows per block), ``rows`` and ``calls``.

    Raises:
        ValueError, ManifestError: as :meth:`BatchRunner.run`, before anything is written.
        KeyboardInterrupt: after the manifest holds every job finished so far.
    """
    import jax

    jobs = list(jobs)
    manifest_path = Path(manifest_path)
    check_jobs(jobs, manifest_path)
    devices = list(devices) if devices is not None else list(jax.devices())
    if max_windows is None:
        max_windows = default_max_windows(devices)
    if max_windows < 1 or chunk_jobs < 1:
        raise ValueError(
            f"max_windows and chunk_jobs must be >= 1, got {max_windows} and {chunk_jobs} "
            f"(batch manifest {manifest_path} not touched)"
        )
    state, to_run = start_run(
        jobs,
        manifest_path,
        force=force,
        input_dir=input_dir,
        output_dir=output_dir,
        pattern=pattern,
    )
    manifest = state.manifest
    stats = {"frames": 0, "t0": time.perf_counter()}
    group_windows: dict[str, int] = {}  # per settings key: fixed for the run (one shape)
    calls = [0]

    with progress_bar(len(jobs), len(jobs) - len(to_run), progress) as bar:

        def done(record: Any, frames: int = 0) -> None:
            nonlocal manifest
            state.set(record)
            manifest = state.write()
            stats["frames"] += frames
            elapsed = max(time.perf_counter() - stats["t0"], 1e-9)
            advance(bar, manifest, 1, fps=f"{stats['frames'] / elapsed:.0f}")

        for start in range(0, len(to_run), chunk_jobs):
            chunk = to_run[start : start + chunk_jobs]
            by_key: dict[str, list[tuple[PreparedJob, Any]]] = {}
            for job in chunk:
                started_at = _now()
                holder: list[PreparedJob] = []
                outcome = execute(lambda j, h=holder: h.append(worker.prepare(j)), job)
                if outcome.status is RunStatus.FAILED:
                    done(make_record(job, outcome))
                    continue
                prepared = holder[0]
                # Clips with body parts on the floor run more iterations on every frame (the
                # solver's for_clips): they are solved apart, so walks keep their speed.
                from ..retarget import has_floor_contact

                key = prepared.settings.key()
                solver = prepared.settings.config.solver
                if solver.for_clips(True) != solver:
                    key += "|floor" if has_floor_contact(prepared.problem) else "|feet"
                by_key.setdefault(key, []).append((prepared, started_at))
            for key, items in by_key.items():
                from ..retarget import row_alignment

                sc = items[0][0].settings.config.solver
                plan = plan_rows(
                    [p.num_frames for p, _ in items],
                    sc.window,
                    sc.overlap,
                    max_windows,
                    group_windows.get(key),
                    row_alignment(sc),
                )
                first_use = key not in group_windows
                group_windows.setdefault(key, plan.group_windows)

                def status(text: str, robot: str = items[0][0].robot.name) -> None:
                    bar.set_description_str(f"batch ({robot}: {text})", refresh=True)

                if first_use:
                    status("compiling the solver, about 30 s on first use")
                _run_key(plan, items, devices, worker, done, bar.write, calls, status)
                bar.set_description_str("batch", refresh=True)
    return manifest


def _now() -> Any:
    from ._models import utc_now

    return utc_now()


def _run_key(
    plan: RowPlan,
    items: list[tuple[PreparedJob, Any]],
    devices: Sequence[Any],
    worker: RetargetWorker,
    done: Callable[..., None],
    say: Callable[[str], None],
    calls: list[int],
    status: Callable[[str], None] = lambda _: None,
) -> None:
    """Solve one key's rows call by call, finishing each clip once its last row is solved.

    ``status`` is told which rows are being solved (after the first call, which compiles).
    """
    robot, config = items[0][0].robot, items[0][0].settings.config
    G = plan.group_windows
    block = G * len(devices)
    problems = [p.problem for p, _ in items]
    by_last = sorted(range(len(items)), key=lambda i: (plan.last_row(i), i))
    buffer = _RowBuffer(plan.num_rows)
    handled: set[int] = set()
    next_clip = 0
    for first in range(0, plan.num_rows, block):
        stop = first + block
        inside = [
            i for i, s in enumerate(plan.slots) if i not in handled and s.windows_on(first, block)
        ]
        call = calls[0]
        calls[0] += 1
        if first:
            status(f"solving rows {first + 1}-{min(stop, plan.num_rows)} of {plan.num_rows}")
        try:
            x, loss, row_devices, seconds = solve_rows(
                [problems[i] for i in inside],
                [plan.slots[i] for i in inside],
                first,
                robot,
                config,
                devices,
                G,
            )
        except Exception as exc:  # redo its clips one at a time, so only a bad one fails
            say(f"call {call} failed ({type(exc).__name__}: {exc}); redoing its clips alone")
            for i in inside:
                _run_alone(i, items, devices, G, worker, done, calls)
                handled.add(i)
            continue
        buffer.put(first, x, loss, row_devices, call, seconds)
        while next_clip < len(by_last) and plan.last_row(by_last[next_clip]) < stop:
            i = by_last[next_clip]
            next_clip += 1
            if i not in handled:
                handled.add(i)
                _finish(i, items, plan.slots[i], buffer, robot, G, worker, done)


def _finish(
    i: int,
    items: list[tuple[PreparedJob, Any]],
    slot: Any,
    buffer: _RowBuffer,
    robot: Any,
    G: int,
    worker: RetargetWorker,
    done: Callable[..., None],
) -> None:
    from ..retarget import RetargetError, clip_solution

    prepared, started_at = items[i]
    try:
        solution = clip_solution(prepared.problem, slot, buffer.x, buffer.loss, robot)
    except RetargetError as exc:
        done(_fail(prepared.job, exc, started_at))
        return
    rows = slot.rows
    devices = list(dict.fromkeys(str(buffer.device[r]) for r in rows))
    first_row = slot.row
    first_device = buffer.device[first_row]
    share = slot.plan.lengths() / slot.plan.window  # of each row's time, by frames
    solution.update(
        solve_s=float(np.sum(buffer.solve_s[rows] * share)),
        window=int(buffer.x.root_pos.shape[1]),
        batch_windows=G,
    )
    extra = {
        "device": str(first_device),
        "devices": devices,
        "group": f"{int(buffer.call[first_row])}:{first_device.id}",
        "bucket": {"window": solution["window"], "group_windows": G},
        "rows": len(slot.plan.starts),
        "calls": sorted({int(c) for c in buffer.call[rows]}),
    }
    finish = functools.partial(worker.finish, prepared, solution, **extra)
    outcome: Outcome = execute(lambda _: finish(), prepared.job)
    done(make_record(prepared.job, outcome._replace(started_at=started_at)), prepared.num_frames)


def _run_alone(
    i: int,
    items: list[tuple[PreparedJob, Any]],
    devices: Sequence[Any],
    G: int,
    worker: RetargetWorker,
    done: Callable[..., None],
    calls: list[int],
) -> None:
    """One clip on its own rows (same block shape), after a shared call failed."""
    from ..retarget import plan_clip_rows

    prepared, started_at = items[i]
    config = prepared.settings.config
    slots, num_rows = plan_clip_rows(
        [prepared.num_frames], config.solver.window, config.solver.overlap
    )
    buffer = _RowBuffer(num_rows)
    try:
        for first in range(0, num_rows, G * len(devices)):
            call = calls[0]
            calls[0] += 1
            x, loss, row_devices, seconds = solve_rows(
                [prepared.problem], slots, first, prepared.robot, config, devices, G
            )
            buffer.put(first, x, loss, row_devices, call, seconds)
    except Exception as exc:
        done(_fail(prepared.job, exc, started_at))
        return
    _finish(0, [items[i]], slots[0], buffer, prepared.robot, G, worker, done)

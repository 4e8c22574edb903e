"""``retargetjax-batch``: retarget a whole dataset, resumably.

retargetjax-batch input_dir=DIR pattern='**/*.bvh' output_dir=OUT robot=unitree_g1
retargetjax-batch input_dir=DIR output_dir=OUT force=true          # redo everything
retargetjax-batch input_dir=DIR output_dir=OUT shard=2/8           # one machine's share
retargetjax-batch-merge OUT/manifest.shard-*-of-8.json -o OUT/manifest.json
retargetjax-batch -m input_dir=DIR costs.smooth=0.1,1,10           # a sweep (own output dirs)
retargetjax-batch -m input_dir=DIR output_dir=OUT costs.smooth=0.1,10   # OUT/0, OUT/1

The manifest (``OUT/manifest.json`` unless ``manifest_path=``) is rewritten after every job;
rerunning the command resumes. Each run also writes ``summary.json`` in its Hydra output
folder (``retargetjax-sweep`` gathers those of a sweep into one table). In a ``-m`` sweep
every run gets its own output folder (``output_dir/<run number>`` when ``output_dir`` is
given), so no run resumes from another's outputs. Mistakes print one ``error:`` line (exit
1; ``--verbose`` shows the traceback); Ctrl-C prints how many jobs are done (exit 130).
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from . import configs_dir
from ._cli import ArgumentParser, precheck_overrides, quiet_logs, take_verbose_flag, user_errors

log = logging.getLogger("retargetjax")

__all__ = ["main", "merge_main", "run_batch", "summarize_manifest"]


def _hydra_output_dir() -> Path | None:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    return Path(HydraConfig.get().runtime.output_dir)


def _task_overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return list(HydraConfig.get().overrides.task)


def run_batch(cfg: DictConfig, *, overrides: Sequence[str] | None = None) -> dict[str, Any]:
    """Discover the jobs ``cfg`` describes, run them, and return a summary dict.

    Args:
        cfg: a config composed from ``configs/batch.yaml``.
        overrides: the overrides ``cfg`` was composed with (to recompose per-job experiment
            files on top of them); default: the running Hydra app's task overrides.

    Returns:
        Counts per status, frames, wall time, frames/s, mean final loss (and mean metrics
        when ``metrics=true``), the manifest path and the failed jobs' messages.
    """
    from ..batch import BatchRunner, RetargetWorker, discover_jobs, run_grouped
    from ..batch._shards import select_shard, shard_manifest_name
    from ..compile_cache import enable_compile_cache
    from ..io import check_output_path

    t0 = time.perf_counter()
    input_dir = Path(str(cfg.input_dir))  # a missing input_dir raises here, first
    run_dir = _hydra_output_dir()
    output_dir = Path(cfg.output_dir) if cfg.get("output_dir") else None
    if output_dir is None:
        output_dir = (run_dir or Path("outputs/batch")) / "retargeted"
    elif _job_number() is not None:  # one run of a -m sweep: never share outputs
        output_dir = output_dir / str(_job_number())
    output_format = str(cfg.get("output_format", "npz")).lstrip(".")
    if output_format not in ("npz", "csv", "pkl"):
        raise ValueError(f"output_format={output_format}: unknown format; expected npz, csv or pkl")
    check_output_path(output_dir / "manifest.json", None)  # a writable folder, before any work
    enable_compile_cache(cfg.get("compile_cache"))
    # With an experiment, each job's robot comes from the experiment (composed per job).
    robot = None if cfg.get("experiment") or cfg.robot.get("path") else cfg.robot.name
    jobs = discover_jobs(
        input_dir,
        str(cfg.pattern),
        output_dir,
        output_suffix="." + output_format,
        motion_format=cfg.motion.get("format"),
        robot=robot,
        config_path=cfg.get("experiment"),
    )
    manifest_name = "manifest.json"
    if cfg.get("shard"):
        jobs = select_shard(jobs, str(cfg.shard))
        manifest_name = shard_manifest_name(str(cfg.shard))
    manifest_path = Path(cfg.manifest_path) if cfg.get("manifest_path") else None
    manifest_path = manifest_path or output_dir / manifest_name
    worker = RetargetWorker.from_hydra(
        cfg,
        overrides=_task_overrides() if overrides is None else overrides,
        metrics=bool(cfg.get("metrics", False)),
    )
    _check_robot(worker, jobs)  # an unusable robot file: one error line, before any job
    common = {
        "manifest_path": manifest_path,
        "force": bool(cfg.force),
        "input_dir": input_dir,
        "output_dir": output_dir,
        "pattern": str(cfg.pattern),
        "progress": cfg.get("progress"),
    }
    _INTERRUPT["manifest"], _INTERRUPT["total"] = manifest_path, len(jobs)
    print(
        f"{len(jobs)} job(s) from {input_dir} ({cfg.pattern}) -> {output_dir}; the solver "
        "compiles once per robot first (about 30 s; compile_cache=DIR reuses it)",
        file=sys.stderr,
        flush=True,
    )
    if cfg.get("mode", "grouped") == "pool":
        manifest = BatchRunner.run(
            jobs, worker, max_workers=int(cfg.get("max_workers") or 1), **common
        )
    elif cfg.get("mode", "grouped") == "grouped":
        import jax

        from ..batch import default_max_windows

        devices = jax.devices()
        if cfg.get("num_devices"):
            devices = devices[: int(cfg.num_devices)]
        rows = int(cfg.max_windows) if cfg.get("max_windows") else default_max_windows(devices)
        kinds = sorted({getattr(d, "device_kind", d.platform) for d in devices})
        print(
            f"devices: {len(devices)} × {', '.join(kinds)} ({devices[0].platform}); "
            f"up to {rows} rows of {cfg.solver.window} frames per block and device",
            file=sys.stderr,
            flush=True,
        )
        manifest = run_grouped(
            jobs,
            worker,
            devices=devices,
            max_windows=int(cfg.max_windows) if cfg.get("max_windows") else None,
            chunk_jobs=int(cfg.chunk_jobs),
            **common,
        )
    else:
        raise ValueError(f"mode={cfg.mode!r}: expected 'grouped' or 'pool'")
    summary = summarize_manifest(manifest, only={job.id for job in jobs})
    _warn_other_settings(manifest, {job.id for job in jobs}, worker)
    summary.update(
        {
            "manifest": str(manifest_path),
            "output_dir": str(output_dir),
            "wall_s": time.perf_counter() - t0,
        }
    )
    summary["run_frames_per_s"] = summary["run_frames"] / max(summary["wall_s"], 1e-9)
    if run_dir is not None:
        from ..batch import write_json_atomic

        write_json_atomic(run_dir / "summary.json", summary)
    return summary


def _check_robot(worker: Any, jobs: Sequence[Any]) -> None:
    """Load every robot the jobs use (once per process, cached for the jobs themselves).

    A robot file that cannot be used is the run's mistake, not the clips': it raises here
    (one ``error:`` line from :func:`user_errors`) before anything starts and before the
    manifest is written, instead of failing every clip with the same message. Jobs whose
    settings come from an experiment file are left to the run (composing those settings
    can fail per job, and is reported per job).
    """
    from ..batch._worker import _robot

    robots = {(worker.settings.robot, worker.settings.robot_keypoints)} if not jobs else set()
    for job in jobs:
        if job.config_path is None:
            settings = worker.settings_for(job)
            robots.add((settings.robot, settings.robot_keypoints))
    for target, keypoints in sorted(robots, key=str):
        _robot(target, keypoints)


def _job_number() -> int | None:
    """The run's number in a ``-m`` sweep, ``None`` outside one."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return int(HydraConfig.get().job.num)


#: What a Ctrl-C report needs: the manifest being written and the number of jobs.
_INTERRUPT: dict[str, Any] = {}


def _interrupted() -> str:
    from ..batch import BatchManifest

    path, total = _INTERRUPT.get("manifest"), _INTERRUPT.get("total")
    if path is None:
        return ""
    done = 0
    if Path(path).is_file():
        manifest = BatchManifest.load(path)
        done = manifest.success_count + manifest.skipped_count
    return f"{done} of {total} done, rerun the same command to resume"


def _warn_other_settings(manifest: Any, ids: set[str], worker: Any) -> None:
    """Warn when outputs kept from an earlier run were made with other settings."""
    if worker.settings.experiment is not None:
        return
    key = worker.settings.key()
    other = [
        r
        for r in manifest.records
        if r.job_id in ids
        and r.provenance.get("resumed")
        and r.provenance.get("config_hash") not in (None, key)
    ]
    if other:
        print(
            f"warning: {len(other)} output(s) kept from an earlier run were made with other "
            f"settings (config hash {other[0].provenance['config_hash']}, this run {key}); "
            "force=true redoes them, or give this run another output_dir",
            file=sys.stderr,
        )


def summarize_manifest(manifest: Any, only: set[str] | None = None) -> dict[str, Any]:
    """Counts, frames and mean loss/metrics of a manifest's records (``only``: these ids).

    ``success`` counts jobs solved by this run, ``resumed`` the skipped jobs an earlier run
    solved (their outputs count in ``frames``, the loss and the metrics; ``run_frames`` is
    this run's share).
    """
    records = [r for r in manifest.records if only is None or r.job_id in only]
    fresh = [r for r in records if r.status.value == "success"]
    resumed = [r for r in records if r.status.value == "skipped" and r.provenance.get("resumed")]
    ok = fresh + resumed  # every output this run's settings stand behind
    losses = [r.provenance["final_loss"] for r in ok if "final_loss" in r.provenance]
    summary: dict[str, Any] = {
        "jobs": len(records),
        "success": len(fresh),
        "skipped": sum(r.status.value == "skipped" for r in records),
        "failed": sum(r.status.value == "failed" for r in records),
        "resumed": len(resumed),
        "frames": int(sum(r.provenance.get("frames", 0) for r in ok)),
        "run_frames": int(sum(r.provenance.get("frames", 0) for r in fresh)),
        "final_loss_mean": statistics.fmean(losses) if losses else None,
    }
    metric_files = [Path(r.provenance["metrics"]) for r in ok if r.provenance.get("metrics")]
    values: dict[str, list[float]] = {}
    for path in metric_files:
        if path.is_file():
            for key, value in json.loads(path.read_text()).items():
                values.setdefault(key, []).append(float(value))
    for key, vals in sorted(values.items()):
        summary[f"{key}_mean"] = statistics.fmean(vals)
    summary["failures"] = {
        r.job_id: f"{r.error_type}: {r.message}" for r in records if r.status.value == "failed"
    }
    return summary


def _print_table(summary: dict[str, Any]) -> None:
    rows = [(k, v) for k, v in summary.items() if k != "failures"]
    width = max(len(k) for k, _ in rows)
    print("-" * (width + 30))
    for key, value in rows:
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"{key:>{width}} | {shown}")
    failures = summary.get("failures") or {}
    if failures:
        print(f"{'failed jobs':>{width}} |")
        for job_id, message in list(failures.items())[:20]:
            print(f"  {job_id}: {message[:200]}")
        if len(failures) > 20:
            print(f"  … and {len(failures) - 20} more (see the manifest)")
    print("-" * (width + 30))


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="batch")
def _hydra_main(cfg: DictConfig) -> float:
    quiet_logs()
    with user_errors(_interrupted):
        summary = run_batch(cfg)
    _print_table(summary)
    loss = summary.get("keypoint_error_mean_m_mean", summary.get("final_loss_mean"))
    return float(loss) if loss is not None else float("nan")


def _check_launcher(argv: Sequence[str]) -> None:
    """A SLURM launcher on a machine without SLURM: one line saying how to run here."""
    import shutil

    for arg in argv:
        if arg.startswith("hydra/launcher=submitit_slurm") and shutil.which("sbatch") is None:
            print(
                f"error: {arg}: SLURM is not available on this machine (no sbatch on PATH); "
                "expected a SLURM login node. To run here, drop hydra/launcher=... (the runs "
                "go one after another) or use hydra/launcher=submitit_local",
                file=sys.stderr,
            )
            raise SystemExit(1)


def main() -> None:
    """Console entry point (``retargetjax-batch``); ``--verbose`` shows tracebacks."""
    take_verbose_flag()
    _check_launcher(sys.argv[1:])
    precheck_overrides("batch")
    _hydra_main()


def merge_main(argv: Sequence[str] | None = None) -> int:
    """``retargetjax-batch-merge SHARD.json… -o OUT.json``: join shard manifests."""
    from ..batch._shards import merge_manifests

    parser = ArgumentParser(
        prog="retargetjax-batch-merge", description="Merge shard manifests into one."
    )
    parser.add_argument("manifests", nargs="+", type=Path, help="shard manifest files")
    parser.add_argument("-o", "--output", type=Path, required=True, help="merged manifest")
    args = parser.parse_args(argv)
    with user_errors():
        merged = merge_manifests(args.manifests, args.output)
    print(
        f"{args.output}: {len(merged.records)} job(s), {merged.success_count} success, "
        f"{merged.skipped_count} skipped, {merged.failed_count} failed"
    )
    return 0 if merged.failed_count == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "merge":
        sys.exit(merge_main(sys.argv[2:]))
    main()

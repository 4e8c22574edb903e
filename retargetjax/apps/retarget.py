"""``retargetjax-retarget``: retarget one motion file onto one robot.

retargetjax-retarget motion.path=PATH robot=unitree_g1 output=OUT.npz [fps=50]
retargetjax-retarget motion.path=PATH robot.path=my_robot.urdf output=OUT.npz
retargetjax-retarget -m motion.path=PATH costs.smooth=0.1,1,10     # a Hydra sweep

In a sweep (``-m``) each run writes its output, metrics and ``summary.json`` in its own
folder (``multirun/retargetjax-retarget/DATE/N/``); ``retargetjax-sweep`` gathers them.
Mistakes (a missing file, a bad value or output path) print one ``error:`` line and exit 1
(``--verbose`` or ``HYDRA_FULL_ERROR=1`` shows the traceback).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import zipfile
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from ..io import atomic_write
from . import configs_dir
from ._cli import precheck_overrides, quiet_logs, take_verbose_flag, user_errors

log = logging.getLogger("retargetjax")

__all__ = ["main", "output_path", "print_summary", "run_retarget"]


def config_from_hydra(cfg: DictConfig) -> Any:
    """The solver's :class:`~retargetjax.retarget.RetargetConfig` from a composed config."""
    from ..retarget import RetargetConfig

    return RetargetConfig.model_validate(
        {
            "costs": OmegaConf.to_container(cfg.costs, resolve=True),
            "solver": OmegaConf.to_container(cfg.solver, resolve=True),
        }
    )


def load_robot_from_config(cfg: DictConfig) -> Any:
    """The robot a config names: ``robot.path`` when given, else the bundled ``robot.name``."""
    from ..robot import load_robot

    target = cfg.robot.get("path") or cfg.robot.name
    return load_robot(target, keypoints_yaml=cfg.robot.get("keypoints"))


def _hydra_run() -> tuple[Path | None, bool]:
    """The running Hydra job's output folder and whether it is one run of a ``-m`` sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None, False
    hydra_cfg = HydraConfig.get()
    return Path(hydra_cfg.runtime.output_dir), hydra_cfg.mode == RunMode.MULTIRUN


def output_path(cfg: DictConfig, robot_name: str) -> Path:
    """Where the result goes: ``output`` or ``outputs/<clip>_<robot>.npz``; in a ``-m`` sweep,
    inside each run's own folder (so the runs never overwrite each other)."""
    run_dir, multirun = _hydra_run()
    default = f"{Path(str(cfg.motion.path)).stem}_{robot_name}.npz"
    if not multirun or run_dir is None:
        return Path(cfg.output) if cfg.get("output") else Path("outputs") / default
    output = Path(cfg.output) if cfg.get("output") else Path(default)
    if output.is_absolute():
        raise ValueError(
            f"output={output}: every run of this -m sweep would write this one file; expected "
            "a relative path (each run writes it in its own folder) or no output="
        )
    return run_dir / output


def run_retarget(cfg: DictConfig, *, status: bool = True) -> dict[str, Any]:
    """Retarget ``cfg.motion.path`` onto the configured robot; write the output and metrics.

    The output path is checked (format, writable folder) before anything is loaded or
    compiled. With ``status``, what the run is doing is printed to stderr while it waits.

    Returns a summary dict (output path, frames, seconds, final loss, metrics path and
    headline metrics).
    """
    from ..compile_cache import enable_compile_cache
    from ..io import RobotMotion, check_output_path
    from ..motion import load_motion, map_keypoints
    from ..retarget import retarget
    from ._cli import Status

    t0 = time.perf_counter()
    motion_path = Path(str(cfg.motion.path))  # a missing motion.path raises here, first
    robot_name = str(cfg.robot.get("name") or Path(str(cfg.robot.get("path"))).stem)
    check_output_path(output_path(cfg, robot_name))
    if not motion_path.is_file():
        raise FileNotFoundError(2, "no such file; expected a motion file", str(motion_path))
    cache = cfg.get("compile_cache")
    enable_compile_cache(cache)
    robot = load_robot_from_config(cfg)
    output = check_output_path(output_path(cfg, robot.name))
    options = cfg.motion.get("options")
    options = OmegaConf.to_container(options, resolve=True) if options is not None else {}
    try:
        motion = load_motion(motion_path, format=cfg.motion.get("format"), **options)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(
            f"{motion_path}: cannot read the file ({exc}); expected a complete motion file"
        ) from exc
    map_keypoints(motion, override=cfg.motion.get("keypoints"))  # printed once, here
    config = config_from_hydra(cfg)
    compile_note = (
        f"the solver comes from compile_cache={cache} when it holds it"
        if cache
        else "compiling the solver first, about 30 s on first use; compile_cache=DIR reuses it"
    )
    text = (
        f"solving {motion.num_frames} frames of {motion_path.name} on {robot.name} ({compile_note})"
    )
    with Status(text) if status else contextlib.nullcontext():
        result: RobotMotion = retarget(
            motion, robot, config, keypoint_override=cfg.motion.get("keypoints")
        )
    scale = result.metadata.get("scale", {})
    print("scale (robot/human): " + _scale_text(scale))
    if cfg.get("fps"):
        result = result.resample(float(cfg.fps))
    result.save(output)
    summary: dict[str, Any] = {
        "output": str(output),
        "frames": result.num_frames,
        "final_loss": result.metadata.get("solver", {}).get("final_loss"),
    }
    if cfg.get("metrics", True):
        metrics = _metrics(result, robot, motion, config, cfg.motion.get("keypoints"))
        metrics_path = output.with_suffix(".metrics.json")
        with atomic_write(metrics_path, "w") as handle:
            handle.write(json.dumps(metrics, indent=2, sort_keys=True))
        summary["metrics"] = str(metrics_path)
        summary.update({k: metrics[k] for k in _HEADLINE if k in metrics})
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    run_dir, _ = _hydra_run()
    if run_dir is not None:  # retargetjax-sweep gathers these into one table
        from ..batch import write_json_atomic

        write_json_atomic(run_dir / "summary.json", summary)
    return summary


def _scale_text(scale: dict[str, float]) -> str:
    """Scale factors, a left/right pair with one value shown once (``hip->knee=0.72``)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for key, value in scale.items():
        both = key.replace("left_", "").replace("right_", "")
        groups.setdefault(both, []).append((key, f"{value:.2f}"))
    parts = []
    for both, items in groups.items():
        if len({text for _, text in items}) == 1:
            parts.append(f"{both}={items[0][1]}")
        else:
            parts += [f"{key}={text}" for key, text in items]
    return ", ".join(parts)


def print_summary(summary: dict[str, Any]) -> None:
    """The summary, one ``key: value`` per line, numbers rounded to 4 significant digits."""
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"{key:>{width}}: {shown}")


_HEADLINE = (
    "keypoint_error_mean_m",
    "foot_skate_mean_mm_per_frame",
    "ground_penetration_max_m",
    "self_penetration_max_m",
    "joint_limit_violations",
)


def _metrics(
    result: Any, robot: Any, motion: Any, config: Any, override: Any = None
) -> dict[str, float]:
    """Metrics of ``result`` against the scaled human targets at the output's own rate
    (mapped with the solve's own keypoint ``override``)."""
    from ..evaluation import compute_metrics, human_reference

    ref = human_reference(
        motion, robot, result.num_frames, result.fps, config=config, keypoint_override=override
    )
    return compute_metrics(
        result, robot, targets=ref.targets, target_weight=ref.target_weight, contact=ref.contact
    )


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="retarget")
def _hydra_main(cfg: DictConfig) -> float:
    quiet_logs()
    with user_errors():
        summary = run_retarget(cfg)
    print_summary(summary)
    return float(summary.get("keypoint_error_mean_m", summary.get("final_loss") or 0.0))


def main() -> None:
    """Console entry point (``retargetjax-retarget``); ``--verbose`` shows tracebacks."""
    take_verbose_flag()
    precheck_overrides("retarget")
    _hydra_main()


if __name__ == "__main__":
    main()

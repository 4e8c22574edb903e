"""``retargetjax-retarget``: retarget one motion file onto one robot.

retargetjax-retarget motion.path=PATH robot=unitree_g1 output=OUT.npz [fps=50]
retargetjax-retarget motion.path=PATH robot.path=my_robot.urdf output=OUT.npz
retargetjax-retarget -m motion.path=PATH costs.smooth=0.1,1,10     # a Hydra sweep
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from ..io import atomic_write
from . import configs_dir

log = logging.getLogger("retargetjax")

__all__ = ["main", "run_retarget"]


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


def run_retarget(cfg: DictConfig) -> dict[str, Any]:
    """Retarget ``cfg.motion.path`` onto the configured robot; write the output and metrics.

    Returns a summary dict (output path, metrics path, keypoint error, frames/s).
    """
    from ..compile_cache import enable_compile_cache
    from ..io import RobotMotion
    from ..motion import load_motion
    from ..retarget import retarget

    t0 = time.perf_counter()
    enable_compile_cache(cfg.get("compile_cache"))
    robot = load_robot_from_config(cfg)
    options = cfg.motion.get("options")
    options = OmegaConf.to_container(options, resolve=True) if options is not None else {}
    motion = load_motion(cfg.motion.path, format=cfg.motion.get("format"), **options)
    config = config_from_hydra(cfg)
    result: RobotMotion = retarget(
        motion, robot, config, keypoint_override=cfg.motion.get("keypoints")
    )
    scale = result.metadata.get("scale", {})
    log.info(
        "scale factors (robot / human): %s", ", ".join(f"{k} {v:.3f}" for k, v in scale.items())
    )
    print("scale (robot/human): " + ", ".join(f"{k}={v:.2f}" for k, v in scale.items()))
    if cfg.get("fps"):
        result = result.resample(float(cfg.fps))
    output = (
        Path(cfg.output)
        if cfg.get("output")
        else (Path("outputs") / f"{Path(cfg.motion.path).stem}_{robot.name}.npz")
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    result.save(output)
    elapsed = time.perf_counter() - t0
    summary: dict[str, Any] = {
        "output": str(output),
        "frames": result.num_frames,
        "seconds": elapsed,
        "final_loss": result.metadata.get("solver", {}).get("final_loss"),
    }
    if cfg.get("metrics", True):
        metrics = _metrics(result, robot, motion, config)
        metrics_path = output.with_suffix(".metrics.json")
        with atomic_write(metrics_path, "w") as handle:
            handle.write(json.dumps(metrics, indent=2, sort_keys=True))
        summary["metrics"] = str(metrics_path)
        summary.update({k: metrics[k] for k in _HEADLINE if k in metrics})
    return summary


_HEADLINE = (
    "keypoint_error_mean_m",
    "foot_skate_mean_mm_per_frame",
    "ground_penetration_max_m",
    "self_penetration_max_m",
    "joint_limit_violations",
)


def _metrics(result: Any, robot: Any, motion: Any, config: Any) -> dict[str, float]:
    """Metrics of ``result`` against the scaled human targets at the output's own rate."""
    from ..evaluation import compute_metrics, human_reference

    ref = human_reference(motion, robot, result.num_frames, result.fps, config=config)
    return compute_metrics(
        result, robot, targets=ref.targets, target_weight=ref.target_weight, contact=ref.contact
    )


@hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name="retarget")
def main(cfg: DictConfig) -> float:
    """Console entry point; returns the mean keypoint error (for sweeps)."""
    summary = run_retarget(cfg)
    for key, value in summary.items():
        print(f"{key:>32}: {value}")
    return float(summary.get("keypoint_error_mean_m", summary.get("final_loss") or 0.0))


if __name__ == "__main__":
    main()

"""``retargetjax-inspect``: see how a rig and a robot are mapped, before retargeting.

retargetjax-inspect motion.path=PATH [robot=unitree_g1 | robot.path=my_robot.urdf]
                    [robot.keypoints=YAML] [motion.keypoints=YAML] [motion.format=bvh]
                    [+motion.options.NAME=VALUE ...] [output=inspect.png]

Prints the mapping tables (every canonical keypoint, the joint or body chosen and why:
``topology``, ``name``, ``yaml``, ``registry``; then what is missing) and, with both a motion
and a robot, the scale factors; writes one PNG: the human's first frame and the robot's rest
pose side by side, canonical keypoints drawn and labelled, left in blue and right in red.
Either side may be left out. Loader options are spelled as for ``retargetjax-retarget``
(``+motion.options.fps=20 +motion.options.up_axis=y``, ``+motion.options.body_model=PATH``;
the ``+`` may be left out here). Bad input is one line ``error: <file>: <what>; expected …``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._cli import arguments_without_verbose, quiet_logs, user_errors
from .evaluate import parse_key_values

__all__ = ["inspect_mapping", "main"]

_LEFT, _RIGHT, _CENTRE = "tab:blue", "tab:red", "black"
_OPTIONS = "motion.options."


def option_value(text: str) -> Any:
    """A ``motion.options.*`` value parsed as Hydra parses it for ``retargetjax-retarget``:
    ``20`` → int, ``y`` → str, ``[a,b]`` → list, ``true`` → bool."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_override(f"value={text}").value()
    except Exception as exc:
        raise ValueError(f"cannot parse the value ({' '.join(str(exc).split())})") from None


def _colour(name: str) -> str:
    if name.startswith("left_"):
        return _LEFT
    if name.startswith("right_"):
        return _RIGHT
    return _CENTRE


def _short(name: str) -> str:
    return name.replace("left_", "L ").replace("right_", "R ")


def _draw(ax: Any, points: np.ndarray, parents: Sequence[int], kp: dict[str, np.ndarray]) -> None:
    for i, p in enumerate(parents):
        if p >= 0:
            seg = points[[p, i]]
            ax.plot(seg[:, 0], seg[:, 1], seg[:, 2], color="0.7", lw=1.2)
    for name, xyz in kp.items():
        ax.scatter(*xyz, color=_colour(name), s=28, depthshade=False)
        ax.text(*xyz, " " + _short(name), color=_colour(name), fontsize=6)
    everything = np.concatenate([points, np.array(list(kp.values())).reshape(-1, 3)])
    centre = 0.5 * (everything.max(0) + everything.min(0))
    radius = 0.55 * float(np.max(everything.max(0) - everything.min(0)))
    ax.set_xlim(centre[0] - radius, centre[0] + radius)
    ax.set_ylim(centre[1] - radius, centre[1] + radius)
    ax.set_zlim(centre[2] - radius, centre[2] + radius)
    ax.set_box_aspect((1, 1, 1))
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_zlabel("z (m)")


def inspect_mapping(
    motion: Any = None,
    robot: Any = None,
    output: str | Path = "inspect.png",
    *,
    motion_keypoints: Any = None,
) -> dict[str, Any]:
    """Print the mapping tables (and scale factors), write the PNG; returns what was shown.

    ``motion`` is a ``HumanMotion`` or ``None``, ``robot`` a ``RobotModel`` or ``None``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result: dict[str, Any] = {"output": str(output)}
    panels: list[tuple[str, np.ndarray, Sequence[int], dict[str, np.ndarray]]] = []
    if motion is not None:
        from ..motion import map_keypoints

        kp = map_keypoints(motion, override=motion_keypoints)  # prints the table once
        label = motion.source.name if motion.source is not None else "motion"
        result["human"] = kp.as_report()
        frame = motion.positions[0]
        panels.append(
            (
                f"human: {label} (frame 0)",
                frame,
                [int(p) for p in motion.parents],
                {n: frame[j] for n, j in zip(kp.names, kp.joint_index)},
            )
        )
    if robot is not None:
        import jax.numpy as jnp

        from ..robot import forward_kinematics, keypoint_positions, robot_mapping

        print(robot.mapping_report or f"robot {robot.name}")
        result["robot"] = robot_mapping(robot)
        fk = forward_kinematics(
            robot,
            jnp.asarray(robot.default_root_pos),
            jnp.asarray(robot.default_root_quat),
            jnp.asarray(robot.default_joint_pos),
        )
        pos = np.asarray(fk.pos, np.float64)
        kps = np.asarray(keypoint_positions(robot, fk), np.float64)
        panels.append(
            (
                f"robot: {robot.name} (rest pose)",
                pos,
                list(robot.body_parents),
                dict(zip(robot.keypoint_names, kps)),
            )
        )
    if motion is not None and robot is not None:
        from ..retarget import RetargetConfig, prepare_problem

        short = motion.trim(0, min(motion.num_frames, 60))
        problem = prepare_problem(
            short, robot, RetargetConfig(), keypoint_override=motion_keypoints
        )
        result["scale"] = dict(problem.scale)
        print(
            "scale (robot / human): " + ", ".join(f"{k}={v:.2f}" for k, v in problem.scale.items())
        )
    if not panels:
        raise ValueError("nothing to inspect; expected motion.path= and/or robot= (robot.path=)")
    fig = plt.figure(figsize=(6 * len(panels), 6.5))
    for k, (title, points, parents, kp) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1, projection="3d")
        _draw(ax, points, parents, kp)
        ax.set_title(title, fontsize=9)
        ax.view_init(elev=12, azim=-60)
    fig.text(0.5, 0.01, "left: blue   right: red   centre: black", ha="center", fontsize=8)
    fig.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=110)
    plt.close(fig)
    print(f"wrote {output}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (``retargetjax-inspect``); ``--verbose`` shows tracebacks.

    A user's mistake is one ``error:`` line and exit status 1, as in every app
    (:func:`~._cli.user_errors`).
    """
    usage = "usage: " + "\n".join(
        ln for ln in (__doc__ or "").splitlines() if ln.startswith(("retargetjax", "    "))
    )
    args = parse_key_values(
        arguments_without_verbose(argv),
        {
            "motion.path": str,
            "motion.format": str,
            "motion.keypoints": str,
            "robot": str,
            "robot.name": str,
            "robot.path": str,
            "robot.keypoints": str,
            "output": str,
            _OPTIONS + "*": option_value,
        },
        [],
        usage,
    )
    from ..motion import load_motion
    from ..robot import load_robot

    quiet_logs()
    with user_errors():
        motion = None
        options = {k[len(_OPTIONS) :]: v for k, v in args.items() if k.startswith(_OPTIONS)}
        if args.get("motion.path"):
            motion = load_motion(args["motion.path"], format=args.get("motion.format"), **options)
        elif options:
            raise ValueError(f"{', '.join(options)} given without a motion; expected motion.path=")
        robot = None
        target = args.get("robot.path") or args.get("robot") or args.get("robot.name")
        if target:
            robot = load_robot(target, keypoints_yaml=args.get("robot.keypoints"), verbose=False)
        if motion is None and robot is None:
            raise SystemExit(
                f"error: nothing to inspect; expected motion.path= and/or robot=\n\n{usage}"
            )
        stem = "_".join(Path(str(x)).stem for x in (args.get("motion.path"), target) if x)
        output = args.get("output") or f"inspect_{stem}.png"
        inspect_mapping(motion, robot, output, motion_keypoints=args.get("motion.keypoints"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Headless video of a robot clip beside the human it follows (matplotlib, no display).

Left panel: the robot, its collision capsules drawn as thick segments (radius-scaled) over a
stick figure of its links (each body joined to its parent). Right panel: the human skeleton,
drawn from the scaled keypoint targets (the human at the robot's size, where the robot is
asked to put its keypoints), when the human source is known. Both cameras follow the robot's
root: every frame is centred on the root's ground projection. Written with matplotlib's
``PillowWriter`` (``.gif``, Pillow ships with matplotlib) or ``FFMpegWriter`` (``.mp4``, with
the ffmpeg binary of the ``imageio-ffmpeg`` package, or one on ``PATH``). The file is written
to a temporary name in the same folder and moved into place.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..types import NDArray

__all__ = ["HUMAN_BONES", "RenderResult", "ffmpeg_path", "render_motion"]

#: Canonical keypoint pairs drawn as the human skeleton (those both present are drawn).
HUMAN_BONES: tuple[tuple[str, str], ...] = (
    ("pelvis", "torso"),
    ("torso", "neck"),
    ("neck", "head"),
    ("torso", "head"),
    ("pelvis", "left_hip"),
    ("pelvis", "right_hip"),
    ("left_hip", "left_knee"),
    ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"),
    ("right_knee", "right_ankle"),
    ("left_ankle", "left_toe"),
    ("right_ankle", "right_toe"),
    ("torso", "left_shoulder"),
    ("torso", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_elbow", "right_wrist"),
    ("left_wrist", "left_hand"),
    ("right_wrist", "right_hand"),
)


@dataclasses.dataclass(frozen=True)
class RenderResult:
    """What :func:`render_motion` wrote."""

    path: Path
    frames: int
    fps: float


def ffmpeg_path() -> str | None:
    """The ffmpeg binary to write MP4 with: ``imageio-ffmpeg``'s, else ``ffmpeg`` on PATH."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or no binary for this platform
        return shutil.which("ffmpeg")


def _human_segments(names: tuple[str, ...]) -> list[tuple[int, int]]:
    if "neck" in names:
        bones = [b for b in HUMAN_BONES if b != ("torso", "head")]
    else:
        bones = list(HUMAN_BONES)
    return [(names.index(a), names.index(b)) for a, b in bones if a in names and b in names]


def render_motion(
    motion: Any,
    robot: Any,
    output: str | os.PathLike[str],
    *,
    human_keypoints: NDArray | None = None,
    human_keypoint_names: tuple[str, ...] | None = None,
    stride: int = 1,
    max_frames: int | None = None,
    view_radius_m: float = 1.0,
    size_in: tuple[float, float] = (8.0, 4.2),
    dpi: int = 80,
) -> RenderResult:
    """Render ``motion`` (a ``RobotMotion``) on ``robot`` to ``output`` (``.gif`` or ``.mp4``).

    Args:
        human_keypoints: (T, K, 3) human keypoints in the robot clip's frames (e.g. the
            scaled targets of :func:`retargetjax.evaluation.human_reference`), drawn in a
            second panel; ``None`` draws the robot alone.
        human_keypoint_names: canonical names of those keypoints (bones follow
            :data:`HUMAN_BONES`).
        stride: draw every ``stride``-th frame; the video plays at ``fps / stride`` so it
            keeps real time.
        max_frames: draw at most this many frames.
        view_radius_m: half-width of the view around the root (m).

    Returns the path, the number of frames written and the video's frame rate.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import animation

    from ._geometry import robot_joint_columns

    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"{output}: expected a .gif or .mp4 output, got {suffix!r}")
    ffmpeg = ffmpeg_path() if suffix == ".mp4" else None
    if suffix == ".mp4" and ffmpeg is None:
        raise RuntimeError(
            f"{output}: writing MP4 needs ffmpeg (pip install imageio-ffmpeg); "
            "or write a .gif instead"
        )
    stride = max(int(stride), 1)
    frames = np.arange(0, motion.num_frames, stride)
    if max_frames is not None:
        frames = frames[: max(int(max_frames), 1)]
    fps = float(motion.fps) / stride

    from ..robot import collision_capsules_world, forward_kinematics

    columns = robot_joint_columns(motion.joint_names, robot)
    fk = forward_kinematics(
        robot,
        np.asarray(motion.root_pos)[frames],
        np.asarray(motion.root_quat)[frames],
        np.asarray(motion.joint_pos)[frames][:, columns],
    )
    body_pos = np.asarray(fk.pos, np.float64)
    p0, p1 = (np.asarray(x, np.float64) for x in collision_capsules_world(robot, fk))
    radius = np.asarray(robot.capsule_radius, np.float64)
    root = np.asarray(motion.root_pos, np.float64)[frames]
    parents = [(b, p) for b, p in enumerate(robot.body_parents) if p >= 0]

    human = None
    if human_keypoints is not None:
        human = np.asarray(human_keypoints, np.float64)[frames]
        names = tuple(human_keypoint_names or ())
        if len(names) != human.shape[1]:
            raise ValueError(
                f"human_keypoint_names: {len(names)} names for {human.shape[1]} keypoints"
            )
        bones = _human_segments(names)

    panels = 2 if human is not None else 1
    fig = plt.figure(figsize=(size_in[0] if panels == 2 else size_in[0] / 2 + 1, size_in[1]))
    axes = [fig.add_subplot(1, panels, i + 1, projection="3d") for i in range(panels)]
    # Radius in metres to a line width in points: the view spans 2·view_radius_m over about
    # (figure width / panels) inches at 72 points per inch.
    points_per_m = 72.0 * (fig.get_figwidth() / panels) * 0.6 / (2 * view_radius_m)
    height = max(float(body_pos[..., 2].max()), 1.0) + 0.1

    def setup(ax: Any, label: str) -> None:
        ax.set_title(label, fontsize=9)
        ax.set_box_aspect((1, 1, height / (2 * view_radius_m)), zoom=1.35)
        ax.set_zlim(0, height)
        ax.view_init(elev=12, azim=-60)
        ax.set_axis_off()  # the floor grid drawn below is the only reference

    setup(axes[0], f"{robot.name}")
    stick = [axes[0].plot([], [], [], color="0.3", lw=1.0)[0] for _ in parents]
    caps = [
        axes[0].plot(
            [],
            [],
            [],
            color="C0",
            lw=max(2 * r * points_per_m, 1.0),
            alpha=0.55,
            solid_capstyle="round",
        )[0]
        for r in radius
    ]
    floor = [
        axes[i].plot([], [], [], color="0.8", lw=0.6)[0] for i in range(panels) for _ in range(10)
    ]
    if human is not None:
        setup(axes[1], "human (scaled targets)")
        limbs = [axes[1].plot([], [], [], color="C3", lw=2.0)[0] for _ in bones]
        dots = axes[1].plot([], [], [], "o", color="C3", ms=2.5)[0]
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=0.93, wspace=0.0)
    caption = fig.text(0.01, 0.01, "", fontsize=8)

    def draw(i: int) -> list:
        cx, cy = root[i, 0], root[i, 1]
        for ax in axes:
            ax.set_xlim(cx - view_radius_m, cx + view_radius_m)
            ax.set_ylim(cy - view_radius_m, cy + view_radius_m)
        grid = np.linspace(-view_radius_m, view_radius_m, 5)
        k = 0
        for _ in range(panels):
            for g in grid:
                floor[k].set_data_3d(
                    [cx + g, cx + g], [cy - view_radius_m, cy + view_radius_m], [0, 0]
                )
                floor[k + 1].set_data_3d(
                    [cx - view_radius_m, cx + view_radius_m], [cy + g, cy + g], [0, 0]
                )
                k += 2
        for line, (b, p) in zip(stick, parents):
            seg = body_pos[i, [p, b]]
            line.set_data_3d(seg[:, 0], seg[:, 1], seg[:, 2])
        for c, line in enumerate(caps):
            seg = np.stack([p0[i, c], p1[i, c]])
            line.set_data_3d(seg[:, 0], seg[:, 1], seg[:, 2])
        if human is not None:
            for line, (a, b) in zip(limbs, bones):
                seg = human[i, [a, b]]
                line.set_data_3d(seg[:, 0], seg[:, 1], seg[:, 2])
            dots.set_data_3d(human[i, :, 0], human[i, :, 1], human[i, :, 2])
        caption.set_text(f"frame {int(frames[i])}  t = {frames[i] / motion.fps:.2f} s")
        return []

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), blit=False)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.stem}.tmp{os.getpid()}{suffix}")
    try:
        if suffix == ".gif":
            writer = animation.PillowWriter(fps=fps)
        else:
            matplotlib.rcParams["animation.ffmpeg_path"] = ffmpeg
            writer = animation.FFMpegWriter(
                fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"]
            )
        anim.save(str(tmp), writer=writer, dpi=dpi)
        os.replace(tmp, output)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()
    return RenderResult(path=output, frames=len(frames), fps=fps)

"""``RobotMotion``: a retargeted robot trajectory (numpy arrays, frozen)."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..types import NDArray
from ._derivatives import angular_velocity_world, finite_difference
from ._rowwise import rot_to_quat_rows, slerp_rows

__all__ = ["RobotMotion"]

#: How far from unit norm a stored quaternion may be before it is rejected.
_QUAT_NORM_TOL = 1e-3


def _as_float_array(name: str, value: Any, shape: tuple[str | int, ...], dims: dict) -> NDArray:
    """Copy ``value`` into a read-only float32 array checked against a symbolic ``shape``.

    ``shape`` mixes fixed sizes (ints) and symbols (``"T"``, ``"N"``, ``"B"``); the first
    array that uses a symbol fixes its size in ``dims`` and later arrays must agree.
    """
    try:
        array = np.array(value, dtype=np.float32, copy=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"RobotMotion.{name}: expected a float array, got {type(value)}") from err
    expected = "(" + ", ".join(str(dims.get(s, s)) for s in shape) + ")"
    if array.ndim != len(shape):
        raise ValueError(f"RobotMotion.{name}: expected shape {expected}, got {array.shape}")
    for axis, (symbol, size) in enumerate(zip(shape, array.shape)):
        if isinstance(symbol, int):
            ok = size == symbol
        elif symbol in dims:
            ok = size == dims[symbol]
        else:
            dims[symbol] = size
            ok = True
        if not ok:
            raise ValueError(
                f"RobotMotion.{name}: expected shape {expected}, got {array.shape} "
                f"(axis {axis} should be {dims.get(symbol, symbol)})"
            )
    if not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"RobotMotion.{name}: non-finite value {array[bad]} at index {bad}")
    array.setflags(write=False)
    return array


def _check_unit_quat(name: str, quat: NDArray) -> None:
    norm = np.linalg.norm(quat, axis=-1)
    bad = np.abs(norm - 1.0) > _QUAT_NORM_TOL
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"RobotMotion.{name}: quaternion at index {index} has norm {norm[index]:.6g}, "
            "expected unit quaternions (wxyz)"
        )


def _as_names(name: str, value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError(f"RobotMotion.{name}: expected a sequence of names, got a str")
    names = tuple(str(n) for n in np.asarray(value, dtype=object).reshape(-1))
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"RobotMotion.{name}: duplicate names {dup}")
    return names


@dataclasses.dataclass(frozen=True, eq=False)
class RobotMotion:
    """A robot trajectory: root pose and joint angles per frame, optionally link poses.

    Arrays are float32, read-only copies. Quaternions are ``wxyz`` (the package convention)
    and rotate body-frame vectors into the world frame. World frame is Z-up, metres.
    """

    fps: float
    """Frame rate (frames per second, > 0)."""
    robot: str
    """Robot name (``"unitree_g1"``) or ``"unknown"``."""
    joint_names: tuple[str, ...]
    """Names of the N actuated joints, in the column order of ``joint_pos``."""
    joint_pos: NDArray
    """(T, N) joint angles (rad) or positions (m for slide joints)."""
    root_pos: NDArray
    """(T, 3) root (floating base) position in the world (m)."""
    root_quat: NDArray
    """(T, 4) root orientation, ``wxyz``, base → world."""
    body_names: tuple[str, ...] | None = None
    """Names of the B links whose poses are stored, or ``None``."""
    body_pos_w: NDArray | None = None
    """(T, B, 3) link positions in the world (m), or ``None``."""
    body_quat_w: NDArray | None = None
    """(T, B, 4) link orientations, ``wxyz``, link → world, or ``None``."""
    metadata: dict = dataclasses.field(default_factory=dict)
    """Run metadata, JSON-serialisable when saved (robot, source file, config, versions...)."""

    def __post_init__(self) -> None:
        fps = self.fps
        if isinstance(fps, np.ndarray) and fps.size == 1:
            fps = fps.reshape(-1)[0]
        try:
            fps = float(fps)
        except (TypeError, ValueError) as err:
            raise TypeError(f"RobotMotion.fps: expected a number, got {self.fps!r}") from err
        if not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"RobotMotion.fps: expected a finite number > 0, got {fps}")
        set_ = object.__setattr__
        set_(self, "fps", fps)
        if not isinstance(self.robot, str):
            raise TypeError(f"RobotMotion.robot: expected a str, got {type(self.robot).__name__}")

        joint_names = _as_names("joint_names", self.joint_names)
        dims: dict[str, int] = {"N": len(joint_names)}
        joint_pos = _as_float_array("joint_pos", self.joint_pos, ("T", "N"), dims)
        if dims["T"] < 1:
            raise ValueError("RobotMotion.joint_pos: expected at least one frame, got T = 0")
        set_(self, "joint_names", joint_names)
        set_(self, "joint_pos", joint_pos)
        set_(self, "root_pos", _as_float_array("root_pos", self.root_pos, ("T", 3), dims))
        root_quat = _as_float_array("root_quat", self.root_quat, ("T", 4), dims)
        _check_unit_quat("root_quat", root_quat)
        set_(self, "root_quat", root_quat)

        has_bodies = self.body_pos_w is not None or self.body_quat_w is not None
        if has_bodies and self.body_names is None:
            raise ValueError(
                "RobotMotion.body_names: required when body_pos_w or body_quat_w is given"
            )
        if self.body_names is not None:
            body_names = _as_names("body_names", self.body_names)
            dims["B"] = len(body_names)
            set_(self, "body_names", body_names)
            if not has_bodies:
                raise ValueError("RobotMotion.body_names: given without body_pos_w or body_quat_w")
        if self.body_pos_w is not None:
            set_(
                self,
                "body_pos_w",
                _as_float_array("body_pos_w", self.body_pos_w, ("T", "B", 3), dims),
            )
        if self.body_quat_w is not None:
            body_quat_w = _as_float_array("body_quat_w", self.body_quat_w, ("T", "B", 4), dims)
            _check_unit_quat("body_quat_w", body_quat_w)
            set_(self, "body_quat_w", body_quat_w)
        if not isinstance(self.metadata, Mapping):
            raise TypeError(
                f"RobotMotion.metadata: expected a dict, got {type(self.metadata).__name__}"
            )
        set_(self, "metadata", dict(self.metadata))

    # ------------------------------------------------------------------ derived quantities
    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.joint_pos.shape[0])

    @property
    def num_joints(self) -> int:
        """Number of joints N."""
        return int(self.joint_pos.shape[1])

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame, ``(T - 1) / fps`` (s)."""
        return (self.num_frames - 1) / self.fps

    @property
    def joint_vel(self) -> NDArray:
        """(T, N) joint velocities (rad/s): central differences, one-sided at the ends."""
        return finite_difference(self.joint_pos, self.fps)

    @property
    def root_lin_vel_w(self) -> NDArray:
        """(T, 3) root linear velocity in the world (m/s)."""
        return finite_difference(self.root_pos, self.fps)

    @property
    def root_ang_vel_w(self) -> NDArray:
        """(T, 3) root angular velocity in the world (rad/s)."""
        return angular_velocity_world(self.root_quat, self.fps)

    @property
    def body_lin_vel_w(self) -> NDArray | None:
        """(T, B, 3) link linear velocities in the world (m/s), or ``None``."""
        if self.body_pos_w is None:
            return None
        return finite_difference(self.body_pos_w, self.fps)

    @property
    def body_ang_vel_w(self) -> NDArray | None:
        """(T, B, 3) link angular velocities in the world (rad/s), or ``None``.

        See :func:`retargetjax.io.angular_velocity_world` for the formula.
        """
        if self.body_quat_w is None:
            return None
        return angular_velocity_world(self.body_quat_w, self.fps)

    # ------------------------------------------------------------------ transformations
    def replace(self, **changes: Any) -> RobotMotion:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def resample(self, fps: float) -> RobotMotion:
        """Resample to ``fps`` frames per second (e.g. 30 → 50 Hz for a tracker).

        New frames sit at ``t_k = k / fps`` for ``k = 0 … K`` with
        ``K = floor(duration_s · fps + 1e-6)``, so the first frame is kept and the last one is
        kept whenever the duration is a multiple of the new period (otherwise the clip ends
        less than one new period early; it is never extrapolated). At ``s = t_k · fps_old``,
        with ``i = floor(s)`` and ``α = s - i``, positions and joint angles are interpolated
        linearly, ``x = (1 - α) x_i + α x_{i+1}``, and orientations by slerp along the shortest
        arc, ``q = q_i ⊗ exp(α · log(q_i^{-1} q_{i+1}))``.
        """
        fps = float(fps)
        if not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"resample: fps must be a finite number > 0, got {fps}")
        num_old = self.num_frames
        num_new = math.floor(self.duration_s * fps + 1e-6) + 1
        if num_old == 1:
            index = np.zeros(1, dtype=np.int64)
            alpha = np.zeros(1, dtype=np.float64)
        else:
            s = np.arange(num_new, dtype=np.float64) * self.fps / fps
            s = np.clip(s, 0.0, num_old - 1)
            index = np.minimum(np.floor(s).astype(np.int64), num_old - 2)
            alpha = s - index
        nxt = np.minimum(index + 1, num_old - 1)

        def lerp(x: NDArray) -> NDArray:
            a = alpha.reshape((-1,) + (1,) * (x.ndim - 1))
            return ((1.0 - a) * x[index] + a * x[nxt]).astype(np.float32)

        def slerp(q: NDArray) -> NDArray:
            a = alpha.astype(np.float32).reshape((-1,) + (1,) * (q.ndim - 2))
            out = slerp_rows(q[index], q[nxt], np.broadcast_to(a, q[index].shape[:-1]))
            # Keep original samples bit-exact (slerp at α ∈ {0, 1} may round in the last bit).
            out[alpha == 0.0] = q[index[alpha == 0.0]]
            out[alpha == 1.0] = q[nxt[alpha == 1.0]]
            return out

        metadata = dict(self.metadata)
        metadata.setdefault("resampled_from_fps", self.fps)
        return RobotMotion(
            fps=fps,
            robot=self.robot,
            joint_names=self.joint_names,
            joint_pos=lerp(self.joint_pos),
            root_pos=lerp(self.root_pos),
            root_quat=slerp(self.root_quat),
            body_names=self.body_names,
            body_pos_w=None if self.body_pos_w is None else lerp(self.body_pos_w),
            body_quat_w=None if self.body_quat_w is None else slerp(self.body_quat_w),
            metadata=metadata,
        )

    def with_body_poses(
        self,
        robot: Any,
        *,
        forward_kinematics: Callable[..., Any] | None = None,
    ) -> RobotMotion:
        """A copy whose ``body_pos_w``/``body_quat_w`` come from forward kinematics.

        Args:
            robot: a robot model (with ``name``, ``joint_names``, ``body_names``) or a name
                for :func:`retargetjax.robot.load_robot`.
            forward_kinematics: ``fk(robot, root_pos, root_quat, joint_pos)`` returning an
                object with ``pos`` (T, B, 3) and ``rot`` (T, B, 3, 3); defaults to
                :func:`retargetjax.robot.clip_forward_kinematics` (one compilation per
                robot for clips of every length).

        The joint columns are matched to ``robot.joint_names`` by name (so a motion whose
        columns are in another order still works); a joint of the robot missing from the
        motion is an error.
        """
        if isinstance(robot, (str, os.PathLike)) or forward_kinematics is None:
            from ..robot import clip_forward_kinematics as robot_fk
            from ..robot import load_robot

            if isinstance(robot, (str, os.PathLike)):
                robot = load_robot(robot)
            if forward_kinematics is None:
                forward_kinematics = robot_fk
        robot_joints = tuple(robot.joint_names)
        missing = [name for name in robot_joints if name not in self.joint_names]
        if missing:
            raise ValueError(
                f"with_body_poses: robot {robot.name!r} has joints {missing} that the motion "
                f"does not have (motion joints: {list(self.joint_names)})"
            )
        columns = [self.joint_names.index(name) for name in robot_joints]
        joint_pos = self.joint_pos[:, columns]
        fk = forward_kinematics(robot, self.root_pos, self.root_quat, joint_pos)
        body_pos_w = np.asarray(fk.pos, dtype=np.float32)
        body_quat_w = rot_to_quat_rows(np.asarray(fk.rot, dtype=np.float32))
        return dataclasses.replace(
            self,
            body_names=tuple(robot.body_names),
            body_pos_w=body_pos_w,
            body_quat_w=body_quat_w,
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str], *, format: str | None = None) -> None:
        """Write to ``path`` atomically; the format comes from the suffix or ``format``.

        ``.npz``: native (lossless); ``.csv``: BeyondMimic-style headerless CSV;
        ``.pkl``/``.pickle``: GMR-style pickle. See :mod:`retargetjax.io` for the layouts.
        """
        from ._formats import save_robot_motion

        save_robot_motion(self, path, format=format)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        format: str | None = None,
        robot: Any = None,
        joint_names: Sequence[str] | None = None,
        body_names: Sequence[str] | None = None,
        fps: float | None = None,
    ) -> RobotMotion:
        """Read a motion written by :meth:`save` or by a peer tool.

        Args:
            path: the file; its suffix picks the format unless ``format`` is given.
            format: ``"npz"``, ``"csv"`` or ``"pkl"``.
            robot: robot name (or model) for files that do not name their joints/bodies
                (CSV, mjlab-style npz, GMR pickle); its ``joint_names``/``body_names`` are used.
            joint_names: explicit joint column names (instead of ``robot``).
            body_names: explicit body names for an npz without ``body_names``.
            fps: frame rate of a CSV (default 30); for formats storing their fps it must agree.
        """
        from ._formats import load_robot_motion

        return load_robot_motion(
            path,
            format=format,
            robot=robot,
            joint_names=joint_names,
            body_names=body_names,
            fps=fps,
        )

"""The parsed, file-format-neutral description of a robot (plain numpy, float64).

Both parsers (:mod:`._mjcf`, :mod:`._urdf`) produce a :class:`RobotDescription`; the builder
(:mod:`._build`) turns it into the jittable :class:`~retargetjax.robot.RobotModel`. Frames
follow MuJoCo's body semantics: a body's frame is placed in its parent's frame by ``(pos,
rot)``; its joints then act in sequence, a hinge turning the frame about ``axis`` through
``anchor`` (both in the body frame), a slide moving it along ``axis``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "BodySpec",
    "GeomSpec",
    "JointSpec",
    "RobotDescription",
    "RobotFileError",
    "inertia_box",
]


class RobotFileError(ValueError):
    """A robot file that cannot be read; the message names the file, line and element."""


def file_error(path: Path | str, line: int | None, element: str, message: str) -> RobotFileError:
    """Build a :class:`RobotFileError` as ``file:line: <element>: message``."""
    where = f"{path}:{line}" if line is not None else f"{path}"
    return RobotFileError(f"{where}: {element}: {message}")


@dataclass
class JointSpec:
    """One 1-DoF joint (ball joints are split into three hinges by the parsers)."""

    name: str
    #: ``"hinge"`` (revolute/continuous) or ``"slide"`` (prismatic).
    kind: str
    #: Unit axis in the body frame.
    axis: np.ndarray
    #: Point the hinge axis passes through, body frame (m); zero for URDF.
    anchor: np.ndarray = field(default_factory=lambda: np.zeros(3))
    #: Position limits (rad or m); ``±inf`` where unlimited.
    lower: float = -np.inf
    upper: float = np.inf
    #: Velocity limit (rad/s or m/s); ``inf`` where the file gives none.
    velocity: float = np.inf
    #: MuJoCo ``ref``: the joint value at which the body has its file pose.
    ref: float = 0.0
    #: URDF ``mimic``: ``(source joint name, multiplier, offset)``; followed, not optimised.
    mimic: tuple[str, float, float] | None = None


@dataclass
class GeomSpec:
    """A collision primitive in its body's frame."""

    #: ``sphere``, ``capsule``, ``cylinder``, ``box``, ``ellipsoid`` or ``mesh``.
    kind: str
    name: str
    #: Centre (m) and orientation (3×3) in the body frame.
    pos: np.ndarray
    rot: np.ndarray
    #: sphere: (r,); capsule/cylinder: (r, half_length along local z); box/ellipsoid: half sizes.
    size: np.ndarray


@dataclass
class BodySpec:
    """One body/link; index 0 of :attr:`RobotDescription.bodies` is the floating root."""

    name: str
    #: Index of the parent body, ``-1`` for the root.
    parent: int
    #: Pose of the body frame in the parent frame (at zero joint values).
    pos: np.ndarray
    rot: np.ndarray
    joints: list[JointSpec] = field(default_factory=list)
    geoms: list[GeomSpec] = field(default_factory=list)
    #: Named points on the body (MJCF sites), body frame (m).
    sites: dict[str, np.ndarray] = field(default_factory=dict)
    #: The solid box with the body's mass and inertia (from the file's ``<inertial>``):
    #: ``(centre, rotation, half sizes)`` in the body frame, or ``None`` when the file gives
    #: none (or a degenerate one). Meshes are never opened, so this is the only size a
    #: mesh-only foot has.
    inertia_box: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    #: Whether the file draws the body with visual-only geoms (left out of ``geoms``): a
    #: robot whose collision shapes are only on its feet gets bones on such bodies.
    visual_shapes: bool = False


def inertia_box(
    mass: float, pos: np.ndarray, rot: np.ndarray, inertia: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The uniform box of ``mass`` whose inertia about its centre ``pos`` is ``inertia``.

    ``inertia`` is the diagonal (3,) in the frame ``rot`` (3×3, body frame), or a full
    symmetric (3, 3) matrix in the body frame (then ``rot`` is ignored). A box of sides
    ``a, b, c`` has ``I_1 = m (b² + c²) / 12`` and so on, hence ``a² = 6 (I_2 + I_3 − I_1) /
    m``. Returns ``(centre, rotation, half sizes)`` or ``None`` for a massless or
    non-physical inertia.
    """
    inertia = np.asarray(inertia, np.float64)
    if inertia.shape == (3, 3):
        moments, axes = np.linalg.eigh(0.5 * (inertia + inertia.T))
        if np.linalg.det(axes) < 0:
            axes[:, 0] = -axes[:, 0]
        rot = axes
    else:
        moments = inertia
    if not (np.isfinite(mass) and mass > 0 and np.all(np.isfinite(moments))):
        return None
    if np.any(moments <= 0):
        return None
    i1, i2, i3 = moments
    sq = 6.0 / mass * np.array([i2 + i3 - i1, i1 + i3 - i2, i1 + i2 - i3])
    half = 0.5 * np.sqrt(np.clip(sq, 0.0, None))
    if np.count_nonzero(half > 1e-3) < 2:
        return None
    return np.asarray(pos, np.float64), np.asarray(rot, np.float64), half


@dataclass
class RobotDescription:
    """Everything the builder needs, in file order."""

    name: str
    path: Path
    bodies: list[BodySpec]
    #: Body-name pairs the file excludes from collision (MJCF ``<contact><exclude>``).
    excluded_pairs: set[frozenset[str]] = field(default_factory=set)
    #: Named joint configurations from the file (MJCF keyframes), by joint name.
    keyframes: dict[str, dict[str, float]] = field(default_factory=dict)

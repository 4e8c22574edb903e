"""The floating root of an MJCF robot: a ``<freejoint/>``, or a free joint spelled out.

humanoid-gym and files derived from it (XBot-L …) float the root body with three slide
joints and a ball joint instead of ``<freejoint/>``. Three slides along orthogonal axes
(optionally followed by one ball joint) reach every position (and orientation) a free joint
does, so the root is read as floating and these joints are left out of the robot's joints.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from ._mjcf_context import _Context

__all__ = ["has_free_joint", "spelled_out_free_joint", "spelled_out_note"]


def has_free_joint(body: ET.Element) -> bool:
    """``body`` carries a ``<freejoint/>`` or a ``<joint type="free">``."""
    return any(c.tag == "freejoint" or (c.tag == "joint" and c.get("type") == "free") for c in body)


def spelled_out_free_joint(
    ctx: _Context, body: ET.Element, childclass: str | None = None
) -> tuple[ET.Element, ...]:
    """The joints of ``body`` when they spell out a free joint, else ``()``.

    The pattern: exactly three ``slide`` joints whose axes are orthogonal, optionally
    followed by one ``ball`` joint, and no other joint. Types and axes are read through the
    default classes (``childclass`` is the body's enclosing one).
    """
    joints = tuple(c for c in body if c.tag == "joint")
    if len(joints) not in (3, 4):
        return ()
    cls = body.get("childclass") or childclass
    kinds, axes = [], []
    for joint in joints:
        attrs = ctx.attrs(joint, cls)
        kinds.append(attrs.get("type", "hinge"))
        axis = ctx.floats(joint, attrs, "axis", 3)
        axes.append(np.array([0.0, 0.0, 1.0]) if axis is None else np.asarray(axis, float))
    if kinds[:3] != ["slide"] * 3 or kinds[3:] not in ([], ["ball"]):
        return ()
    slides = np.array(axes[:3])
    norms = np.linalg.norm(slides, axis=1)
    if np.any(norms < 1e-12):
        return ()
    unit = slides / norms[:, None]
    if np.abs(unit @ unit.T - np.eye(3)).max() > 1e-6:
        return ()
    return joints


def spelled_out_note(body: ET.Element, joints: tuple[ET.Element, ...]) -> str:
    """The one-line note saying a spelled-out free joint was read as the floating base."""
    ball = " and a ball joint" if len(joints) == 4 else ""
    return (
        f"note: the root body {body.get('name', '?')!r} floats on three slide joints{ball} "
        "instead of a <freejoint/>; read as a free joint (the floating base), so these joints "
        "are not among the robot's joints"
    )

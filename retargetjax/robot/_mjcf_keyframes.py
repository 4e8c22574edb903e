"""MJCF keyframes: ``<key qpos>`` as joint-name → value, and the ``qpos`` width of a body
tree (where the robot's values sit in a file that holds other bodies too)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ._description import BodySpec
from ._mjcf_context import _Context

__all__ = ["_qpos_width", "_read_keyframes"]


def _qpos_width(ctx: _Context, element: ET.Element, childclass: str | None = None) -> int:
    """Entries of MuJoCo's ``qpos`` taken by the joints below ``element`` (free 7, ball 4,
    hinge/slide 1): where a tree's values sit in a keyframe of the whole file."""
    width = 0
    for child in element:
        if child.tag in ("joint", "freejoint"):
            cls = child.get("class") or childclass or "main"
            kind = ctx.defaults.get(cls, {}).get("joint", {}).get("type", "hinge")
            kind = "free" if child.tag == "freejoint" else child.get("type", kind)
            width += {"free": 7, "ball": 4}.get(kind, 1)
        elif child.tag in ("body", "frame"):
            width += _qpos_width(ctx, child, child.get("childclass") or childclass)
    return width


def _read_keyframes(
    ctx: _Context,
    root: ET.Element,
    bodies: list[BodySpec],
    has_free_root: bool,
    qpos_span: tuple[int, int] | None = None,
    root_width: int | None = None,
) -> dict[str, dict[str, float]]:
    """Keyframes as joint-name → value (only for robots made of 1-DoF joints and a free root).

    ``qpos_span``: (where the robot's values start, the whole ``qpos`` size) when the file
    holds other top-level bodies besides the robot. ``root_width``: the ``qpos`` entries of
    the root's own joints (default 7 with a free joint, else 0; a free joint spelled out as
    three slides and a ball takes 3 + 4)."""
    joints = [j for b in bodies for j in b.joints]
    if any(j.name.endswith(("_x", "_y", "_z")) for j in joints):
        return {}
    if root_width is None:
        root_width = 7 if has_free_root else 0
    offset, size = qpos_span or (0, root_width + len(joints))
    start = offset + root_width
    frames: dict[str, dict[str, float]] = {}
    for block in root.findall("keyframe"):
        for key in block.findall("key"):
            qpos = ctx.doc.floats(key, "qpos")
            if qpos is None or qpos.size != size:
                continue
            name = key.get("name") or f"key{len(frames)}"
            values = {j.name: float(v) for j, v in zip(joints, qpos[start:])}
            if has_free_root:
                values["__root_z__"] = float(qpos[offset + 2])
            frames[name] = values
    return frames

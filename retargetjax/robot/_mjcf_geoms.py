"""MJCF geoms: primitive collision shapes as :class:`GeomSpec` (``fromto`` or pose and
size), meshes as placeholders, visual-only geoms, planes and height fields left out."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from ._description import GeomSpec
from ._mjcf_context import _Context
from ._spatial import zaxis_to_mat

__all__ = ["_read_geom"]


_PRIMITIVES = ("sphere", "capsule", "cylinder", "box", "ellipsoid")


def _is_visual(attrs: dict[str, str], element: ET.Element) -> bool:
    """Visual-only: no contacts at all *and* a rendering group (1 or 2), or a 'visual' class."""
    cls = (element.get("class") or "").lower()
    if "visual" in cls:
        return True
    no_contact = attrs.get("contype", "1") == "0" and attrs.get("conaffinity", "1") == "0"
    return no_contact and attrs.get("group", "0") in ("1", "2")


def _read_geom(
    ctx: _Context, element: ET.Element, attrs: dict[str, str], count: int
) -> GeomSpec | None:
    doc = ctx.doc
    kind = attrs.get("type") or ("mesh" if "mesh" in attrs else "sphere")
    if _is_visual(attrs, element) or kind in ("plane", "hfield", "sdf"):
        return None
    name = attrs.get("name") or f"geom{count}"
    if kind == "mesh":
        return GeomSpec(kind="mesh", name=name, pos=np.zeros(3), rot=np.eye(3), size=np.zeros(0))
    if kind not in _PRIMITIVES:
        raise doc.error(element, f"type={kind!r}: expected one of {', '.join(_PRIMITIVES)}, mesh")
    size = ctx.floats(element, attrs, "size", (1, 2, 3))
    size = np.zeros(0) if size is None else size
    fromto = ctx.floats(element, attrs, "fromto", 6)
    if fromto is not None and kind != "sphere":
        start, end = fromto[:3], fromto[3:]
        if np.linalg.norm(end - start) < 1e-12:
            raise doc.error(element, "fromto has zero length")
        pos = 0.5 * (start + end)
        rot = zaxis_to_mat(end - start)
        half = 0.5 * float(np.linalg.norm(end - start))
        if kind in ("capsule", "cylinder"):
            if size.size < 1:
                raise doc.error(element, "size: expected the radius")
            size = np.array([size[0], half])
        else:
            if size.size < 2:
                raise doc.error(element, "size: expected 2 numbers with fromto")
            size = np.array([size[0], size[1], half])
    else:
        pos, rot = ctx.pose(element, attrs)
        need = {"sphere": 1, "capsule": 2, "cylinder": 2, "box": 3, "ellipsoid": 3}[kind]
        if size.size < need:
            raise doc.error(element, f"size: expected {need} numbers for a {kind}")
        size = size[:need]
    if np.any(size < 0):
        raise doc.error(element, "size must not be negative")
    return GeomSpec(kind=kind, name=name, pos=pos, rot=rot, size=size)

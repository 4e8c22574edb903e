"""What an MJCF element's attributes mean in its file: the ``<compiler>`` settings (angle
unit, Euler sequence, autolimits), the ``<default>`` classes, and poses and orientations
(``quat``, ``axisangle``, ``euler``, ``xyaxes``, ``zaxis``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from ._spatial import (
    axis_angle_to_mat,
    euler_seq_to_mat,
    quat_to_mat_np,
    xyaxes_to_mat,
    zaxis_to_mat,
)
from ._xml import XmlDoc

__all__ = ["_Context"]


_CLASSED = ("joint", "geom", "site", "freejoint")


class _Context:
    def __init__(self, doc: XmlDoc) -> None:
        self.doc = doc
        self.angle_scale = np.pi / 180.0  # MJCF default: degrees
        self.eulerseq = "xyz"
        self.autolimits = True
        self.defaults: dict[str, dict[str, dict[str, str]]] = {}

    # -- defaults -------------------------------------------------------------------------
    def read_defaults(self, element: ET.Element, parent: dict[str, dict[str, str]] | None) -> None:
        name = element.get("class", "main")
        merged = {tag: dict(attrs) for tag, attrs in (parent or {}).items()}
        for child in element:
            if child.tag == "default":
                continue
            merged.setdefault(child.tag, {}).update(child.attrib)
        self.defaults[name] = merged
        for child in element:
            if child.tag == "default":
                if "class" not in child.attrib:
                    raise self.doc.error(child, "a nested <default> needs a class attribute")
                self.read_defaults(child, merged)

    def attrs(self, element: ET.Element, childclass: str | None) -> dict[str, str]:
        cls = element.get("class") or childclass or "main"
        if cls not in self.defaults and cls != "main":
            raise self.doc.error(element, f"unknown default class {cls!r}")
        tag = "joint" if element.tag == "freejoint" else element.tag
        merged = dict(self.defaults.get(cls, {}).get(tag, {}))
        merged.update(element.attrib)
        return merged

    # -- numbers --------------------------------------------------------------------------
    def floats(self, element: ET.Element, attrs: dict[str, str], key: str, count=None):
        text = attrs.get(key)
        if text is None:
            return None
        return self.doc.parse_floats(element, key, text, count)

    def orientation(self, element: ET.Element, attrs: dict[str, str]) -> np.ndarray:
        given = [k for k in ("quat", "axisangle", "euler", "xyaxes", "zaxis") if k in attrs]
        if len(given) > 1:
            raise self.doc.error(element, f"more than one orientation given ({', '.join(given)})")
        try:
            if "quat" in attrs:
                return quat_to_mat_np(self.floats(element, attrs, "quat", 4))
            if "axisangle" in attrs:
                v = self.floats(element, attrs, "axisangle", 4)
                return axis_angle_to_mat(v[:3], v[3] * self.angle_scale)
            if "euler" in attrs:
                v = self.floats(element, attrs, "euler", 3)
                return euler_seq_to_mat(v * self.angle_scale, self.eulerseq)
            if "xyaxes" in attrs:
                return xyaxes_to_mat(self.floats(element, attrs, "xyaxes", 6))
            if "zaxis" in attrs:
                return zaxis_to_mat(self.floats(element, attrs, "zaxis", 3))
        except ValueError as exc:
            raise self.doc.error(element, f"bad orientation: {exc}") from None
        return np.eye(3)

    def pose(self, element: ET.Element, attrs: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
        pos = self.floats(element, attrs, "pos", 3)
        return (np.zeros(3) if pos is None else pos), self.orientation(element, attrs)

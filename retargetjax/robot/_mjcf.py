"""MJCF (MuJoCo XML) reader: body tree, joints, limits, primitive geoms and sites.

Follows the MJCF rules that matter for kinematics, without compiling meshes:

* ``<compiler angle>`` (MJCF's default is **degree**) applies to ``euler``, ``axisangle``,
  hinge/ball ``range`` and ``ref``; ``eulerseq`` (default ``xyz``; lower case = axes that
  move with the frame, upper case = fixed axes).
* Orientation by ``quat`` (wxyz), ``axisangle``, ``euler``, ``xyaxes`` or ``zaxis``.
* ``<default>`` classes nest; an element takes its ``class`` or else the ``childclass`` of the
  nearest enclosing body/frame, else ``main``; its own attributes win over the class.
* ``limited="auto"`` (or absent) means limited when a range is given.
* ``<include file>`` is spliced in place; ``<frame>`` composes its pose into its children.
* The root is the largest top-level body tree carrying a free joint (else the largest
  top-level tree); it is the floating base. Other top-level bodies (a floor, props,
  placeholder bodies) are not attached to it and are left out, with a note. A ball joint
  becomes three hinges ``name_x/_y/_z``.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ._description import (
    BodySpec,
    GeomSpec,
    JointSpec,
    RobotDescription,
    RobotFileError,
    inertia_box,
)
from ._spatial import (
    axis_angle_to_mat,
    euler_seq_to_mat,
    quat_to_mat_np,
    xyaxes_to_mat,
    zaxis_to_mat,
)
from ._xml import XmlDoc, parse_xml

__all__ = ["parse_mjcf"]

_PRIMITIVES = ("sphere", "capsule", "cylinder", "box", "ellipsoid")
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


def _splice_includes(doc: XmlDoc, element: ET.Element, depth: int = 0) -> None:
    """Replace every ``<include file=...>`` below ``element`` by the included file's children."""
    for index, child in enumerate(list(element)):
        if child.tag == "include":
            file = child.get("file")
            if not file:
                raise doc.error(child, "missing attribute 'file'")
            if depth > 20:
                raise doc.error(child, "includes nested too deeply (a cycle?)")
            src_path, _ = doc.where(child)
            sub = parse_xml((src_path.parent / file).resolve())
            _splice_includes(sub, sub.root, depth + 1)
            doc.absorb(sub)
            element.remove(child)
            for offset, grandchild in enumerate(list(sub.root)):
                element.insert(index + offset, grandchild)
            # Indices shifted; restart on the updated list.
            _splice_includes(doc, element, depth)
            return
        _splice_includes(doc, child, depth)


def parse_mjcf(path: str | Path) -> RobotDescription:
    """Read an MJCF file into a :class:`RobotDescription` (no meshes are opened)."""
    path = Path(path)
    doc = parse_xml(path)
    root = doc.root
    if root.tag != "mujoco":
        raise doc.error(root, "expected <mujoco> as the root element of an MJCF file")
    _splice_includes(doc, root)
    ctx = _Context(doc)
    for compiler in root.iter("compiler"):
        angle = compiler.get("angle")
        if angle is not None:
            if angle not in ("degree", "radian"):
                raise doc.error(compiler, f"angle={angle!r}: expected 'degree' or 'radian'")
            ctx.angle_scale = np.pi / 180.0 if angle == "degree" else 1.0
        seq = compiler.get("eulerseq")
        if seq is not None:
            if len(seq) != 3 or any(c not in "xyzXYZ" for c in seq):
                raise doc.error(compiler, f"eulerseq={seq!r}: expected 3 letters from xyzXYZ")
            ctx.eulerseq = seq
        if compiler.get("autolimits") is not None:
            ctx.autolimits = compiler.get("autolimits") == "true"
    for default in root.findall("default"):
        ctx.read_defaults(default, ctx.defaults.get("main"))

    worldbody = root.find("worldbody")
    if worldbody is None:
        raise doc.error(root, "no <worldbody> element")
    top = [b for b in worldbody if b.tag == "body"]
    if not top:
        raise doc.error(
            worldbody,
            "no <body> under <worldbody>: nothing to move; expected the robot's body tree "
            "(a <body> with joints) under <worldbody>",
        )

    root_body, floating = _robot_root(top)
    if len(top) > 1:
        others = [b for b in top if b is not root_body]
        shown = []
        for b in others:
            joints = [j.get("name") or "?" for j in b.iter() if j.tag in ("joint", "freejoint")]
            detail = f" (joint {', '.join(joints)})" if 0 < len(joints) <= 3 else ""
            detail = detail or (f" ({len(joints)} joints)" if joints else "")
            shown.append(f"{b.get('name', '?')}{detail}")
        joints, count = _tree_size(root_body)
        warnings.warn(
            f"{path}: note: {len(top)} bodies under <worldbody>; the robot is "
            f"{root_body.get('name')!r} (the largest tree{' with a free joint' if floating else ''}"
            f": {count} bodies, {joints} joints); left out, as they are not attached to it: "
            f"{'; '.join(shown)}",
            stacklevel=2,
        )

    bodies: list[BodySpec] = []
    _read_body(ctx, root_body, -1, worldbody_class=None, bodies=bodies)

    excluded: set[frozenset[str]] = set()
    for contact in root.findall("contact"):
        for ex in contact.findall("exclude"):
            b1, b2 = ex.get("body1"), ex.get("body2")
            if b1 and b2:
                excluded.add(frozenset((b1, b2)))

    desc = RobotDescription(
        name=root.get("model", path.stem), path=path, bodies=bodies, excluded_pairs=excluded
    )
    before = sum(_qpos_width(ctx, b) for b in top[: top.index(root_body)])
    total = sum(_qpos_width(ctx, b) for b in top)
    desc.keyframes = _read_keyframes(
        ctx, root, bodies, has_free_root=floating, qpos_span=(before, total)
    )
    return desc


def _has_free_joint(body: ET.Element) -> bool:
    return any(c.tag == "freejoint" or (c.tag == "joint" and c.get("type") == "free") for c in body)


def _tree_size(body: ET.Element) -> tuple[int, int]:
    """(joints, bodies) in the tree below and including ``body``."""
    joints = sum(1 for e in body.iter() if e.tag in ("joint", "freejoint"))
    return joints, sum(1 for e in body.iter() if e.tag == "body")


def _robot_root(top: list[ET.Element]) -> tuple[ET.Element, bool]:
    """The robot among the top-level bodies, and whether it carries a free joint.

    Files often hold more than the robot under ``<worldbody>``: a floor or a table body, a
    free-floating prop, or placeholder bodies that only carry the joints of a bigger
    variant (unitree_mujoco's ``g1_23dof.xml`` parks ``waist_roll_joint`` and the wrist
    pitch/yaw joints in bodies 20 m up). The robot is the largest tree (most joints, then
    most bodies) among the top-level bodies with a free joint, else among all of them; the
    first such body wins a tie.
    """
    floating = [b for b in top if _has_free_joint(b)]
    candidates = floating or top
    best = max(candidates, key=lambda b: (_tree_size(b), -candidates.index(b)))
    return best, bool(floating)


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


def _read_body(
    ctx: _Context,
    element: ET.Element,
    parent: int,
    worldbody_class: str | None,
    bodies: list[BodySpec],
) -> None:
    doc = ctx.doc
    name = element.get("name") or f"body{len(bodies)}"
    if any(b.name == name for b in bodies):
        raise doc.error(element, f"duplicate body name {name!r}")
    childclass = element.get("childclass") or worldbody_class
    if element.get("childclass") and element.get("childclass") not in ctx.defaults:
        raise doc.error(element, f"unknown childclass {element.get('childclass')!r}")
    pos, rot = ctx.pose(element, dict(element.attrib))
    body = BodySpec(name=name, parent=parent, pos=pos, rot=rot)
    index = len(bodies)
    bodies.append(body)
    _read_children(ctx, element, body, index, np.zeros(3), np.eye(3), childclass, bodies)


def _read_children(
    ctx: _Context,
    element: ET.Element,
    body: BodySpec,
    index: int,
    frame_pos: np.ndarray,
    frame_rot: np.ndarray,
    childclass: str | None,
    bodies: list[BodySpec],
) -> None:
    """Read joints/geoms/sites/child bodies of ``element``, posed by ``frame`` in the body."""
    doc = ctx.doc
    for child in element:
        tag = child.tag
        if tag in ("joint", "freejoint"):
            attrs = ctx.attrs(child, childclass)
            kind = "free" if tag == "freejoint" else attrs.get("type", "hinge")
            if kind == "free":
                if body.parent != -1:
                    raise doc.error(child, "a free joint is only supported on the root body")
                continue
            if body.parent == -1:
                raise doc.error(child, "joints on the floating root body are not supported")
            body.joints.extend(_read_joint(ctx, child, attrs, kind, frame_pos, frame_rot))
        elif tag == "geom":
            attrs = ctx.attrs(child, childclass)
            geom = _read_geom(ctx, child, attrs, len(body.geoms))
            if geom is not None:
                geom.pos = frame_pos + frame_rot @ geom.pos
                geom.rot = frame_rot @ geom.rot
                body.geoms.append(geom)
        elif tag == "inertial":
            body.inertia_box = _read_inertial(ctx, child, frame_pos, frame_rot)
        elif tag == "site":
            attrs = ctx.attrs(child, childclass)
            pos = ctx.floats(child, attrs, "pos", 3)
            site_name = attrs.get("name") or f"{body.name}_site{len(body.sites)}"
            body.sites[site_name] = frame_pos + frame_rot @ (np.zeros(3) if pos is None else pos)
        elif tag == "body":
            before = len(bodies)
            _read_body(ctx, child, index, childclass, bodies)
            new = bodies[before]
            new.pos = frame_pos + frame_rot @ new.pos
            new.rot = frame_rot @ new.rot
        elif tag == "frame":
            fpos, frot = ctx.pose(child, dict(child.attrib))
            fclass = child.get("childclass") or childclass
            _read_children(
                ctx,
                child,
                body,
                index,
                frame_pos + frame_rot @ fpos,
                frame_rot @ frot,
                fclass,
                bodies,
            )


def _read_inertial(
    ctx: _Context, element: ET.Element, frame_pos: np.ndarray, frame_rot: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The inertia-equivalent box of an ``<inertial>`` (``None`` if it is unusable: it only
    sizes mesh-only feet, so a bad one is not worth refusing the file for)."""
    attrs = dict(element.attrib)
    try:
        pos, rot = ctx.pose(element, attrs)
        mass = ctx.floats(element, attrs, "mass", 1)
        diag = ctx.floats(element, attrs, "diaginertia", 3)
        full = ctx.floats(element, attrs, "fullinertia", 6)
    except RobotFileError:
        return None
    if mass is None:
        return None
    pos, rot = frame_pos + frame_rot @ pos, frame_rot @ rot
    if full is not None:
        xx, yy, zz, xy, xz, yz = full
        matrix = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        return inertia_box(float(mass[0]), pos, rot, rot @ matrix @ rot.T)
    if diag is None:
        return None
    return inertia_box(float(mass[0]), pos, rot, diag)


def _read_joint(
    ctx: _Context,
    element: ET.Element,
    attrs: dict[str, str],
    kind: str,
    frame_pos: np.ndarray,
    frame_rot: np.ndarray,
) -> list[JointSpec]:
    doc = ctx.doc
    name = attrs.get("name")
    if not name:
        raise doc.error(element, "a joint needs a name (it is addressed by name)")
    if kind not in ("hinge", "slide", "ball"):
        raise doc.error(element, f"type={kind!r}: expected hinge, slide, ball or free")
    axis = ctx.floats(element, attrs, "axis", 3)
    axis = np.array([0.0, 0.0, 1.0]) if axis is None else axis
    norm = np.linalg.norm(axis)
    if norm < 1e-12:
        raise doc.error(element, "axis has zero length")
    axis = frame_rot @ (axis / norm)
    anchor = ctx.floats(element, attrs, "pos", 3)
    anchor = frame_pos + frame_rot @ (np.zeros(3) if anchor is None else anchor)
    angular = kind in ("hinge", "ball")
    scale = ctx.angle_scale if angular else 1.0
    limited = attrs.get("limited", "auto")
    if limited not in ("true", "false", "auto"):
        raise doc.error(element, f"limited={limited!r}: expected true, false or auto")
    rng = ctx.floats(element, attrs, "range", 2)
    lower, upper = -np.inf, np.inf
    is_limited = limited == "true" or (limited == "auto" and ctx.autolimits and rng is not None)
    if is_limited:
        if rng is None:
            raise doc.error(element, "limited='true' but no range given")
        lower, upper = float(rng[0] * scale), float(rng[1] * scale)
        if kind != "ball" and lower > upper:
            raise doc.error(element, f"range lower {rng[0]} > upper {rng[1]}")
    ref_values = ctx.floats(element, attrs, "ref", 1)
    ref = 0.0 if ref_values is None else float(ref_values[0] * scale)
    if kind == "ball":
        # A ball joint is three hinges about the body's x, y, z axes (an Euler chain), limited to
        # ±range[1] each when limited; the retargeting optimiser works on angles, not quaternions.
        bound = upper if is_limited else np.inf
        return [
            JointSpec(
                name=f"{name}_{ax}",
                kind="hinge",
                axis=frame_rot[:, i].copy(),
                anchor=anchor,
                lower=-bound,
                upper=bound,
            )
            for i, ax in enumerate("xyz")
        ]
    return [
        JointSpec(
            name=name,
            kind="hinge" if angular else "slide",
            axis=axis,
            anchor=anchor if angular else np.zeros(3),
            lower=lower,
            upper=upper,
            ref=ref,
        )
    ]


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


def _read_keyframes(
    ctx: _Context,
    root: ET.Element,
    bodies: list[BodySpec],
    has_free_root: bool,
    qpos_span: tuple[int, int] | None = None,
) -> dict[str, dict[str, float]]:
    """Keyframes as joint-name → value (only for robots made of 1-DoF joints and a free root).

    ``qpos_span``: (where the robot's values start, the whole ``qpos`` size) when the file
    holds other top-level bodies besides the robot."""
    joints = [j for b in bodies for j in b.joints]
    if any(j.name.endswith(("_x", "_y", "_z")) for j in joints):
        return {}
    offset, size = qpos_span or (0, (7 if has_free_root else 0) + len(joints))
    start = offset + (7 if has_free_root else 0)
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

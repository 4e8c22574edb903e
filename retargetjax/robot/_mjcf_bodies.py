"""MJCF bodies: a ``<body>`` and what it holds (joints, geoms, sites, inertials, child bodies
and ``<frame>`` groups, posed in the body), and its joints as :class:`JointSpec` (a ball
joint becoming three hinges)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from ._description import BodySpec, JointSpec, RobotFileError, inertia_box
from ._mjcf_context import _Context
from ._mjcf_geoms import _read_geom

__all__ = ["_read_body"]


def _read_body(
    ctx: _Context,
    element: ET.Element,
    parent: int,
    worldbody_class: str | None,
    bodies: list[BodySpec],
    root_joints: tuple[ET.Element, ...] = (),
) -> None:
    """Append ``element`` and its subtree to ``bodies``. ``root_joints``: the joints of the
    root that spell out its free joint (:func:`~._mjcf_root.spelled_out_free_joint`), skipped."""
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
    _read_children(
        ctx, element, body, index, np.zeros(3), np.eye(3), childclass, bodies, root_joints
    )


def _read_children(
    ctx: _Context,
    element: ET.Element,
    body: BodySpec,
    index: int,
    frame_pos: np.ndarray,
    frame_rot: np.ndarray,
    childclass: str | None,
    bodies: list[BodySpec],
    root_joints: tuple[ET.Element, ...] = (),
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
                if any(child is j for j in root_joints):
                    continue
                raise doc.error(
                    child,
                    f"a {kind} joint on the floating root body; expected a <freejoint/> there "
                    "(or three slide joints along orthogonal axes, optionally then one ball "
                    "joint: a free joint spelled out), and the robot's joints on the bodies "
                    "below it",
                )
            body.joints.extend(_read_joint(ctx, child, attrs, kind, frame_pos, frame_rot))
        elif tag == "geom":
            attrs = ctx.attrs(child, childclass)
            geom = _read_geom(ctx, child, attrs, len(body.geoms))
            if geom is not None:
                geom.pos = frame_pos + frame_rot @ geom.pos
                geom.rot = frame_rot @ geom.rot
                body.geoms.append(geom)
            elif attrs.get("type") not in ("plane", "hfield", "sdf"):  # a drawn shape
                body.visual_shapes = True
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

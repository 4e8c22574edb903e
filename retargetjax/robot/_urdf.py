"""URDF reader: links, joints (revolute, continuous, prismatic, fixed, floating), limits,
``mimic`` joints and collision primitives; meshes are recorded but never opened.

Rules followed (ROS URDF spec): a joint's ``origin`` (``xyz``, ``rpy`` = fixed-axis roll,
pitch, yaw) places the child link frame in the parent link frame; ``axis`` (default ``1 0
0``) is in the joint = child frame; ``continuous`` joints are unlimited; box ``size`` is
full lengths and cylinder ``length`` the full length. The root is the one link that is no
joint's child; a root named ``world`` without geometry, attached by a floating or fixed
joint, is dropped and its child becomes the floating base, posed by that joint's origin (its
rotation is the robot's standing orientation, as an MJCF root body's own). Bodies are
ordered depth first from the root, children in joint file order (so a parent always precedes
its children).
"""

from __future__ import annotations

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
from ._spatial import rpy_to_mat_np
from ._xml import XmlDoc, parse_xml

__all__ = ["parse_urdf"]


def _origin(doc: XmlDoc, parent: ET.Element) -> tuple[np.ndarray, np.ndarray]:
    origin = parent.find("origin")
    if origin is None:
        return np.zeros(3), np.eye(3)
    xyz = doc.floats(origin, "xyz", 3)
    rpy = doc.floats(origin, "rpy", 3)
    return (np.zeros(3) if xyz is None else xyz), (np.eye(3) if rpy is None else rpy_to_mat_np(rpy))


def _collision_geoms(doc: XmlDoc, link: ET.Element) -> list[GeomSpec]:
    geoms = []
    for k, coll in enumerate(link.findall("collision")):
        geometry = coll.find("geometry")
        if geometry is None or len(geometry) == 0:
            raise doc.error(coll, "missing <geometry> with a shape")
        shape = geometry[0]
        pos, rot = _origin(doc, coll)
        name = coll.get("name") or f"collision{k}"
        if shape.tag == "sphere":
            r = doc.floats(shape, "radius", 1)
            if r is None:
                raise doc.error(shape, "missing attribute 'radius'")
            size = r
        elif shape.tag in ("cylinder", "capsule"):  # capsule: not in the spec, but common
            r, length = doc.floats(shape, "radius", 1), doc.floats(shape, "length", 1)
            if r is None or length is None:
                raise doc.error(shape, "expected attributes 'radius' and 'length'")
            size = np.array([r[0], 0.5 * length[0]])
        elif shape.tag == "box":
            full = doc.floats(shape, "size", 3)
            if full is None:
                raise doc.error(shape, "missing attribute 'size'")
            size = 0.5 * full
        elif shape.tag == "mesh":
            size = np.zeros(0)
        else:
            raise doc.error(shape, "expected <box>, <cylinder>, <sphere>, <capsule> or <mesh>")
        geoms.append(GeomSpec(kind=shape.tag, name=name, pos=pos, rot=rot, size=size))
    return geoms


def _inertia_box(doc: XmlDoc, link: ET.Element) -> tuple[np.ndarray, ...] | None:
    """The inertia-equivalent box of a link's ``<inertial>`` (``None`` if absent or unusable:
    it only sizes mesh-only feet, so a bad one is not worth refusing the file for)."""
    inertial = link.find("inertial")
    if inertial is None:
        return None
    mass_el, inertia_el = inertial.find("mass"), inertial.find("inertia")
    if mass_el is None or inertia_el is None:
        return None
    try:
        pos, rot = _origin(doc, inertial)
        mass = doc.floats(mass_el, "value", 1)
        values = {}
        for key in ("ixx", "iyy", "izz", "ixy", "ixz", "iyz"):
            v = doc.floats(inertia_el, key, 1)
            values[key] = 0.0 if v is None else float(v[0])
    except RobotFileError:
        return None
    if mass is None:
        return None
    v = values
    matrix = np.array(
        [
            [v["ixx"], v["ixy"], v["ixz"]],
            [v["ixy"], v["iyy"], v["iyz"]],
            [v["ixz"], v["iyz"], v["izz"]],
        ]
    )
    return inertia_box(float(mass[0]), pos, rot, rot @ matrix @ rot.T)


def parse_urdf(path: str | Path) -> RobotDescription:
    """Read a URDF file into a :class:`RobotDescription` (no meshes are opened)."""
    path = Path(path)
    doc = parse_xml(path)
    root = doc.root
    if root.tag != "robot":
        raise doc.error(root, "expected <robot> as the root element of a URDF file")
    links: dict[str, ET.Element] = {}
    for link in root.findall("link"):
        name = link.get("name")
        if not name:
            raise doc.error(link, "missing attribute 'name'")
        if name in links:
            raise doc.error(link, f"duplicate link name {name!r}")
        links[name] = link
    if not links:
        raise doc.error(root, "no <link> elements")

    joints = root.findall("joint")
    child_joint: dict[str, ET.Element] = {}
    children: dict[str, list[str]] = {n: [] for n in links}
    for joint in joints:
        parent_el, child_el = joint.find("parent"), joint.find("child")
        if parent_el is None or child_el is None:
            raise doc.error(joint, "expected <parent link=...> and <child link=...>")
        parent, child = parent_el.get("link"), child_el.get("link")
        for role, ln in (("parent", parent), ("child", child)):
            if ln not in links:
                raise doc.error(joint, f"{role} link {ln!r} is not a <link> of this robot")
        if child in child_joint:
            raise doc.error(joint, f"link {child!r} is the child of two joints")
        child_joint[child] = joint
        children[parent].append(child)

    roots = [n for n in links if n not in child_joint]
    if len(roots) != 1:
        raise doc.error(root, f"expected one root link (not any joint's child), found {roots}")
    root_name = roots[0]
    root_link = links[root_name]
    if (
        len(children[root_name]) == 1
        and not root_link.findall("collision")
        and child_joint[children[root_name][0]].get("type") in ("floating", "fixed")
    ):
        world_joint = child_joint[children[root_name][0]]
        root_name = children[root_name][0]  # drop a bare 'world' link
    else:
        world_joint = None

    bodies: list[BodySpec] = []

    def visit(name: str, parent: int) -> None:
        link = links[name]
        body = BodySpec(name=name, parent=parent, pos=np.zeros(3), rot=np.eye(3))
        if parent < 0 and world_joint is not None:
            # The joint from 'world' poses the root: its orientation is the standing one.
            body.pos, body.rot = _origin(doc, world_joint)
        if parent >= 0:
            joint = child_joint[name]
            body.pos, body.rot = _origin(doc, joint)
            spec = _read_joint(doc, joint)
            if spec is not None:
                body.joints.append(spec)
        body.geoms = _collision_geoms(doc, link)
        body.visual_shapes = bool(link.findall("visual"))
        body.inertia_box = _inertia_box(doc, link)
        index = len(bodies)
        bodies.append(body)
        for child in children[name]:
            visit(child, index)

    visit(root_name, -1)
    return RobotDescription(name=root.get("name", path.stem), path=path, bodies=bodies)


def _read_joint(doc: XmlDoc, joint: ET.Element) -> JointSpec | None:
    kind = joint.get("type")
    name = joint.get("name")
    if not name:
        raise doc.error(joint, "missing attribute 'name'")
    if kind == "fixed":
        return None
    if kind == "floating":
        raise doc.error(joint, "a floating joint is only supported on the root link")
    if kind not in ("revolute", "continuous", "prismatic"):
        raise doc.error(
            joint, f"type={kind!r}: expected revolute, continuous, prismatic, fixed or floating"
        )
    axis_el = joint.find("axis")
    axis = np.array([1.0, 0.0, 0.0]) if axis_el is None else doc.floats(axis_el, "xyz", 3)
    if axis is None:
        axis = np.array([1.0, 0.0, 0.0])
    norm = np.linalg.norm(axis)
    if norm < 1e-12:
        raise doc.error(joint, "axis has zero length")
    lower, upper, velocity = -np.inf, np.inf, np.inf
    limit = joint.find("limit")
    if limit is not None:
        vel = doc.floats(limit, "velocity", 1)
        velocity = np.inf if vel is None or vel[0] <= 0 else float(vel[0])
        if kind != "continuous":
            lo, hi = doc.floats(limit, "lower", 1), doc.floats(limit, "upper", 1)
            lower = 0.0 if lo is None else float(lo[0])
            upper = 0.0 if hi is None else float(hi[0])
            if lower > upper:
                raise doc.error(limit, f"lower {lower} > upper {upper}")
            if lower == upper == 0.0 and lo is None and hi is None:
                lower, upper = -np.inf, np.inf
    mimic = None
    mimic_el = joint.find("mimic")
    if mimic_el is not None:
        src = mimic_el.get("joint")
        if not src:
            raise doc.error(mimic_el, "missing attribute 'joint'")
        mult = doc.floats(mimic_el, "multiplier", 1)
        off = doc.floats(mimic_el, "offset", 1)
        mimic = (
            src,
            1.0 if mult is None else float(mult[0]),
            0.0 if off is None else float(off[0]),
        )
    return JointSpec(
        name=name,
        kind="slide" if kind == "prismatic" else "hinge",
        axis=axis / norm,
        lower=lower,
        upper=upper,
        velocity=velocity,
        mimic=mimic,
    )

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
  top-level tree); it is the floating base, and its own orientation in the file is the
  robot's standing one (``RobotModel.default_root_quat``: dm_control's CMU humanoid stands
  its y-up tree up with ``euler="90 0 0"`` on the root). A free joint spelled out (three
  orthogonal slide joints, optionally then a ball joint, as in humanoid-gym's files) counts
  as one, with a note (``_mjcf_root``); any other joint on the root is an error. Other
  top-level bodies (a floor, props, placeholder bodies) are not attached to it and are left
  out, with a note. A ball joint becomes three hinges ``name_x/_y/_z``.

The pieces: compiler settings, default classes and poses in ``_mjcf_context``; bodies and
joints in ``_mjcf_bodies``; geoms in ``_mjcf_geoms``; keyframes in ``_mjcf_keyframes``. This
module splices includes, picks the robot among the top-level bodies and puts them together.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._description import BodySpec, RobotDescription
from ._mjcf_bodies import _read_body
from ._mjcf_context import _Context
from ._mjcf_keyframes import _qpos_width, _read_keyframes
from ._mjcf_root import has_free_joint, spelled_out_free_joint, spelled_out_note
from ._xml import XmlDoc, parse_xml

__all__ = ["parse_mjcf"]


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

    spelled = {id(b): spelled_out_free_joint(ctx, b) for b in top}
    root_body, floating = _robot_root(top, lambda b: has_free_joint(b) or bool(spelled[id(b)]))
    root_joints = spelled[id(root_body)] if not has_free_joint(root_body) else ()
    if root_joints:
        warnings.warn(f"{path}: {spelled_out_note(root_body, root_joints)}", stacklevel=2)
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
    _read_body(ctx, root_body, -1, worldbody_class=None, bodies=bodies, root_joints=root_joints)

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
        ctx,
        root,
        bodies,
        has_free_root=floating and not root_joints,
        qpos_span=(before, total),
        root_width=3 + 4 * (len(root_joints) == 4) if root_joints else None,
    )
    return desc


def _tree_size(body: ET.Element) -> tuple[int, int]:
    """(joints, bodies) in the tree below and including ``body``."""
    joints = sum(1 for e in body.iter() if e.tag in ("joint", "freejoint"))
    return joints, sum(1 for e in body.iter() if e.tag == "body")


def _robot_root(
    top: list[ET.Element], floats: Callable[[ET.Element], bool]
) -> tuple[ET.Element, bool]:
    """The robot among the top-level bodies, and whether it floats (``floats``: it carries a
    free joint, or one spelled out).

    Files often hold more than the robot under ``<worldbody>``: a floor or a table body, a
    free-floating prop, or placeholder bodies that only carry the joints of a bigger
    variant (unitree_mujoco's ``g1_23dof.xml`` parks ``waist_roll_joint`` and the wrist
    pitch/yaw joints in bodies 20 m up). The robot is the largest tree (most joints, then
    most bodies) among the top-level bodies with a free joint, else among all of them; the
    first such body wins a tie.
    """
    floating = [b for b in top if floats(b)]
    candidates = floating or top
    best = max(candidates, key=lambda b: (_tree_size(b), -candidates.index(b)))
    return best, bool(floating)

"""Bundled robots and :func:`load_robot`.

The bundled robots' files and hand-checked keypoint choices are in ``_bundled_robots``; what
outputs record of a robot in ``_robot_output``. This module reads a robot file (MJCF or
URDF, by its root element) and builds the model, with inferred keypoints for a user's file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from ..types import RobotKind
from ._build import build_model
from ._bundled_robots import ROBOT_REGISTRY, robot_asset_path
from ._description import RobotDescription, RobotFileError
from ._keypoints import apply_keypoint_yaml, guess_keypoints, mapping_table
from ._mjcf import parse_mjcf
from ._model import RobotModel
from ._topology import proportion_warnings
from ._topology_legs import check_legs
from ._urdf import parse_urdf

_log = logging.getLogger("retargetjax.robot")

__all__ = ["file_sha256", "load_robot", "parse_robot_file"]


def parse_robot_file(path: str | Path) -> RobotDescription:
    """Parse an MJCF (``.xml``/``.mjcf``) or URDF (``.urdf``) file by its root element."""
    path = Path(path)
    if not path.is_file():
        bundled = ", ".join(k.value for k in RobotKind)
        raise FileNotFoundError(
            f"{path}: robot file does not exist; expected an MJCF (.xml) or URDF (.urdf) "
            f"file, or a bundled robot ({bundled})"
        )
    text = re.sub(
        r"<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>]*>", "", path.read_text(errors="replace"), flags=re.S
    )
    first = re.search(r"<([A-Za-z_][\w.-]*)", text)
    root_tag = first.group(1) if first else ""
    if root_tag == "robot":
        return parse_urdf(path)
    if root_tag == "mujoco":
        return parse_mjcf(path)
    if not root_tag and path.suffix.lower() == ".urdf":
        return parse_urdf(path)  # its parser names the XML error
    if not root_tag and path.suffix.lower() in (".xml", ".mjcf"):
        return parse_mjcf(path)
    raise RobotFileError(
        f"{path}: not a robot file (root element <{root_tag or '?'}>); expected an MJCF "
        "(<mujoco>) or URDF (<robot>) file"
    )


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_printed: set[tuple[str, str, str]] = set()


def load_robot(
    robot: RobotKind | str | Path | RobotModel,
    keypoints_yaml: str | Path | None = None,
    dtype=jnp.float32,
    verbose: bool = True,
) -> RobotModel:
    """Load a bundled robot (``RobotKind`` or its value, e.g. ``"unitree_g1"``) or a file.

    For a user's MJCF/URDF file the canonical keypoints and feet are inferred from the
    kinematic tree and rest pose, with name rules for what the topology leaves out (see
    :mod:`retargetjax.robot._topology` and :mod:`retargetjax.robot._keypoints`); the mapping
    table (keypoint, body, why) and any doubtful keypoint are printed once per file when
    ``verbose`` and kept in :attr:`RobotModel.mapping_report`. ``keypoints_yaml`` overrides
    them (also for bundled robots). ``dtype`` is the float type of the model's arrays
    (float64 needs ``jax_enable_x64``). A :class:`RobotModel` is returned as it is.

    Raises:
        RobotFileError: not a robot file, or a tree with no two leg chains whose feet no name
            or YAML gives (one line: the file, what is wrong, what was expected).
    """
    if isinstance(robot, RobotModel):
        return robot
    kind = None
    if isinstance(robot, RobotKind):
        kind = robot
    elif isinstance(robot, str) and robot in {k.value for k in RobotKind}:
        kind = RobotKind(robot)
    sole_points = None
    facing = 0.0
    notes: list[str] = []
    if kind is not None:
        entry = ROBOT_REGISTRY[kind]
        path = robot_asset_path(kind)
        desc = parse_robot_file(path)
        keypoints = {
            k: (b, np.asarray(o, dtype=np.float64)) for k, (b, o) in entry.keypoints.items()
        }
        reasons = {k: "registry" for k in keypoints}
        feet: tuple[str, str] | None = entry.feet
        pose = dict(entry.default_joint_pos)
        name = kind.value
    else:
        path = Path(robot)
        desc = parse_robot_file(path)
        guess = guess_keypoints(desc)
        keypoints, feet, reasons = guess.keypoints, guess.feet, dict(guess.reasons)
        sole_points = guess.sole_points
        facing = guess.facing
        notes += guess.notes
        pose = dict(desc.keyframes.get("home") or desc.keyframes.get("stand") or {})
        pose.pop("__root_z__", None)
        name = desc.name
    if keypoints_yaml is not None:
        before = dict(keypoints)
        keypoints, feet_yaml, pose = apply_keypoint_yaml(keypoints_yaml, keypoints, feet, pose)
        if feet_yaml != feet:
            sole_points = None
        feet = feet_yaml
        for key, (body, offset) in keypoints.items():
            old = before.get(key)
            if old is None or old[0] != body or not np.allclose(old[1], offset):
                reasons[key] = "yaml"
    if feet is None:
        detail = next((n[len("topology: ") :] for n in notes if n.startswith("topology: ")), None)
        raise RobotFileError(
            detail
            or f"{desc.path}: could not find the feet (no two leg chains, no left/right ankle "
            "or foot links); expected a humanoid, or name them in a keypoints YAML: "
            "feet: [left_body, right_body]"
        )
    keypoints = {k: v for k, v in keypoints.items() if k in reasons}
    if kind is None:
        pelvis_body = keypoints["pelvis"][0] if "pelvis" in keypoints else desc.bodies[0].name
        check_legs(desc, pelvis_body, feet)
        notes += proportion_warnings(desc, keypoints)
        arms = ("shoulder", "elbow", "wrist", "hand")
        if not any(f"{s}_{a}" in keypoints for s in ("left", "right") for a in arms):
            notes.append(
                "arms: none found; the human's shoulders, elbows, wrists and hands are not tracked"
            )
    model = build_model(
        desc, keypoints, feet, pose, sole_points=sole_points, name=name, dtype=dtype, facing=facing
    )
    if kind is None:
        lower, upper = np.asarray(model.joint_lower), np.asarray(model.joint_upper)
        free = [n for n, lo, hi in zip(model.joint_names, lower, upper) if not lo < hi < np.inf]
        if free:
            listed = ", ".join(free[:4]) + (f" and {len(free) - 4} more" if len(free) > 4 else "")
            notes.append(
                f"{len(free)} of {len(model.joint_names)} joints have no limits in the file "
                f"({listed}): the solver may turn them anywhere and the joint-limit metrics "
                "cannot flag them; add a range (MJCF) or <limit> (URDF) to each"
            )
    digest = file_sha256(path)
    reason = tuple(reasons.get(k, "topology") for k in model.keypoint_names)
    offsets = np.asarray(model.keypoint_offset, np.float64)
    placed = {
        k: (model.body_names[b], offsets[i])
        for i, (k, b) in enumerate(zip(model.keypoint_names, model.keypoint_body))
    }
    table = mapping_table(
        placed, dict(zip(model.keypoint_names, reason)), f"robot keypoint map for {path.name}:"
    )
    table += f"\n{'feet':>15s} -> {feet[0]}, {feet[1]}"
    noted = ("names: ", "arms: ", "facing: ")
    name_notes = [n for n in notes if n.startswith(noted)]
    warnings_text = [n for n in notes if not n.startswith(("topology: ", *noted))]
    table += "".join(f"\n  note: {n}" for n in name_notes)
    table += "".join(f"\n  warning: {n}" for n in warnings_text)
    model = dataclasses.replace(
        model,
        source=str(Path(path).resolve()),
        source_sha256=digest,
        keypoint_reason=reason,
        mapping_report=table,
    )
    key = (str(path), digest, str(keypoints_yaml))
    if verbose and kind is None and key not in _printed:
        _printed.add(key)
        print(f"[retargetjax.robot] {table}")
        for note in warnings_text:
            _log.warning("%s: %s", path, note)
    return model

"""What scaling a human clip to a robot walks over: the canonical keypoint tree, the
robot's keypoints at its standing pose, the built body frames that carry hips and
shoulders, and the ankle→toe vector (see :mod:`._targets` for the math)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..robot import RobotModel, forward_kinematics, keypoint_positions
from ._errors import RetargetError

__all__ = ["KEYPOINT_TREE"]


#: Parent of each canonical keypoint in the scaling tree (pelvis is the root).
KEYPOINT_TREE: dict[str, str] = {
    "torso": "pelvis",
    "neck": "torso",
    "head": "neck",
    "left_hip": "pelvis",
    "right_hip": "pelvis",
    "left_knee": "left_hip",
    "right_knee": "right_hip",
    "left_ankle": "left_knee",
    "right_ankle": "right_knee",
    "left_toe": "left_ankle",
    "right_toe": "right_ankle",
    "left_shoulder": "torso",
    "right_shoulder": "torso",
    "left_elbow": "left_shoulder",
    "right_elbow": "right_shoulder",
    "left_wrist": "left_elbow",
    "right_wrist": "right_elbow",
    "left_hand": "left_wrist",
    "right_hand": "right_wrist",
}


def _fill_missing(positions: np.ndarray, names: tuple[str, ...], source: str) -> np.ndarray:
    """Interpolate frames where a keypoint is NaN; a keypoint NaN throughout is an error."""
    out = positions.copy()
    t = np.arange(out.shape[0])
    for k, name in enumerate(names):
        bad = ~np.all(np.isfinite(out[:, k]), axis=-1)
        if bad.all():
            raise RetargetError(f"{source}: keypoint {name!r} is missing (NaN) in every frame")
        if bad.any():
            for a in range(3):
                out[bad, k, a] = np.interp(t[bad], t[~bad], out[~bad, k, a])
    return out


def _segments(names: tuple[str, ...]) -> dict[str, str]:
    """Tree restricted to ``names``: each keypoint's nearest present ancestor."""
    present = set(names)
    parents: dict[str, str] = {}
    for name in names:
        p = KEYPOINT_TREE.get(name)
        while p is not None and p not in present:
            p = KEYPOINT_TREE.get(p)
        if p is not None:
            parents[name] = p
    return parents


@jax.jit
def _rest_kinematics(robot: RobotModel):
    fk = forward_kinematics(
        robot,
        jnp.asarray(robot.default_root_pos, jnp.float32),
        jnp.asarray(robot.default_root_quat, jnp.float32),
        jnp.asarray(robot.default_joint_pos, jnp.float32),
    )
    return fk, keypoint_positions(robot, fk)


def _robot_rest(robot: RobotModel) -> dict[str, Any]:
    """Robot keypoints, pelvis rotation and foot geometry at its standing pose."""
    fk, kp = _rest_kinematics(robot)
    fk = jax.tree_util.tree_map(np.asarray, fk)
    kp = np.asarray(kp, np.float64)
    sole_z = []
    for side in range(2):
        b = robot.foot_body[side]
        pts = np.asarray(fk.pos[b]) + np.asarray(robot.sole_points[side]) @ np.asarray(fk.rot[b]).T
        sole_z.append(float(pts[:, 2].min()))
    floor = min(sole_z)
    kp[:, 2] -= floor  # the robot's feet stand on z = 0
    return {
        "keypoints": {n: kp[i] for i, n in enumerate(robot.keypoint_names)},
        "root_pos": np.asarray(fk.pos[0], np.float64) - np.array([0, 0, floor]),
        "root_rot": np.asarray(fk.rot[0], np.float64),
    }


def _rigid_frames(specs: list[tuple[str, str, str, str]]) -> dict[str, tuple[str, str]]:
    """Keypoints that sit on the pelvis or the chest, and the built frame that carries them.

    Hips ride on the pelvis and shoulders on the chest: their offsets are the robot's own
    (turned by the human's frame), since human and robot place them differently.
    """
    out: dict[str, tuple[str, str]] = {}
    for spec in specs:
        for k in spec[:2]:
            out[k] = spec[2:]
    return out


def _frame_specs(names: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    have = set(names)
    specs = []
    if {"left_hip", "right_hip", "pelvis", "torso"} <= have:
        specs.append(("left_hip", "right_hip", "pelvis", "torso"))
    top = "head" if "head" in have else ("neck" if "neck" in have else None)
    if {"left_shoulder", "right_shoulder", "torso"} <= have:
        if top is not None:
            specs.append(("left_shoulder", "right_shoulder", "torso", top))
        elif "pelvis" in have:
            specs.append(("left_shoulder", "right_shoulder", "pelvis", "torso"))
    return specs


def _leg_chains(names: tuple[str, ...]) -> list[list[tuple[str, str]]]:
    chains = []
    for side in ("left", "right"):
        chain = [(f"{side}_hip", f"{side}_knee"), (f"{side}_knee", f"{side}_ankle")]
        if all(a in names and b in names for a, b in chain):
            chains.append(chain)
    if not chains:
        raise RetargetError("need hip, knee and ankle keypoints of at least one leg")
    return chains


def _depth(name: str, parents: dict[str, str]) -> int:
    d = 0
    while name in parents:
        name = parents[name]
        d += 1
    return d


def _foot_vector(d_h: np.ndarray, d_r: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Ankle→toe vector with the robot's length, the human's heading, and the human's pitch
    taken relative to its flat-foot pitch (median pitch during contact)."""
    horiz = np.linalg.norm(d_h[:, :2], axis=-1)
    pitch = np.arctan2(d_h[:, 2], np.maximum(horiz, 1e-9))
    flat_h = np.median(pitch[contact]) if contact.any() else np.percentile(pitch, 50)
    flat_r = np.arctan2(d_r[2], max(np.linalg.norm(d_r[:2]), 1e-9))
    new_pitch = pitch - flat_h + flat_r
    heading = d_h[:, :2] / np.maximum(horiz, 1e-9)[:, None]
    length = float(np.linalg.norm(d_r))
    out = np.empty_like(d_h)
    out[:, :2] = length * np.cos(new_pitch)[:, None] * heading
    out[:, 2] = length * np.sin(new_pitch)
    return out

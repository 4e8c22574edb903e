"""From a human clip to robot-sized targets: scaling, contact locking, orientation targets.

Scaling walks the canonical keypoint tree from the pelvis (``X`` robot targets, ``P`` human
keypoints, ``R`` the robot's keypoints at its standing pose, feet on z = 0)::

    X_pelvis = [s_root · P_pelvis,xy ,  z_ankle_r + s_root · (P_pelvis,z − z_ankle_h)]
    X_child  = X_parent + L_r · (P_child − P_parent) / |P_child − P_parent|      (limbs)
    X_child  = X_parent + F_h(t) F_rᵀ (R_child − R_parent)            (hips and shoulders)

``s_root`` is the ratio of standing pelvis heights above the ankles (pelvis→hip drop plus
thigh plus shin, robot over human), ``z_ankle_h`` the human's median ankle height in contact,
``z_ankle_r`` the robot's rest ankle height, ``L_r`` the robot's segment length. Limbs keep the
human's direction with the robot's length; hips ride on the pelvis and shoulders on the chest,
so they keep the robot's own offsets, turned by the human's built pelvis/chest frame ``F_h``
(against the robot's ``F_r`` at rest). The ankle→toe segment keeps the human's pitch relative
to its flat-foot pitch, so a flat human foot gives a flat robot foot although the feet differ.
The per-segment ratios ``L_r / L_h`` and ``s_root`` are reported as ``scale``.

Contact locking: a planted toe or heel (see :func:`~._contact_lock._foot_parts_down`) holds
its target at the mean horizontal position of its contact run and the robot's flat-foot
height, blended in and out over a few frames, so the targets themselves never slide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..io._rowwise import rot_to_quat_rows
from ..keypoints import CANONICAL_KEYPOINTS
from ..robot import RobotModel
from ._contact_lock import (
    _FOOT_KEYS,
    _foot_parts_down,
    _lock_feet,
    _part_contacts,
    _sole_is_toe,
    keypoint_clearance,
)
from ._costs import GROUND_MARGIN_M
from ._errors import RetargetError
from ._frames import built_frame
from ._scaling import (
    _depth,
    _fill_missing,
    _foot_vector,
    _frame_specs,
    _leg_chains,
    _rigid_frames,
    _robot_rest,
    _segments,
)
from ._start_pose import start_joint_pos

__all__ = ["RetargetProblem", "build_problem"]


@dataclass(frozen=True)
class RetargetProblem:
    """Robot-sized targets of one clip, ready for the solver (numpy, float32).

    Arrays are in the robot's keypoint order (``robot.keypoint_names``), so that every clip
    for one robot has the same shapes but its length.
    """

    fps: float
    keypoint_names: tuple[str, ...]  # the canonical keypoints both sides have
    target_keypoints: np.ndarray  # (T, Kr, 3) m, in the robot's keypoint order
    keypoint_weight: np.ndarray  # (Kr,), 0 where the human lacks the keypoint
    keypoint_frame_weight: np.ndarray  # (T, Kr), feet weighted up while they are down
    sole_contact: np.ndarray  # (T, 2, P) 1 where that sole point's part of the foot is down
    contact: np.ndarray  # (T, 2) float {0, 1}: left, right foot in contact
    frame_keypoints: tuple[tuple[int, int, int, int], ...]  # per built frame: l, r, lo, hi
    frame_weight: np.ndarray  # (F,), 0 where the human lacks a frame's keypoints
    target_frames: np.ndarray  # (T, F, 3, 3)
    root_pos_init: np.ndarray  # (T, 3)
    root_quat_init: np.ndarray  # (T, 4) wxyz
    scale: dict[str, float] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=dict)  # the human keypoint map's report
    # (T, B) contact weight in [0, 1] of each of CONTACT_PARTS (ramped at the label's edges)
    part_contact: np.ndarray | None = None
    part_support: np.ndarray | None = None  # (T, B) m, support height (robot frame)
    body_contacts: Any = None  # the human's BodyContacts (for the output's metadata)
    # (T, N) where the per-frame stage starts (:mod:`._start_pose`: off the limits, far
    # arms from a table); None: the standing pose
    joint_pos_init: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return int(self.target_keypoints.shape[0])


#: Keypoints the scaling tree cannot do without (its root and the legs' ends).
_REQUIRED = ("pelvis", "left_hip", "right_hip", "left_ankle", "right_ankle")


def _check_required(human_names: tuple[str, ...], robot: RobotModel, source: str) -> None:
    """Raise one line naming every required keypoint the robot, then the human, lacks (and,
    for the robot, every other keypoint it lacks, which is only not tracked)."""
    expected = f"expected {', '.join(_REQUIRED)}"
    lacks = [n for n in _REQUIRED if n not in robot.keypoint_names]
    if lacks:
        others = [
            n for n in CANONICAL_KEYPOINTS if n not in robot.keypoint_names and n not in lacks
        ]
        also = f" (also missing, not tracked: {', '.join(others)})" if others else ""
        raise RetargetError(
            f"{robot.source or robot.name}: cannot retarget: the robot has no keypoint "
            f"{', '.join(lacks)}{also}; {expected} (set them in a keypoints YAML: "
            "robot.keypoints=map.yaml)"
        )
    lacks = [n for n in _REQUIRED if n not in human_names]
    if lacks:
        raise RetargetError(
            f"{source}: cannot retarget: the motion has no keypoint {', '.join(lacks)} (it "
            f"has {', '.join(n for n in CANONICAL_KEYPOINTS if n in human_names)}); {expected}"
        )


def build_problem(
    human_keypoints: np.ndarray,
    human_names: tuple[str, ...],
    contact: np.ndarray,
    fps: float,
    robot: RobotModel,
    *,
    contact_lock: bool = True,
    end_effector_weight: float = 1.5,
    contact_weight: float = 4.0,
    source: str = "<motion>",
    body_contacts: Any = None,
) -> RetargetProblem:
    """Scale human canonical keypoints ``(T, J, 3)`` (Z up, metres) to ``robot``'s size.

    ``human_names`` name the columns of ``human_keypoints`` (canonical names); ``contact``
    is ``(T, 2)`` boolean (left, right foot); ``body_contacts`` (a
    :class:`~retargetjax.motion.BodyContacts` of the same frames, optional) adds the
    contacts of hands, elbows, knees, pelvis, back and head (:func:`_part_contacts`). See
    the module docstring for the math.
    """
    robot_names = tuple(robot.keypoint_names)
    names = tuple(n for n in CANONICAL_KEYPOINTS if n in human_names and n in robot_names)
    _check_required(human_names, robot, source)
    if human_keypoints.shape[0] < 2:
        raise RetargetError(f"{source}: need at least 2 frames, got {human_keypoints.shape[0]}")
    cols = [human_names.index(n) for n in names]
    P = _fill_missing(np.asarray(human_keypoints, np.float64)[:, cols], names, source)
    T = P.shape[0]
    contact = np.asarray(contact, bool).reshape(T, 2)
    idx = {n: i for i, n in enumerate(names)}
    rest = _robot_rest(robot)
    R = rest["keypoints"]
    parents = _segments(names)

    # Human reference heights: ankles while in contact (or their low percentile).
    ankle_z = []
    for side, (ankle, _toe) in enumerate(_FOOT_KEYS):
        z = P[:, idx[ankle], 2]
        ankle_z.append(
            np.median(z[contact[:, side]]) if contact[:, side].any() else np.percentile(z, 5)
        )
    z_ankle_h = float(np.mean(ankle_z))
    z_ankle_r = float(np.mean([R["left_ankle"][2], R["right_ankle"][2]]))

    def seg_len_h(a: str, b: str) -> float:
        return float(np.median(np.linalg.norm(P[:, idx[a]] - P[:, idx[b]], axis=-1)))

    def seg_len_r(a: str, b: str) -> float:
        return float(np.linalg.norm(R[a] - R[b]))

    scale: dict[str, float] = {}
    for child, parent in parents.items():
        lh = seg_len_h(child, parent)
        scale[f"{parent}->{child}"] = seg_len_r(child, parent) / lh if lh > 1e-6 else 1.0

    def standing(lengths) -> float:
        return float(np.mean([sum(lengths(*seg) for seg in chain) for chain in _leg_chains(names)]))

    pelvis_h = standing(seg_len_h)
    pelvis_r = standing(seg_len_r)
    # Pelvis→hip vertical drop is part of the standing height.
    drop_h = float(
        np.median(
            P[:, idx["pelvis"], 2] - 0.5 * (P[:, idx["left_hip"], 2] + P[:, idx["right_hip"], 2])
        )
    )
    drop_r = float(R["pelvis"][2] - 0.5 * (R["left_hip"][2] + R["right_hip"][2]))
    s_root = (pelvis_r + drop_r) / max(pelvis_h + drop_h, 1e-6)
    scale["root"] = s_root

    # Human body frames (pelvis, torso) from the raw keypoints, and the robot's at rest.
    specs = _frame_specs(names)
    frames_h = {spec[2:]: built_frame(*(P[:, idx[k]] for k in spec), xp=np) for spec in specs}
    frames_r = {spec[2:]: built_frame(*(R[k] for k in spec), xp=np) for spec in specs}
    rigid_frame = _rigid_frames(specs)

    X = np.zeros_like(P)
    X[:, idx["pelvis"], :2] = s_root * P[:, idx["pelvis"], :2]
    X[:, idx["pelvis"], 2] = z_ankle_r + s_root * (P[:, idx["pelvis"], 2] - z_ankle_h)
    order = [n for n in names if n != "pelvis"]
    order.sort(key=lambda n: _depth(n, parents))  # parents before children
    for name in order:
        parent = parents[name]
        d_h = P[:, idx[name]] - P[:, idx[parent]]
        d_r = R[name] - R[parent]
        if name in rigid_frame and parent in ("pelvis", "torso"):
            # Within one rigid body: the robot's own offset, turned with the human's frame.
            key = rigid_frame[name]
            d = np.einsum("tij,j->ti", frames_h[key], frames_r[key].T @ d_r)
        elif name in ("left_toe", "right_toe") and parent.endswith("ankle"):
            side = 0 if name.startswith("left") else 1
            d = _foot_vector(d_h, d_r, contact[:, side])
        else:
            # A limb segment: the human's direction with the robot's length.
            n_h = np.linalg.norm(d_h, axis=-1, keepdims=True)
            d = np.linalg.norm(d_r) * d_h / np.maximum(n_h, 1e-9)
        X[:, idx[name]] = X[:, idx[parent]] + d

    # Which part of each foot the human has down: [foot, (toe, heel)].
    part_down = _foot_parts_down(P, idx, contact)
    if contact_lock:
        for side, (ankle, toe) in enumerate(_FOOT_KEYS):
            for part, key in ((1, ankle), (0, toe)):
                if key in idx:
                    # The planted sole stands on the solver's floor, GROUND_MARGIN_M up.
                    height = R[key][2] + GROUND_MARGIN_M
                    _lock_feet(X, part_down[:, side, part], [idx[key]], [height])

    # Planted body parts (hands, knees, seat, ...): targets held still on the floor.
    clearance = keypoint_clearance(robot)
    kp_clear = {n: float(clearance[robot_names.index(n)]) + GROUND_MARGIN_M for n in names}
    part_contact, part_support, part_down_kp = _part_contacts(
        body_contacts, T, s_root, X, idx, kp_clear, contact_lock
    )

    # No target below the floor the robot's body can reach: a keypoint sits at depth c_k
    # inside its body's capsules, so it is at least c_k above a floor that body touches (the
    # floor as the ground term sees it, GROUND_MARGIN_M up: kp_clear includes the margin).
    for n in names:
        X[:, idx[n], 2] = np.maximum(X[:, idx[n], 2], kp_clear[n])

    # Everything below lives in the robot's keypoint order, so the solver's shapes depend on
    # the robot only: keypoints the human lacks get weight 0.
    Kr = len(robot_names)
    target = np.zeros((T, Kr, 3), np.float64)
    weights = np.zeros(Kr, np.float32)
    for n in names:
        k = robot_names.index(n)
        target[:, k] = X[:, idx[n]]
        weights[k] = end_effector_weight if n.endswith(("ankle", "toe", "wrist", "hand")) else 1.0
    for k, n in enumerate(robot_names):
        if n not in idx:  # keep untracked targets finite: put them at the pelvis target
            target[:, k] = X[:, idx["pelvis"]]
    # A foot part that is down is tracked (1 + w_contact) times harder, so the robot's foot
    # holds its locked target instead of trading it for the pelvis or the knees.
    frame_weight_kp = np.tile(weights, (T, 1))
    for side, (ankle, toe) in enumerate(_FOOT_KEYS):
        for part, key in ((1, ankle), (0, toe)):
            if key in robot_names:
                k = robot_names.index(key)
                frame_weight_kp[:, k] *= 1.0 + contact_weight * part_down[:, side, part]
    for n, down in part_down_kp.items():
        frame_weight_kp[:, robot_names.index(n)] *= 1.0 + contact_weight * down
    sole_is_toe = _sole_is_toe(robot)  # (2, P)
    sole_contact = np.where(
        sole_is_toe[None], part_down[:, :, None, 0], part_down[:, :, None, 1]
    ).astype(np.float32)

    specs = _frame_specs(robot_names)
    frame_kp = tuple(tuple(robot_names.index(k) for k in spec) for spec in specs)
    frames = np.tile(np.eye(3), (T, len(specs), 1, 1))
    frame_weight = np.zeros(len(specs), np.float32)
    for f, spec in enumerate(specs):
        if all(k in idx for k in spec):
            frames[:, f] = built_frame(*(X[:, idx[k]] for k in spec), xp=np)
            frame_weight[f] = 1.0
    # Root rotation = pelvis frame · (rest pelvis frame)ᵀ · rest root rotation.
    if specs and specs[0][0] == "left_hip" and frame_weight[0] > 0:
        rest_pelvis = built_frame(*(R[k] for k in specs[0]), xp=np)
        root_rot = frames[:, 0] @ (rest_pelvis.T @ rest["root_rot"])
    else:
        root_rot = np.broadcast_to(rest["root_rot"], (T, 3, 3))
    # Bucketed rows: a handful of compilations for every clip length (a jit on (T, 3, 3)
    # would compile anew for each T, half a second per clip in a batch).
    root_quat = np.asarray(rot_to_quat_rows(np.asarray(root_rot, np.float32)), np.float64)
    pelvis_offset_rest = rest["root_rot"].T @ (R["pelvis"] - rest["root_pos"])
    root_pos = X[:, idx["pelvis"]] - np.einsum("tij,j->ti", root_rot, pelvis_offset_rest)

    joint_pos_init = start_joint_pos(robot, target, weights)
    return RetargetProblem(
        fps=float(fps),
        keypoint_names=names,
        target_keypoints=target.astype(np.float32),
        keypoint_weight=weights,
        keypoint_frame_weight=frame_weight_kp.astype(np.float32),
        sole_contact=sole_contact,
        contact=contact.astype(np.float32),
        frame_keypoints=frame_kp,
        frame_weight=frame_weight,
        target_frames=frames.astype(np.float32),
        root_pos_init=root_pos.astype(np.float32),
        root_quat_init=root_quat.astype(np.float32),
        scale=scale,
        part_contact=part_contact,
        part_support=part_support,
        body_contacts=body_contacts,
        joint_pos_init=joint_pos_init,
    )

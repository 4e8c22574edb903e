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

Contact locking: a planted toe or heel (see :func:`_foot_parts_down`) holds its target at the
mean horizontal position of its contact run and the robot's flat-foot height, blended in and
out over a few frames, so the targets themselves never slide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..io._rowwise import rot_to_quat_rows
from ..keypoints import CANONICAL_KEYPOINTS
from ..robot import RobotModel, forward_kinematics, keypoint_positions
from ._costs import GROUND_MARGIN_M
from ._frames import built_frame

__all__ = [
    "KEYPOINT_TREE",
    "RetargetError",
    "RetargetProblem",
    "build_problem",
    "keypoint_clearance",
]


class RetargetError(ValueError):
    """A clip that cannot be retargeted (missing keypoints, nothing valid to track)."""


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

_FOOT_KEYS = (("left_ankle", "left_toe"), ("right_ankle", "right_toe"))


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

    @property
    def num_frames(self) -> int:
        return int(self.target_keypoints.shape[0])


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


def _contact_runs(contact: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the runs of True in a boolean vector."""
    padded = np.concatenate([[False], contact, [False]]).astype(np.int8)
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


@jax.jit
def _rest_kinematics(robot: RobotModel):
    fk = forward_kinematics(
        robot,
        jnp.asarray(robot.default_root_pos, jnp.float32),
        jnp.array([1.0, 0.0, 0.0, 0.0], jnp.float32),
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
    required = ("pelvis", "left_hip", "right_hip", "left_ankle", "right_ankle")
    missing = [n for n in required if n not in names]
    if missing:
        raise RetargetError(
            f"{source}: cannot retarget without keypoints {missing}; the human has "
            f"{sorted(human_names)}, the robot {robot.name!r} has {sorted(robot_names)}"
        )
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
    )


def keypoint_clearance(robot: RobotModel) -> np.ndarray:
    """(K,) m: the least height of each robot keypoint above a floor its body rests on.

    A keypoint ``p`` at distance ``δ`` from the axis of a capsule of radius ``ρ`` on its own
    body has the ball of radius ``ρ − δ`` around it inside the capsule, so with that capsule
    above ``z = 0``, ``p_z ≥ ρ − δ``; the clearance is the largest such bound over the
    body's capsules (0 for a keypoint outside them all). A target below it would pull the
    body into the floor: targets are lifted to it (a hand the human plants on the floor, whose
    scaled target lands under the robot's floor, touches the floor instead).
    """
    out = np.zeros(len(robot.keypoint_names), np.float64)
    bodies = np.asarray(robot.capsule_body)
    p0, p1 = np.asarray(robot.capsule_p0, np.float64), np.asarray(robot.capsule_p1, np.float64)
    radius = np.asarray(robot.capsule_radius, np.float64)
    offsets = np.asarray(robot.keypoint_offset, np.float64)
    for k, b in enumerate(np.asarray(robot.keypoint_body)):
        for c in np.flatnonzero(bodies == b):
            ab = p1[c] - p0[c]
            s = np.clip(np.dot(offsets[k] - p0[c], ab) / max(np.dot(ab, ab), 1e-12), 0.0, 1.0)
            depth = radius[c] - np.linalg.norm(offsets[k] - (p0[c] + s * ab))
            out[k] = max(out[k], depth)
    return out


#: Parts that roll on the floor while in contact (their targets are not locked in place).
ROLLING_PARTS = ("pelvis", "back", "head")
#: Frames over which a body part's contact weight ramps in and out (each side of an edge).
PART_RAMP_FRAMES = 2


def _part_contacts(
    body_contacts: Any,
    T: int,
    s_root: float,
    X: np.ndarray,
    idx: dict[str, int],
    clearance: dict[str, float],
    lock: bool,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Contacts of the parts of :data:`~retargetjax.retarget._problem.CONTACT_PARTS`.

    Returns ``(c, h, down)``: ``c`` (T, B) the contact weight, the label smoothed by a box
    of ``2R + 1`` frames (``R =`` :data:`PART_RAMP_FRAMES`), so it ramps over the label's
    edges instead of jumping; ``h`` (T, B) the support height in the robot's frame,
    ``s_root · (s − floor_z)`` on a raised support, 0 on the floor (the solver's floor is
    the clip's floor mapped to z = 0); ``down`` the (T,) contact label of each keypoint of a
    planted part. With ``lock``, the keypoint targets of a planted limb (not of the
    :data:`ROLLING_PARTS`, which roll over the floor) are held at their
    mean position over the span, shifted up or down together so that the lowest of them
    stands its clearance (:func:`keypoint_clearance`) above the support: the part touches
    it, neither under nor above; blended in and out like a foot's.
    """
    from ._problem import CONTACT_PARTS

    B = len(CONTACT_PARTS)
    c = np.zeros((T, B), np.float32)
    h = np.zeros((T, B), np.float32)
    down: dict[str, np.ndarray] = {}
    if body_contacts is None:
        return c, h, down
    if body_contacts.num_frames != T:
        raise RetargetError(f"body contacts have {body_contacts.num_frames} frames, the clip {T}")
    box = np.ones(2 * PART_RAMP_FRAMES + 1) / (2 * PART_RAMP_FRAMES + 1)
    for b, part in enumerate(CONTACT_PARTS):
        if part not in body_contacts.parts:
            continue
        p = body_contacts.part_index(part)
        label = np.asarray(body_contacts.labels[:, p], bool)
        if not label.any():
            continue
        c[:, b] = np.convolve(label.astype(np.float64), box, mode="same")
        raised = np.asarray(body_contacts.raised[:, p], bool) & label
        lift = s_root * (np.asarray(body_contacts.support_height[:, p]) - body_contacts.floor_z)
        h[:, b] = np.where(raised, np.maximum(lift, 0.0), 0.0)
        keys = [k for k in body_contacts.part_keypoints[p] if k in idx]
        for key in keys:
            down[key] = label.astype(np.float32)
        if not (lock and keys) or part in ROLLING_PARTS:
            continue
        cols = [idx[k] for k in keys]
        for start, stop in _contact_runs(label):
            run = np.zeros(T, bool)
            run[start:stop] = True
            # Mean heights over the span, shifted together so that the lowest keypoint
            # (by its clearance) touches the support: a hand on the floor keeps its wrist
            # above it.
            z = X[start:stop][:, cols, 2].mean(axis=0)
            shift = float(h[start, b]) - min(z[i] - clearance[k] for i, k in enumerate(keys))
            _lock_feet(X, run, cols, [float(zi + shift) for zi in z])
    return c, h, down


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


#: How far (m) above its planted height a human heel or toe may be and still count as down.
PART_LIFT_M = 0.02


def _foot_parts_down(P: np.ndarray, idx: dict[str, int], contact: np.ndarray) -> np.ndarray:
    """(T, 2, 2) booleans: for each foot in contact, is its toe (0) / heel (1) down?

    A part is down while the foot is in contact and the part's keypoint (toe; ankle for the
    heel) is within :data:`PART_LIFT_M` of its planted height (the 20th percentile of its
    height over the contact frames). A contact frame where neither qualifies counts both.
    """
    T = P.shape[0]
    out = np.zeros((T, 2, 2), bool)
    for side, (ankle, toe) in enumerate(_FOOT_KEYS):
        c = contact[:, side]
        parts = []
        for key in (toe, ankle):
            flag = c.copy()
            if key in idx and c.any():
                z = P[:, idx[key], 2]
                flag &= z < np.percentile(z[c], 20) + PART_LIFT_M
            parts.append(flag)
        neither = c & ~parts[0] & ~parts[1]
        out[:, side, 0] = parts[0] | neither
        out[:, side, 1] = parts[1] | neither
    return out


def _sole_is_toe(robot: RobotModel) -> np.ndarray:
    """(2, P) True for the sole points in front of their foot's sole centre (toe side)."""
    sole = np.asarray(robot.sole_points)
    return sole[..., 0] > sole[..., 0].mean(axis=-1, keepdims=True)


def _lock_feet(
    X: np.ndarray, contact: np.ndarray, cols: list[int], heights: list[float], blend: int = 3
) -> None:
    """Hold the foot targets ``cols`` still (mean xy, rest height) in each contact run."""
    T = X.shape[0]
    for start, stop in _contact_runs(contact):
        for c, h in zip(cols, heights):
            anchor = np.empty(3)
            anchor[:2] = X[start:stop, c, :2].mean(axis=0)
            anchor[2] = h
            X[start:stop, c] = anchor
            # Blend the free targets towards the anchor just outside the run.
            for k in range(1, blend + 1):
                a = 1.0 - k / (blend + 1)
                for t in (start - k, stop - 1 + k):
                    if 0 <= t < T and not contact[t]:
                        X[t, c] = a * anchor + (1 - a) * X[t, c]

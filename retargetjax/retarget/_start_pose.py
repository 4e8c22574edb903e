"""Where the per-frame stage starts: the standing pose off its joint limits with its arms
down, and arms far from there from a table of arm poses.

**Off the limits.** Many files stand their robot with elbows or knees straight, exactly at a
joint limit. A straight arm is a singular pose: turning the upper arm about itself moves
neither elbow nor wrist, so nothing tells the solver which way the elbow should bend, and an
elbow pushed against its limit stays straight all clip long (AzureLoong, Atlas). Every hinge
joint the standing pose puts on a limit starts ``min(0.25 rad, ¼ range)`` inside it
(:func:`standing_start`).

**Arms down.** A robot standing in a T-pose (AzureLoong, Atlas, Poppy: upper arms over 50°
from hanging) starts with its arms hanging instead: lowered from a T-pose by the shoulder
alone, an elbow whose axis points forward bends the forearm sideways, across the body or
out, and the solver, which only ever turns joints a little, keeps it straight rather than
twist the upper arm a quarter turn first (AzureLoong's right elbow stayed at its limit all
walk long). Each such arm starts at the entry of the table below nearest a relaxed human
arm: the highest ``u·u* + f·f* − 0.05 ‖q − q_0‖₁ / n`` for upper arm
``u* = (0, ±0.17, −0.985)`` (down, a little out) and forearm ``f* = (0.7, ±0.1, −0.7)``
(bent 45° forward), torso frame; refined twice on a grid of half the spacing around it.
Most clips hold the arms down most of the time, and every frame's arms start from there.

**Arm seeds.** The per-frame stage starts every frame at the standing start. An arm whose
target is
far from there (overhead in a cartwheel or a handstand, across the body) can be pulled the
wrong way round: with the arm hanging and its target straight up the tracking gradient has
no preferred direction, and the arm may swing through the torso into a joint limit and stay
there (a local minimum the later stages cannot leave). So each frame's arm starts at the
entry of a table of arm poses that points its upper arm and forearm most nearly as the
target does.

**Table** (once per robot): for the hinge joints on the chain from the torso keypoint's body
to the elbow keypoint's body (shoulder joints and the elbow), every combination of ``K``
values spread over each joint's range (``K`` = 5, 4 or 3 for up to 3, 4 or more joints), the
other joints at the standing pose. For each entry, the unit upper arm
``u = (p_elbow − p_shoulder)/|·|`` and forearm ``f = (p_wrist − p_elbow)/|·|`` in the robot's
torso frame ``F = built_frame(l_shoulder, r_shoulder, pelvis, torso)`` at the standing pose.
Entries that put the elbow or the wrist inside the trunk (within ``0.6 · w/2`` of the
pelvis–torso axis, ``w`` the shoulder width) are dropped.

Each joint's grid also holds its standing value (off its limit, as below).

**Choice** (per frame, per arm): with the target's ``u*``, ``f*`` in the target's own torso
frame, an arm is seeded only where ``u_0·u* <`` :data:`SEED_FAR_COS` (its standing upper arm
``u_0`` points over ~107° away: nearer, the per-frame stage swings it there by itself, and a
table entry on another branch of the arm's redundant solutions would only make neighbouring
frames disagree). The score of entry ``e`` is ``s_e = u_e·u* + ½ f_e·f* − λ ‖q_e − q_0‖₁ / n``
(``λ`` = 0.2: the least turned of near-equal entries). The standing pose is kept unless the
best entry beats it by :data:`SEED_MARGIN`, and a frame keeps the previous frame's entry
while that one stays within :data:`SEED_HYSTERESIS` of the best, so neighbouring frames
start on the same branch.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..robot import RobotModel
from ._frames import built_frame

__all__ = [
    "RELAXED_COS",
    "SEED_FAR_COS",
    "SEED_HYSTERESIS",
    "SEED_MARGIN",
    "arm_seed_table",
    "seed_arm_joints",
    "standing_start",
    "start_joint_pos",
]

#: An arm is seeded only where its target upper arm is over ~107° from the standing one
#: (cosine below this): from nearer, the per-frame stage swings it there by itself.
SEED_FAR_COS = -0.3
#: The best table entry must beat the standing pose's score by this much to replace it.
SEED_MARGIN = 0.3
#: A frame keeps the previous frame's entry while it scores within this of the best.
SEED_HYSTERESIS = 0.1
_PULL = 0.2
_SIDES = ("left", "right")
_TABLE_CACHE: dict[int, tuple[Any, list]] = {}


#: A standing joint on a limit starts this far inside it (rad), at most a quarter of its range.
_OFF_LIMIT_RAD = 0.25
#: A standing upper arm whose cosine with straight down (torso frame) is below this (over
#: ~50° from hanging: a T-pose) starts lowered (see "Arms down").
RELAXED_COS = 0.64
_START_CACHE: dict[int, tuple[Any, np.ndarray]] = {}
#: Pull of the lowered arm towards the standing one (per radian, mean over the arm's joints):
#: weaker than the seeds' own, as lowering a T-pose arm takes a quarter turn or more.
_RELAX_PULL = 0.05


def standing_start(robot: RobotModel) -> np.ndarray:
    """(N,) where every frame starts: the standing pose with every hinge joint that sits on a
    limit moved ``min(0.25 rad, ¼ range)`` inside it, and arms standing out over ~50° from
    hanging (a T-pose) lowered (module docstring, "Arms down")."""
    cached = _START_CACHE.get(id(robot))
    if cached is not None and cached[0] is robot:
        return cached[1].copy()
    q = _arms_down(robot, _off_limits(robot))
    _START_CACHE.clear()
    _START_CACHE[id(robot)] = (robot, q)
    return q.copy()


def _off_limits(robot: RobotModel) -> np.ndarray:
    q = np.asarray(robot.default_joint_pos, np.float64).copy()
    lower = np.asarray(robot.joint_lower, np.float64)
    upper = np.asarray(robot.joint_upper, np.float64)
    step = np.minimum(_OFF_LIMIT_RAD, 0.25 * (upper - lower))
    hinge = np.array([k == "hinge" for k in robot.joint_kind]) & (upper > lower)
    at_low = hinge & (np.abs(q - lower) < 1e-6)
    at_high = hinge & (np.abs(q - upper) < 1e-6) & ~at_low
    q[at_low] += step[at_low]
    q[at_high] -= step[at_high]
    return q


def _relaxed_score(u: np.ndarray, f: np.ndarray, turn: np.ndarray, u_star, f_star) -> np.ndarray:
    """``u·u* + f·f* − 0.05 ‖Δq‖₁ / n`` of arm poses (E, 3), (E, 3) turned ``Δq`` (E, n)."""
    return u @ u_star + f @ f_star - _RELAX_PULL * np.abs(turn).sum(-1) / turn.shape[-1]


def _arms_down(robot: RobotModel, q: np.ndarray) -> np.ndarray:
    """``q`` with each arm standing out over ~50° from hanging set to the arm-table entry
    nearest a relaxed arm, refined twice on a grid of half the spacing around it."""
    names = tuple(robot.keypoint_names)
    tables = arm_seed_table(robot)
    if not tables:
        return q
    q = q.copy()
    kp = _host_keypoints(robot, q[None])
    frame = _torso_frame(kp, names)
    down = np.array([0.0, 0.0, -1.0])
    for side, table in zip(_SIDES, tables):
        if not table or len(table["q"]) == 0:
            continue
        u0, _ = _directions(kp, names, side, frame)
        if u0[0] @ down >= RELAXED_COS:
            continue
        out = 1.0 if side == "left" else -1.0
        u_star = np.array([0.0, 0.17 * out, -0.985])
        f_star = np.array([0.7, 0.1 * out, -0.7])

        joints = table["joints"]
        scores = _relaxed_score(table["u"], table["f"], table["q"] - q[joints], u_star, f_star)
        best = int(scores.argmax())
        if table["u"][best] @ down < 0.8:
            continue  # no entry hangs the arm (a robot that cannot lower it)
        lower = np.asarray(robot.joint_lower, np.float64)[joints]
        upper = np.asarray(robot.joint_upper, np.float64)[joints]
        entry = table["q"][best].astype(np.float64)
        step = table["step"] / 2
        if len(joints) <= 5:
            for _ in range(2):
                offsets = np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=len(joints))))
                combos = np.clip(entry + offsets * step, lower, upper)
                trial = np.broadcast_to(q, (len(combos), len(q))).copy()
                trial[:, joints] = combos
                kp_t = _host_keypoints(robot, trial)
                u, f = _directions(kp_t, names, side, np.broadcast_to(frame, (len(combos), 3, 3)))
                s = _relaxed_score(u, f, combos - q[joints], u_star, f_star)
                entry = combos[int(s.argmax())]
                step = step / 2
        q[joints] = entry
    return q


def start_joint_pos(robot: RobotModel, target: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """(T, N) where the per-frame stage starts each frame: :func:`standing_start`, with the
    arms of :func:`seed_arm_joints` where they are seeded; ``None``: the standing pose
    itself, everywhere."""
    seeded = seed_arm_joints(robot, target, weight)
    if seeded is not None:
        return seeded
    start = standing_start(robot)
    if np.array_equal(start, np.asarray(robot.default_joint_pos, np.float64)):
        return None
    return np.broadcast_to(start, (target.shape[0], len(start))).astype(np.float32)


def _root_quat(robot: RobotModel) -> np.ndarray:
    """The root's standing orientation (wxyz), as the file turns it."""
    quat = getattr(robot, "default_root_quat", None)
    return np.array([1.0, 0.0, 0.0, 0.0]) if quat is None else np.asarray(quat, np.float64)


def _host_keypoints(robot: RobotModel, joint_pos: np.ndarray) -> np.ndarray:
    """(E, K, 3) keypoints of the robot standing at its default root pose with joint angles
    ``joint_pos`` (E, N), in numpy (no compilation for a table built once per robot)."""
    from ..motion._np_geometry import quat_to_mat_np
    from ..robot._fk import local_transforms, node_angles, sweep_levels

    q = np.asarray(joint_pos, np.float64)
    E = q.shape[0]
    root_rot = quat_to_mat_np(_root_quat(robot))
    rot_local, pos_local = local_transforms(robot, node_angles(robot, q))
    rot, pos = sweep_levels(
        robot.level_ranges,
        robot.level_parents,
        np.broadcast_to(root_rot, (E, 3, 3)),
        np.broadcast_to(np.asarray(robot.default_root_pos, np.float64), (E, 3)),
        rot_local,
        pos_local,
    )
    node = np.asarray(robot.body_node, np.int64)[np.asarray(robot.keypoint_body, np.int64)]
    offset = np.asarray(robot.keypoint_offset, np.float64)
    return pos[:, node] + np.einsum("ekij,kj->eki", rot[:, node], offset)


def _chain_joints(robot: RobotModel, top: int, bottom: int) -> list[int]:
    """Hinge joints moving the bodies on the chain from body ``top`` (excluded) down to body
    ``bottom`` (included), root first; empty if ``bottom`` does not hang from ``top``."""
    path = []
    b = bottom
    while b != top:
        if b < 0:
            return []
        path.append(b)
        b = robot.body_parents[b]
    bodies = set(path)
    return [
        j
        for j, (body, kind) in enumerate(zip(robot.joint_body, robot.joint_kind))
        if body in bodies and kind == "hinge"
    ]


def _directions(kp: np.ndarray, names: tuple[str, ...], side: str, frame: np.ndarray):
    """Unit upper arm and forearm (..., 3) of keypoints ``kp`` (..., K, 3) in ``frame``
    (..., 3, 3) (columns: forward, left, up)."""
    i = {n: k for k, n in enumerate(names)}
    s, e, w = (kp[..., i[f"{side}_{k}"], :] for k in ("shoulder", "elbow", "wrist"))

    def unit(v):
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)

    to_frame = np.swapaxes(frame, -1, -2)
    return (
        np.einsum("...ij,...j->...i", to_frame, unit(e - s)),
        np.einsum("...ij,...j->...i", to_frame, unit(w - e)),
    )


def _torso_frame(kp: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    i = {n: k for k, n in enumerate(names)}
    return built_frame(
        kp[..., i["left_shoulder"], :],
        kp[..., i["right_shoulder"], :],
        kp[..., i["pelvis"], :],
        kp[..., i["torso"], :],
        xp=np,
    )


_NEEDED = ("pelvis", "torso", "left_shoulder", "right_shoulder")


def arm_seed_table(robot: RobotModel) -> list[dict[str, np.ndarray]]:
    """Per arm (left, right) the table ``{"joints" (n,), "q" (E, n), "u" (E, 3), "f" (E, 3),
    "cost" (E,)}`` (see the module docstring); empty for a robot without arm keypoints."""
    key = id(robot)
    cached = _TABLE_CACHE.get(key)
    if cached is not None and cached[0] is robot:
        return cached[1]
    names = tuple(robot.keypoint_names)
    tables: list[dict[str, np.ndarray]] = []
    arm_keys = [f"{s}_{k}" for s in _SIDES for k in ("shoulder", "elbow", "wrist")]
    if all(n in names for n in (*_NEEDED, *arm_keys)):
        q0 = _off_limits(robot)
        lower = np.asarray(robot.joint_lower, np.float64)
        upper = np.asarray(robot.joint_upper, np.float64)
        torso_body = robot.keypoint_body[names.index("torso")]
        for side in _SIDES:
            elbow_body = robot.keypoint_body[names.index(f"{side}_elbow")]
            joints = _chain_joints(robot, torso_body, elbow_body)
            if not joints:
                tables.append({})
                continue
            k = 5 if len(joints) <= 3 else 4 if len(joints) == 4 else 3
            grids, steps = [], []
            for j in joints:
                lo, hi = max(lower[j], -np.pi), min(upper[j], np.pi)
                grid = lo + (hi - lo) * (np.arange(k) + 0.5) / k
                steps.append((hi - lo) / k)
                grids.append(np.unique(np.append(grid, np.clip(q0[j], lo, hi))))
            combos = np.array(list(itertools.product(*grids)), np.float64)
            q = np.broadcast_to(q0, (len(combos), len(q0))).copy()
            q[:, joints] = combos
            E = len(q)
            kp = _host_keypoints(robot, q)
            frame = _torso_frame(kp[:1], names)[0]
            u, f = _directions(kp, names, side, np.broadcast_to(frame, (E, 3, 3)))
            # Drop entries with the elbow or the wrist inside the trunk.
            i = {n: c for c, n in enumerate(names)}
            low, high = kp[0, i["pelvis"]], kp[0, i["torso"]]
            width = np.linalg.norm(kp[0, i["left_shoulder"]] - kp[0, i["right_shoulder"]])
            axis = (high - low) / max(np.linalg.norm(high - low), 1e-9)
            keep = np.ones(E, bool)
            for point in ("elbow", "wrist"):
                p = kp[:, i[f"{side}_{point}"]] - low
                along = np.clip(p @ axis, 0.0, np.linalg.norm(high - low))
                off = np.linalg.norm(p - along[:, None] * axis, axis=-1)
                keep &= off > 0.3 * width
            cost = _PULL * np.abs(combos - q0[joints]).sum(-1) / len(joints)
            tables.append(
                {
                    "joints": np.asarray(joints),
                    "q": combos[keep],
                    "u": u[keep],
                    "f": f[keep],
                    "cost": cost[keep],
                    "step": np.asarray(steps),
                }
            )
    _TABLE_CACHE.clear()  # one robot at a time is the common case; no unbounded growth
    _TABLE_CACHE[key] = (robot, tables)
    return tables


def seed_arm_joints(robot: RobotModel, target: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """(T, N) starting joint angles for targets ``target`` (T, Kr, 3) in the robot's keypoint
    order (``weight`` (Kr,) 0 where the human lacks one): :func:`standing_start` with each
    arm at its chosen table entry; ``None`` where nothing changes (no arm table, no arm
    targets, or every frame keeps the standing start)."""
    names = tuple(robot.keypoint_names)
    tables = arm_seed_table(robot)
    if not tables:
        return None
    w = {n: float(weight[k]) for k, n in enumerate(names)}
    T = target.shape[0]
    q0 = standing_start(robot)
    out = np.broadcast_to(q0, (T, len(q0))).copy()
    changed = False
    tgt = np.asarray(target, np.float64)
    frame = _torso_frame(tgt, names)
    # The standing pose's own arm directions, for its score.
    kp0 = _host_keypoints(robot, q0[None])
    frame0 = _torso_frame(kp0, names)
    for side, table in zip(_SIDES, tables):
        if not table or len(table["q"]) == 0:
            continue
        if any(w.get(f"{side}_{k}", 0.0) <= 0 for k in ("shoulder", "elbow", "wrist")):
            continue
        u_t, f_t = _directions(tgt, names, side, frame)  # (T, 3)
        u0, f0 = _directions(kp0, names, side, frame0)
        far = (u_t @ u0[0]) < SEED_FAR_COS  # (T,) the standing arm points away
        score0 = (u_t @ u0[0]) + 0.5 * (f_t @ f0[0])
        choice = np.full(T, -1)
        prev = -1
        for start in range(0, T, 1024):
            sl = slice(start, min(start + 1024, T))
            scores = u_t[sl] @ table["u"].T + 0.5 * (f_t[sl] @ table["f"].T) - table["cost"]
            best = scores.argmax(axis=1)
            for t_local, b in enumerate(best):
                s = scores[t_local]
                t = start + t_local
                if not far[t] or s[b] < score0[t] + SEED_MARGIN:
                    prev = -1
                elif prev < 0 or s[prev] < s[b] - SEED_HYSTERESIS:
                    prev = int(b)
                choice[t] = prev
        seeded = choice >= 0
        if seeded.any():
            changed = True
            out[np.ix_(seeded, table["joints"])] = table["q"][choice[seeded]]
    return out.astype(np.float32) if changed else None

"""Limbs of a human rig's topology: hip, knee and ankle along a leg chain (a pointed foot
moving the ankle up), and shoulder, elbow, wrist and hand along an arm (fingers, twist bones
and hand tips told apart); see :mod:`._topology` for the rules."""

from __future__ import annotations

import numpy as np

__all__ = ["_hip_knee", "_longest_leaf", "_place_arm", "_place_leg"]


def _hip_knee(P, chain: list[int], ankle_k: int) -> tuple[int, int]:
    """Hip and knee depths along a leg chain whose ankle is ``chain[ankle_k]``."""
    mid_z = 0.5 * (P[chain[0], 2] + P[chain[ankle_k], 2])
    knee_k = min(range(1, max(ankle_k, 2)), key=lambda k: abs(P[chain[k], 2] - mid_z))
    far = [np.linalg.norm(P[chain[k]] - P[chain[knee_k]]) for k in range(knee_k)]
    hip_k = max(k for k in range(knee_k) if far[k] >= 0.8 * max(far))
    return hip_k, knee_k


def _path_length(P, chain: list[int], a: int, b: int) -> float:
    return float(sum(np.linalg.norm(P[chain[k + 1]] - P[chain[k]]) for k in range(a, b)))


def _place_leg(P, chain: list[int]) -> tuple[int, int, int]:
    """``(hip, knee, ankle)`` depths along a leg chain (root to the foot's tip).

    The ankle is where the chain stops going down (every later segment more horizontal than
    vertical). A foot pointed down (on tiptoe, pushing off, a dancer's pointe) keeps going
    down past the ankle, so that reading lands on the toe or its tip. A foot's bones are
    short next to the shin, so while the bone into the joint read as the ankle goes down
    and is under 0.6 of the way from the knee to that bone, and the shin ending one joint
    up stays within a third of the thigh's length, the ankle moves one joint up.
    """
    ankle_k = len(chain) - 1
    for k in range(2, len(chain)):
        later = [(chain[m - 1], chain[m]) for m in range(k + 1, len(chain))]
        if all(abs(P[b, 2] - P[a, 2]) < np.linalg.norm((P[b] - P[a])[:2]) for a, b in later):
            ankle_k = k
            break
    hip_k, knee_k = _hip_knee(P, chain, ankle_k)
    thigh = _path_length(P, chain, hip_k, knee_k)
    while ankle_k - 1 > knee_k:
        bone = P[chain[ankle_k]] - P[chain[ankle_k - 1]]
        shin = _path_length(P, chain, knee_k, ankle_k - 1)
        down = P[chain[ankle_k - 1], 2] - P[chain[ankle_k], 2] > np.linalg.norm(bone[:2])
        short = np.linalg.norm(bone) < 0.6 * shin
        if not (down and short and 0.75 * thigh < shin < 1.33 * thigh):
            break
        ankle_k -= 1
    return hip_k, knee_k, ankle_k


def _longest_leaf(P, children, same, n: int) -> int:
    """The leaf below ``n`` at the end of its longest chain of bones (``n`` if a leaf).

    The joint reaching farthest sideways is the arm's tip in a T- or A-pose, but in a posed
    frame (arms down, hands on the hips) it may be the elbow: the chain then goes on through
    the forearm and hand to the longest finger, so the wrist and hand are still found.
    """

    def down(m: int) -> tuple[float, int]:
        best = (0.0, m)
        for c in children[m]:
            length, leaf = down(c)
            length += 0.0 if same[c] else float(np.linalg.norm(P[c] - P[m]))
            best = max(best, (length, leaf))
        return best

    return down(n)[1]


#: Upper arm (shoulder to elbow) over forearm (elbow to wrist) of an adult, about.
_UPPER_OVER_FOREARM = 1.2


def _last_bone_is_a_hand(dist, shoulder_before, middle, tip: int, prev: int) -> bool:
    """Whether an arm chain without finger branches ends in a hand bone (wrist ``prev``)
    rather than at the wrist (``tip``).

    A hand is shorter than the forearm before it (< 0.8 of it), and its reading must give
    the more human arm: the split of the chain whose upper arm over forearm ratio is nearer
    :data:`_UPPER_OVER_FOREARM` (in log) wins. LAFAN1's arm (collar, shoulder, elbow,
    wrist, then a zero End Site) has a forearm 0.76 of its upper arm: read as a hand, the
    collar became the shoulder with an "upper arm" a third of its "forearm".
    """

    def split(wrist: int) -> tuple[int | None, float]:
        s = shoulder_before(wrist - 1)
        e = middle(s, wrist)
        if e is None:
            return None, np.inf
        return e, abs(
            np.log(max(dist(s, e), 1e-9) / max(dist(e, wrist), 1e-9) / _UPPER_OVER_FOREARM)
        )

    e_hand, off_hand = split(prev)
    if e_hand is None or dist(tip, prev) >= 0.8 * dist(prev, e_hand):
        return False
    return off_hand <= split(tip)[1]


def _place_arm(P, children, same, path, name, left, centre, reach, choice, cands) -> None:
    """Shoulder, elbow, wrist and hand along one arm (``path``: arm root to its tip);
    ``centre`` is the trunk's lateral coordinate, ``reach`` how far sideways a shoulder is."""

    def real_children(n: int) -> list[int]:
        out = []
        for c in children[n]:
            while same[c] and children[c]:
                c = children[c][0]
            if not same[c]:
                out.append(c)
        return out

    def dist(a: int, b: int) -> float:
        return float(np.linalg.norm(P[path[a]] - P[path[b]]))

    def middle(lo: int, hi: int) -> int | None:
        ks = list(range(lo + 1, hi))
        return max(ks, key=lambda k: min(dist(k, lo), dist(k, hi))) if ks else None

    def shoulder_before(limit: int) -> int:
        out = [k for k in range(max(limit, 1)) if abs(P[path[k]] @ left - centre) >= reach]
        return out[0] if out else max(limit - 1, 0)

    def depth(n: int) -> int:
        kids = real_children(n)
        return 1 + (max(depth(c) for c in kids) if kids else 0)

    def fingers(n: int) -> bool:
        """Several chains branch here (not one limb and a twist bone beside it)."""
        kids = real_children(n)
        return len(kids) >= 3 or sum(depth(c) >= 2 for c in kids) >= 2

    branch = next((k for k, n in enumerate(path) if k >= 2 and fingers(n)), None)
    hand_k = None
    if branch is not None:
        wrist_k = branch
    else:
        tip, prev = len(path) - 1, len(path) - 2
        wrist_k = tip
        if prev >= 2 and _last_bone_is_a_hand(dist, shoulder_before, middle, tip, prev):
            wrist_k, hand_k = prev, tip
    shoulder_k = shoulder_before(wrist_k - 1)
    elbow_k = middle(shoulder_k, wrist_k)
    if elbow_k is None:
        return
    choice[f"{name}_shoulder"] = path[shoulder_k]
    choice[f"{name}_elbow"] = path[elbow_k]
    choice[f"{name}_wrist"] = path[wrist_k]
    cands[f"{name}_shoulder"] = tuple(path[:elbow_k])
    cands[f"{name}_elbow"] = tuple(path[shoulder_k + 1 : wrist_k])
    cands[f"{name}_wrist"] = tuple(path[elbow_k + 1 :])
    wrist = path[wrist_k]
    if branch is not None:
        forearm = P[wrist] - P[path[elbow_k]]
        kids = real_children(wrist)

        def along(c: int) -> float:
            d = P[c] - P[wrist]
            return float(d @ forearm / max(np.linalg.norm(d), 1e-9))

        choice[f"{name}_hand"] = max(kids, key=along)
        cands[f"{name}_hand"] = tuple(kids + [g for c in kids for g in real_children(c)])
    elif hand_k is not None:
        choice[f"{name}_hand"] = path[hand_k]
        cands[f"{name}_hand"] = (path[hand_k],)

"""Canonical keypoints of a human rig from its joint tree and rest pose, not from its names.

Positions are metres, Z up (as every loader gives them); the rig may face any horizontal
direction. With ``H`` the rest pose's height:

* **pelvis and legs**: the leaves within 15 % of ``H`` above the lowest point, hanging from
  joints at least 30 % of ``H`` above them, are the feet;
  their lowest common ancestor is the pelvis, and the two child subtrees holding them are
  the legs.
* **facing, left and right**: the legs' horizontal offset gives the body's side axis; the
  feet (toes stick out forward from below the knees) give its sign, so *forward* and
  ``left = up × forward`` come from the skeleton itself, never from ``L``/``R`` letters.
* **leg chain**: from the leg's root to its forward-most foot leaf. The ankle is where the
  chain stops going down (every later segment is more horizontal than vertical), moved up
  past foot bones going down (a pointed foot: a bone under 0.6 of the shin above it, the
  shorter shin still within a third of the thigh); the toe is
  the next joint (an End Site counts: after an ankle it is the toe); the knee is the joint
  nearest half way in height between the leg's root and the ankle; the hip the last joint
  above the knee at least 80 % as far from it as the leg's root (so a thigh twist joint is
  not the hip). Two leg chains of the same length (mirror images) get the same ankle
  depth, the higher of the two.
* **arms**: the joints outside the legs reaching farthest to the left and to the right,
  followed down their longest chain of bones to a leaf (in a posed frame the farthest joint
  may be an elbow); their lowest common ancestor is the upper trunk (the *torso* keypoint);
  only joints below the pelvis count (a root left at the world origin is no arm). Along an
  arm the wrist is the first joint where several chains branch (three or more, or two of two joints
  or more: fingers are not arms, a twist bone beside the forearm is not a hand), else the tip
  (an End Site after the elbow is the wrist), or the joint before a tip shorter than 0.8
  forearms (a hand) when that reading gives the more human upper arm to forearm ratio
  (LAFAN1's arm ends at the wrist: its forearm is no hand); the
  shoulder is the first joint standing out sideways at least 1.5 times as far as the hips
  (so a collar is not the shoulder); the elbow the joint between shoulder
  and wrist farthest from both; the hand the finger root best in line with the forearm.
* **neck and head**: the chain from the torso up to the highest joint outside the arms;
  its first joint is the neck and the one before the tip the head (an End Site after the
  neck is the head), except a chain of two whose first joint already stands well above the
  shoulders, which is the head and its end (unless its End Site has zero length and the
  second joint is a neck bone above the first: then neck and head).

Each keypoint also gets *candidates*, the joints of its chain segment that could be it; a
name rule (or preset) naming one of them breaks the tie, see
:func:`~retargetjax.motion.map_keypoints`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._topology_limbs import _hip_knee, _longest_leaf, _place_arm, _place_leg

__all__ = ["RigTopology", "TopologyError", "infer_rig_keypoints"]


class TopologyError(ValueError):
    """The tree and pose do not show a humanoid (no two legs, no pelvis)."""


@dataclass
class RigTopology:
    """What :func:`infer_rig_keypoints` found (joint indices into the rig)."""

    #: Canonical keypoint → joint index.
    choice: dict[str, int]
    #: Canonical keypoint → joints that could be it (names may pick one of them).
    candidates: dict[str, tuple[int, ...]]
    #: Unit horizontal vectors: where the rig faces and its left.
    forward: np.ndarray
    left: np.ndarray
    #: Named chains (joint indices, root first): ``left_leg``, ``right_arm``, ``head``…
    chains: dict[str, list[int]] = field(default_factory=dict)


def _ancestors(parents: np.ndarray, i: int) -> list[int]:
    out = [i]
    while parents[out[-1]] >= 0:
        out.append(int(parents[out[-1]]))
    return out


def _lca(parents: np.ndarray, nodes: list[int]) -> int:
    common = _ancestors(parents, nodes[0])[::-1]
    for n in nodes[1:]:
        anc = _ancestors(parents, n)[::-1]
        k = 0
        while k < min(len(common), len(anc)) and common[k] == anc[k]:
            k += 1
        common = common[:k]
    if not common:
        raise TopologyError("the feet are in separate trees; expected one skeleton")
    return common[-1]


def _path(parents: np.ndarray, top: int, bottom: int) -> list[int]:
    anc = _ancestors(parents, bottom)
    return anc[: anc.index(top) + 1][::-1]


def infer_rig_keypoints(parents: np.ndarray, rest: np.ndarray) -> RigTopology:
    """Keypoints of a rig with ``parents`` (J,) in pose ``rest`` (J, 3), metres, Z up.

    Raises:
        TopologyError: no single tree, no two legs going down from one joint.
    """
    parents = np.asarray(parents, np.int64)
    P = np.asarray(rest, np.float64)
    J = len(parents)
    if J < 8 or np.all(parents < 0):
        raise TopologyError(f"{J} joints without a hierarchy; expected a joint tree")
    children: list[list[int]] = [[] for _ in range(J)]
    for i, p in enumerate(parents):
        if p >= 0:
            children[p].append(i)
    height = float(P[:, 2].max() - P[:, 2].min())
    if height <= 1e-6:
        raise TopologyError("the rest pose is flat; expected a standing skeleton")
    # Joints sitting on their parent (zero offsets) are the same point: never chosen.
    same = np.zeros(J, bool)
    for i, p in enumerate(parents):
        if p >= 0 and np.linalg.norm(P[i] - P[p]) < 1e-4 * height:
            same[i] = True

    def subtree(i: int) -> list[int]:
        out, stack = [], [i]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(children[n])
        return out

    def clean(chain: list[int]) -> list[int]:
        return [n for n in chain if not same[n]]

    leaves = [i for i in range(J) if not children[i]]
    z_min = P[:, 2].min()
    # Feet: leaves near the floor that hang from high up (an IK bone parked on the floor
    # under a root at the floor does not).
    low = [
        i
        for i in leaves
        if P[i, 2] < z_min + 0.15 * height
        and max(P[a, 2] for a in _ancestors(parents, i)) - P[i, 2] >= 0.3 * height
    ]
    if len(low) < 2:
        raise TopologyError("fewer than two joint chains reach the floor; expected two legs")
    pelvis = _lca(parents, low)
    # Arms hanging to the lowest point of a rig without legs read as legs from the chest;
    # the chest's ancestors (spine, hips) then sit between those "feet" and that "pelvis".
    # A real pelvis has nothing of the body below it up the tree (a reference root at the
    # floor, or a centre-of-gravity joint beside it, is fine).
    for a in _ancestors(parents, pelvis)[1:]:
        if z_min + 0.2 * height < P[a, 2] < P[pelvis, 2] - 0.1 * height:
            raise TopologyError(
                "the chains reaching the floor hang from above the spine; expected two legs "
                "from the pelvis"
            )
    legs = [c for c in children[pelvis] if set(subtree(c)) & set(low)]
    if len(legs) < 2:
        raise TopologyError("the feet hang from one chain; expected two legs from the pelvis")
    legs.sort(key=lambda c: min(P[n, 2] for n in subtree(c)))
    legs = legs[:2]
    if any(P[pelvis, 2] - min(P[n, 2] for n in subtree(c)) < 0.3 * height for c in legs):
        raise TopologyError("the chains reaching the floor are short; expected two legs")

    # --- facing: side axis from the legs, its sign from the feet ------------------------
    leg_mean = [P[subtree(c)].mean(axis=0) for c in legs]
    hip_roots = []
    for c in legs:  # the first joint of each leg off the pelvis (the hips)
        n = c
        while same[n] and len(children[n]) == 1:
            n = children[n][0]
        hip_roots.append(P[n])
    side = hip_roots[0] - hip_roots[1]
    side[2] = 0.0
    if np.linalg.norm(side) < 0.02 * height:  # hips on one point: the legs' spread instead
        side = leg_mean[0] - leg_mean[1]
        side[2] = 0.0
    if np.linalg.norm(side) < 1e-6:
        raise TopologyError("both legs stand at the same place; expected two legs side by side")
    side /= np.linalg.norm(side)
    up = np.array([0.0, 0.0, 1.0])
    f0 = np.cross(side, up)  # forward or backward; the feet tell
    signal = 0.0
    toes = np.zeros(3)
    for c in legs:
        reach = []
        for leaf in (n for n in subtree(c) if n in low):
            # A foot leaf against the joint it hangs from: a toe sticks out farther forward
            # than a heel does backward (knees may bend, so the thigh is no reference).
            p = int(parents[leaf])
            while parents[p] >= 0 and np.linalg.norm(P[p] - P[leaf]) < 1e-4 * height:
                p = int(parents[p])
            reach.append((float((P[leaf] - P[p]) @ f0), P[leaf] - P[p]))
        if reach:
            along, vector = max(reach, key=lambda r: np.linalg.norm(r[1][:2]))
            signal += along
            toes += vector
    toes[2] = 0.0
    if abs(signal) < 0.005 * height and np.linalg.norm(toes) >= 0.02 * height:
        # Feet turned across the hips (a spin): the feet say where forward is.
        f0 = toes / np.linalg.norm(toes)
        signal = 1.0
    if abs(signal) < 0.005 * height:
        raise TopologyError("the feet do not point anywhere; cannot tell forward (and left)")
    forward = f0 if signal > 0 else -f0
    left = np.cross(up, forward)
    if side @ left < 0 or (abs(side @ left) < 1e-9 and (leg_mean[0] - leg_mean[1]) @ left < 0):
        legs.reverse()

    choice: dict[str, int] = {"pelvis": pelvis}
    cands: dict[str, tuple[int, ...]] = {"pelvis": (pelvis,)}
    chains: dict[str, list[int]] = {}
    hip_lateral = []
    leg_chains = []
    for name, root in zip(("left", "right"), legs):
        feet = [n for n in subtree(root) if n in low]
        tip = max(feet, key=lambda n: (P[n] @ forward, -P[n, 2]))
        chain = clean(_path(parents, root, tip))
        chains[f"{name}_leg"] = chain
        if len(chain) < 3:
            raise TopologyError(
                f"the {name} leg has {len(chain)} joints; expected hip, knee, ankle"
            )
        leg_chains.append(chain)
    placed = [_place_leg(P, chain) for chain in leg_chains]
    if len(leg_chains[0]) == len(leg_chains[1]) and placed[0] != placed[1]:
        # Mirror images (one leg chain of each side, joint for joint): the same ankle depth
        # in each. A foot pointed down reads its ankle too deep (a foot on the floor rarely
        # has a level shin, which would read it too high): the higher ankle for both.
        ankle_k = min(p[2] for p in placed)
        placed = [(*_hip_knee(P, c, ankle_k), ankle_k) for c in leg_chains]
    for name, chain, (hip_k, knee_k, ankle_k) in zip(("left", "right"), leg_chains, placed):
        choice[f"{name}_hip"] = chain[hip_k]
        choice[f"{name}_knee"] = chain[knee_k]
        choice[f"{name}_ankle"] = chain[ankle_k]
        cands[f"{name}_hip"] = tuple(chain[:knee_k])
        cands[f"{name}_knee"] = tuple(chain[hip_k + 1 : ankle_k])
        cands[f"{name}_ankle"] = tuple(chain[knee_k + 1 :])
        if ankle_k + 1 < len(chain):
            choice[f"{name}_toe"] = chain[ankle_k + 1]
            cands[f"{name}_toe"] = tuple(n for n in subtree(chain[ankle_k]) if n != chain[ankle_k])
        hip_lateral.append(abs((P[chain[hip_k]] - P[pelvis]) @ left))

    # --- arms and torso ------------------------------------------------------------------
    in_legs = {n for c in legs for n in subtree(c)}
    # Only what hangs from the pelvis: a root or reference joint above it (a ``Root`` left
    # at the world origin while the body walks away) or a prop beside it is no arm or head.
    upper_body = [i for i in subtree(pelvis) if i not in in_legs and i != pelvis]
    lateral = {i: float((P[i] - P[pelvis]) @ left) for i in upper_body}
    reach = 1.2 * max(hip_lateral)
    arms: dict[str, list[int]] = {}
    torso = None
    if upper_body:
        lt = max(upper_body, key=lambda i: lateral[i])
        rt = min(upper_body, key=lambda i: lateral[i])
        if lateral[lt] > reach and -lateral[rt] > reach:
            torso = _lca(parents, [lt, rt])
            if pelvis not in _ancestors(parents, torso):
                raise TopologyError("the arms do not hang from above the pelvis")
            for name, tip in (("left", lt), ("right", rt)):
                tip = _longest_leaf(P, children, same, tip)
                path = clean(_path(parents, torso, tip))[1:]
                if len(path) >= 2:
                    arms[name] = path
            if len(arms) < 2:
                arms, torso = {}, None
    for name, path in arms.items():
        centre = float(P[torso] @ left)
        reach_s = 1.5 * max(hip_lateral)
        _place_arm(P, children, same, path, name, left, centre, reach_s, choice, cands)
        chains[f"{name}_arm"] = path

    # --- torso, neck, head -----------------------------------------------------------------
    arm_nodes = {n for path in arms.values() for n in subtree(path[0])}
    if torso is not None:
        spine = clean(_path(parents, pelvis, torso))[1:]
        choice["torso"] = torso
        cands["torso"] = tuple(spine) or (torso,)
        rest_top = [n for n in subtree(torso) if n not in arm_nodes and n != torso]
    else:
        rest_top = list(upper_body)
    if rest_top:
        top = max(rest_top, key=lambda n: P[n, 2])
        base = torso if torso is not None else pelvis
        head_chain = clean(_path(parents, base, top))[1:]
        if torso is None and head_chain:
            target = P[pelvis, 2] + 2.0 / 3.0 * (P[top, 2] - P[pelvis, 2])
            below = [n for n in head_chain if P[n, 2] <= target]
            if below:
                choice["torso"] = below[-1]
                cands["torso"] = tuple(below)
                head_chain = head_chain[head_chain.index(below[-1]) + 1 :]
        shoulder_z = np.mean(
            [P[choice[k], 2] for k in ("left_shoulder", "right_shoulder") if k in choice]
            or [P[base, 2]]
        )
        h = head_chain
        chains["head"] = h
        # An End Site of zero length on the head (Bandai-Namco writes ``OFFSET 0 0 0``) is
        # dropped with the joints it coincides with: a chain of two then ends at the head
        # joint, a neck bone (under 8 % of the height) above the neck, with no end of its
        # own. A skull-long last bone is a head-top marker (Mixamo's HeadTop_End): its end.
        zero_tip = bool(same[top]) or (
            bool(children[top]) and all(same[n] for n in subtree(top) if n != top)
        )
        if zero_tip and len(h) == 2 and np.linalg.norm(P[h[1]] - P[h[0]]) < 0.08 * height:
            choice["neck"], choice["head"] = h[0], h[1]
        elif len(h) == 1:
            choice["head"] = h[0]
        elif len(h) == 2:
            if P[h[0], 2] - shoulder_z > 0.35 * (P[h[1], 2] - shoulder_z):
                choice["head"] = h[0]
            else:
                choice["neck"], choice["head"] = h[0], h[1]
        elif len(h) >= 3:
            choice["neck"] = h[0]
            choice["head"] = h[-2]
        if h:
            cands["head"] = tuple(h)
            if len(h) >= 2:
                cands["neck"] = tuple(h[:-1])
    return RigTopology(choice=choice, candidates=cands, forward=forward, left=left, chains=chains)

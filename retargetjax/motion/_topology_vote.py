"""A rig's topology for keypoint mapping: :func:`rest_pose` and, when the rest pose shows no
standing body (or there is none), a keypoint-by-keypoint majority over the clip's tallest
frames."""

from __future__ import annotations

import numpy as np

from ._human_motion import HumanMotion
from ._topology import RigTopology, TopologyError, infer_rig_keypoints
from ._units import up_axis_to_z_matrix

__all__ = ["_topology_vote", "rest_pose"]


def rest_pose(motion: HumanMotion) -> np.ndarray:
    """(J, 3) rest pose for reading the topology, metres, Z up.

    A BVH's rest skeleton (its OFFSETs, ``metadata["rest_offsets_m"]``, turned Z up); for
    other clips the frame standing tallest (largest vertical extent) among 64 spread ones.
    """
    offsets = motion.metadata.get("rest_offsets_m") if motion.metadata else None
    if offsets is not None and np.shape(offsets) == (motion.num_joints, 3):
        rest = np.zeros((motion.num_joints, 3))
        for j, p in enumerate(motion.parents):
            rest[j] = np.asarray(offsets[j], np.float64) + (rest[p] if p >= 0 else 0.0)
        try:
            C = up_axis_to_z_matrix(str(motion.metadata.get("up_axis", "y")))
        except ValueError:
            C = np.eye(3)
        return rest @ np.asarray(C, np.float64).T
    T = motion.num_frames
    frames = np.unique(np.linspace(0, T - 1, min(T, 64)).astype(int))
    z = motion.positions[frames, :, 2]
    return np.asarray(motion.positions[frames[int(np.argmax(z.max(1) - z.min(1)))]], np.float64)


def _topology_vote(motion: HumanMotion) -> tuple[RigTopology | None, str]:
    """The rig's topology from its rest pose; for clips without one (keypoint files) or whose
    rest pose shows no standing body, the choice most of the 9 tallest of 64 frames spread
    over the clip agree on, keypoint by keypoint (one odd frame, a raised leg or a turned
    foot, must not swap left and right; frames showing no two legs do not vote)."""
    why = ""
    if motion.metadata and motion.metadata.get("rest_offsets_m") is not None:
        try:
            return infer_rig_keypoints(motion.parents, rest_pose(motion)), ""
        except (TopologyError, ValueError, IndexError) as exc:
            # A rest pose that is no standing body (OFFSETs along each bone's own axis, as
            # MotionBuilder or Rokoko write them): the clip's frames vote instead.
            why = f"rest pose: {exc}"
    try:
        T = motion.num_frames
        frames = np.unique(np.linspace(0, T - 1, min(T, 64)).astype(int))
        z = motion.positions[frames, :, 2]
        tallest = frames[np.argsort(-(z.max(1) - z.min(1)))]
    except (TopologyError, ValueError, IndexError) as exc:
        return None, str(exc)
    voters: list[RigTopology] = []
    for t in tallest:
        try:
            topo = infer_rig_keypoints(motion.parents, motion.positions[t])
        except (TopologyError, ValueError, IndexError) as exc:
            why = why or str(exc)
            continue
        if not all(f"{s}_wrist" in topo.choice for s in ("left", "right")):
            # Two chains down and none sideways: a rig without legs whose arms hang to the
            # lowest point reads as legs in a posed frame. A frame must show the whole body.
            why = why or "no two arms beside two legs; expected a whole human body"
            continue
        voters.append(topo)
        if len(voters) == 9:  # the 9 tallest frames that show a humanoid
            break
    if not voters:
        return None, why
    return _majority(voters), ""


def _majority(voters: list[RigTopology]) -> RigTopology:
    """Each keypoint's joint by majority over the frames that placed it (ties: the earlier,
    taller frame). Whole-frame votes are fragile: in a walk one foot is nearly always lifting
    or pushing off, its toe pointing down, so that frame reads its toe as the ankle, and the
    frames split between "left foot wrong" and "right foot wrong". A joint two keypoints
    claim goes to the one more frames agree on."""
    from collections import Counter

    counts: dict[str, Counter] = {}
    for topo in voters:
        for key, joint in topo.choice.items():
            counts.setdefault(key, Counter())[joint] += 1
    choice: dict[str, int] = {}
    support: dict[str, int] = {}
    for key, counter in counts.items():
        # Counter.most_common keeps first-seen order among equal counts: the taller frame.
        joint, n = counter.most_common(1)[0]
        if 2 * n < len(voters) and sum(counter.values()) < len(voters):
            continue  # placed by a minority of the frames only
        choice[key], support[key] = joint, n
    for key in sorted(choice, key=lambda k: -support[k]):
        if key in choice and any(k != key and choice[k] == choice[key] for k in choice):
            for other in [k for k in choice if k != key and choice[k] == choice[key]]:
                del choice[other]
    best = max(voters, key=lambda t: sum(t.choice.get(k) == j for k, j in choice.items()))
    candidates = dict(best.candidates)
    for key, joint in choice.items():
        if joint not in candidates.get(key, ()):
            candidates[key] = (*candidates.get(key, ()), joint)
    return RigTopology(
        choice=choice,
        candidates=candidates,
        forward=best.forward,
        left=best.left,
        chains=best.chains,
    )

"""Rigs the samples do not cover, synthesized from the bundled clip so no file name matters:
bind poses that are no standing body, a reference root left at the world origin, renamed,
mirrored, rescaled and re-oriented skeletons."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from retargetjax.motion import (
    KeypointMapError,
    infer_rig_keypoints,
    load_bvh,
    map_keypoints,
    rest_pose,
    sample_motion_path,
    write_bvh,
)
from retargetjax.motion._np_geometry import mat_to_quat_np, quat_to_mat_np


@pytest.fixture(scope="module")
def clip():
    """The bundled squat, 40 frames."""
    m = load_bvh(sample_motion_path())
    keep = slice(0, 40)
    return dataclasses.replace(
        m, positions=m.positions[keep], orientations=m.orientations[keep], metadata={}
    )


def _random_rotations(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q *= np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    q[np.linalg.det(q) < 0, :, 0] *= -1
    return q


@pytest.mark.parametrize("up, units", [("y", "cm"), ("z", "m"), ("x", "in")])
def test_bind_pose_that_is_no_standing_body_reads_the_frames(tmp_path, clip, up, units):
    """Each joint's frame turned by a fixed random rotation (as MotionBuilder, Rokoko or Maya
    joint orients write them): the all-zero-channel pose is a crumpled heap, the animation
    is the same. Up axis, units and keypoints come from the frames."""
    B = _random_rotations(clip.num_joints, seed=3)
    R = quat_to_mat_np(clip.orientations.astype(np.float64)) @ B
    turned = dataclasses.replace(clip, orientations=mat_to_quat_np(R).astype(np.float32))
    path = write_bvh(turned, tmp_path / "bone_axes.bvh", units=units, up_axis=up)
    # The zero-channel pose is no standing body with any axis up.
    with pytest.raises(ValueError):
        infer_rig_keypoints(load_bvh(path).parents, rest_pose(load_bvh(path, up_axis=up)))

    m = load_bvh(path)
    assert m.metadata["up_axis"] == up
    assert m.metadata["units"] == units
    np.testing.assert_allclose(m.positions, clip.positions, atol=2e-3)
    want = map_keypoints(clip, verbose=False)
    got = map_keypoints(m, verbose=False)
    assert got.as_dict() == want.as_dict()


def test_reference_root_at_the_origin_is_no_arm():
    """A root joint (``Reference``/``joint_Root``) left at the world origin while the body
    stands 2 m to its side is neither an arm nor the head."""
    m = load_bvh(sample_motion_path())
    rest = rest_pose(m)
    want = infer_rig_keypoints(m.parents, rest).choice
    parents = np.concatenate([[-1], np.where(m.parents < 0, 0, m.parents + 1)])
    for side in (np.eye(3)[0], np.eye(3)[1]):
        for sign in (1.0, -1.0):
            body = rest + 2.0 * sign * side  # the origin is 2 m to one side of the body
            points = np.concatenate([[[0.0, 0.0, 0.0]], body])
            got = infer_rig_keypoints(parents, points).choice
            assert got == {k: v + 1 for k, v in want.items()}


def _turn(P: np.ndarray, joints: list[int], centre: np.ndarray, axis: np.ndarray, deg: float):
    a = np.deg2rad(deg)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    R = np.eye(3) + np.sin(a) * K + (1 - np.cos(a)) * K @ K
    P[joints] = (P[joints] - centre) @ R.T + centre


def test_arms_down_with_hands_on_the_belly_keep_their_wrists():
    """A posed frame (no T-pose to read: keypoint files, bind poses that are no standing body)
    where the elbows, not the hands, reach farthest sideways."""
    m = load_bvh(sample_motion_path())
    rest = rest_pose(m)
    topo = infer_rig_keypoints(m.parents, rest)

    def subtree(j: int) -> list[int]:
        return _subtree(m.parents, j)

    P = rest.copy()
    for side, sign in (("left", 1.0), ("right", -1.0)):
        sh, el = topo.choice[f"{side}_shoulder"], topo.choice[f"{side}_elbow"]
        _turn(P, subtree(sh), P[sh].copy(), topo.forward, -sign * 75.0)  # arm down
        _turn(P, subtree(el), P[el].copy(), topo.forward, -sign * 100.0)  # forearm across
    got = infer_rig_keypoints(m.parents, P).choice
    for key in ("shoulder", "elbow", "wrist"):
        for side in ("left", "right"):
            assert got[f"{side}_{key}"] == topo.choice[f"{side}_{key}"], (side, key)


def _subtree(parents, j: int) -> list[int]:
    """Joint ``j`` and every joint below it in the tree ``parents``."""
    return [j] + [n for c in range(len(parents)) if parents[c] == j for n in _subtree(parents, c)]


def test_frames_vote_keypoint_by_keypoint_when_feet_push_off():
    """A keypoint clip (opaque names, parents, no rest pose) where a third of the frames
    have the left foot pointing down (pushing off) and a third the right: each such frame
    reads that foot's toe as its ankle, but most frames agree on every foot joint."""
    from retargetjax.motion import HumanMotion

    m = load_bvh(sample_motion_path())
    rest = rest_pose(m)
    topo = infer_rig_keypoints(m.parents, rest)

    def subtree(j: int) -> list[int]:
        return _subtree(m.parents, j)

    frames = []
    for t in range(12):
        P = rest.copy()
        side = ("left", "right", None)[t % 3]
        if side is not None:
            ankle = topo.choice[f"{side}_ankle"]
            _turn(P, subtree(ankle), P[ankle].copy(), topo.left, 65.0)  # toe down
        frames.append(P)
    clip = HumanMotion(
        fps=30.0,
        joint_names=tuple(f"j{k}" for k in range(len(rest))),
        parents=m.parents,
        positions=np.stack(frames).astype(np.float32),
    )
    got = map_keypoints(clip, verbose=False)
    want = {k: f"j{v}" for k, v in topo.choice.items()}
    assert {k: got.as_dict()[k] for k in want} == want


def test_a_rig_without_legs_says_what_is_missing_and_why(tmp_path):
    """One line naming the file, what the skeleton lacks and what was expected."""
    text = sample_motion_path().read_text()
    m = load_bvh(sample_motion_path())
    legs = infer_rig_keypoints(m.parents, rest_pose(m)).chains
    hips = {m.joint_names[legs[f"{s}_leg"][0]] for s in ("left", "right")}
    # Drop both leg blocks (and their MOTION columns) from the file.
    lines = text.splitlines()
    out, skip, depth, cols, col = [], False, 0, [], 0
    for line in lines[: lines.index("MOTION")]:
        word = line.split()
        if word[:1] == ["JOINT"] and " ".join(word[1:]) in hips:
            skip, depth = True, 0
        if skip:
            depth += line.count("{") - line.count("}")
            if word[:1] == ["CHANNELS"]:
                cols += list(range(col, col + int(word[1])))
                col += int(word[1])
            if depth == 0 and "}" in line:
                skip = False
            continue
        if word[:1] == ["CHANNELS"]:
            col += int(word[1])
        out.append(line)
    motion = lines[lines.index("MOTION") :]
    rows = [" ".join(v for k, v in enumerate(r.split()) if k not in cols) for r in motion[3:]]
    path = tmp_path / "no_legs.bvh"
    path.write_text("\n".join(out + motion[:3] + rows) + "\n")
    with pytest.raises(KeypointMapError) as err:
        map_keypoints(load_bvh(path), verbose=False)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: cannot map required keypoints left_hip")
    assert re.search(r"the skeleton: [^)]*legs[^)]*\); expected a human skeleton", message)


@pytest.mark.parametrize("metres_per_unit", [0.0564, 1e-4, 5.0])
def test_a_skeleton_no_standard_unit_makes_human_is_scaled_to_adult_height(
    tmp_path, clip, metres_per_unit, caplog
):
    """CMU cgspeed conversions (~0.056 m per unit: 0.7 m tall read as inches), a ×100-scaled
    centimetre rig (17 m as millimetres) and a tiny one (0.3 units, 0.3 m as metres): no
    standard unit gives a standing human, so the skeleton is scaled to 1.7 m, the loader says
    so, and ``units=`` still reads the file as written."""
    path = write_bvh(clip, tmp_path / "odd_units.bvh", units=metres_per_unit)
    with caplog.at_level("WARNING", logger="retargetjax.motion"):
        m = load_bvh(path)
    md = m.metadata
    assert md["units"] == "scaled" and md["units_scaled_to_height"]
    assert md["rest_height_units"] * md["meters_per_unit"] == pytest.approx(1.7)
    assert "scaling it to 1.7 m tall" in caplog.text and "units=" in caplog.text
    # Uniformly scaled: the same body, 1.7 m tall instead of the clip's own height.
    ratio = md["meters_per_unit"] / metres_per_unit
    np.testing.assert_allclose(m.positions, clip.positions * ratio, atol=2e-3 * ratio)
    assert map_keypoints(m, verbose=False).as_dict() == map_keypoints(clip, verbose=False).as_dict()

    exact = load_bvh(path, units=metres_per_unit)
    assert not exact.metadata["units_detected"] and not exact.metadata["units_scaled_to_height"]
    np.testing.assert_allclose(exact.positions, clip.positions, atol=2e-3)


@pytest.mark.parametrize(("metres_per_unit", "name"), [(0.0254, "in"), (0.01, "cm"), (1.0, "m")])
def test_a_standard_unit_giving_a_human_height_is_kept(tmp_path, clip, metres_per_unit, name):
    m = load_bvh(write_bvh(clip, tmp_path / "std.bvh", units=metres_per_unit))
    assert m.metadata["units"] == name and not m.metadata["units_scaled_to_height"]
    np.testing.assert_allclose(m.positions, clip.positions, atol=2e-3)


def test_a_head_whose_end_site_has_zero_length_is_still_the_head():
    """``End Site { OFFSET 0 0 0 }`` on the head (Bandai-Namco) leaves a chain of two above the
    torso; with the neck standing well above the shoulders it was read as the head."""
    m = load_bvh(sample_motion_path())
    rest = rest_pose(m)
    want = infer_rig_keypoints(m.parents, rest).choice
    head, neck = want["head"], want["neck"]
    (end,) = [j for j, p in enumerate(m.parents) if p == head]
    shoulders = np.mean([rest[want[k], 2] for k in ("left_shoulder", "right_shoulder")])
    rest[neck, 2] = shoulders + 0.5 * (rest[head, 2] - shoulders)  # a long-necked rig
    assert infer_rig_keypoints(m.parents, rest).choice == want
    rest[end] = rest[head]  # the head's End Site at the head joint
    got = infer_rig_keypoints(m.parents, rest).choice
    assert (got["head"], got.get("neck")) == (head, neck)


@pytest.mark.parametrize(
    ("frame_time", "fps"), [(0.008342, 120.0), (0.03337, 30.0), (0.036364, None)]
)
def test_frame_times_written_coarsely_snap_to_whole_rates(tmp_path, clip, frame_time, fps):
    """``Frame Time: 0.008342`` (120 fps written with 6 decimals, or 119.88 NTSC) reads as
    120 fps; 27.5 fps is no whole rate and stays."""
    path = write_bvh(clip.replace(fps=1.0 / frame_time), tmp_path / "rate.bvh")
    text = path.read_text()
    assert f"Frame Time: {frame_time:.6f}" in text or f"Frame Time: {frame_time:g}" in text
    m = load_bvh(path)
    assert m.fps == (fps if fps is not None else pytest.approx(1.0 / frame_time))
    assert m.metadata["frame_time_s"] == pytest.approx(frame_time, rel=1e-4)


@pytest.mark.parametrize("left_deg, right_deg", [(55.0, 55.0), (60.0, 0.0), (0.0, 50.0)])
def test_pointed_feet_keep_ankle_and_toe_on_both_sides(left_deg, right_deg):
    """A dancer's feet pointed down in every frame (no flat-footed frame to outvote them;
    the sample's foot already slopes 23 deg, so these point 73-88 deg down):
    the chain keeps going down past the ankle, yet each ankle stays the ankle and each toe
    the toe, the same joints of the two legs, opaque names or not."""
    from retargetjax.motion import HumanMotion

    m = load_bvh(sample_motion_path())
    rest = rest_pose(m)
    topo = infer_rig_keypoints(m.parents, rest)

    def subtree(j: int) -> list[int]:
        return _subtree(m.parents, j)

    frames = []
    for t in range(6):
        P = rest.copy()
        for side, deg in (("left", left_deg), ("right", right_deg)):
            ankle = topo.choice[f"{side}_ankle"]
            _turn(P, subtree(ankle), P[ankle].copy(), topo.left, deg + t)
        frames.append(P)
    feet = [f"{s}_{k}" for s in ("left", "right") for k in ("knee", "ankle", "toe")]
    got = infer_rig_keypoints(m.parents, frames[0]).choice
    assert {k: got[k] for k in feet} == {k: topo.choice[k] for k in feet}
    clip = HumanMotion(
        fps=30.0,
        joint_names=tuple(f"j{k}" for k in range(len(rest))),
        parents=m.parents,
        positions=np.stack(frames).astype(np.float32),
    )
    got = map_keypoints(clip, verbose=False).as_dict()
    assert {k: got[k] for k in feet} == {k: f"j{topo.choice[k]}" for k in feet}


def test_height_read_off_the_frames_is_not_raised_by_the_arms(tmp_path, clip):
    """A bind pose that is no standing body, in a unit no standard one fits (so the body is
    scaled to a standing adult's height read off the frames): with both arms raised
    overhead in every frame (jumping jacks), the same metres per unit as arms down."""
    from retargetjax.motion._topology import _ancestors

    topo = infer_rig_keypoints(clip.parents, rest_pose(load_bvh(sample_motion_path())))
    B = _random_rotations(clip.num_joints, seed=5)
    scales = []
    for raise_deg in (0.0, 150.0):
        R = quat_to_mat_np(clip.orientations.astype(np.float64))
        P = clip.positions.astype(np.float64).copy()
        for side, sign in (("left", 1.0), ("right", -1.0)):
            a = np.deg2rad(-sign * raise_deg)  # about the facing axis: the arm up overhead
            f = topo.forward
            K = np.array([[0, -f[2], f[1]], [f[2], 0, -f[0]], [-f[1], f[0], 0]])
            turn = np.eye(3) + np.sin(a) * K + (1 - np.cos(a)) * K @ K
            sh = topo.choice[f"{side}_shoulder"]
            arm = [j for j in range(clip.num_joints) if sh in _ancestors(clip.parents, j)]
            R[:, arm] = turn @ R[:, arm]
            P[:, arm] = (P[:, arm] - P[:, sh : sh + 1]) @ turn.T + P[:, sh : sh + 1]
        turned = dataclasses.replace(
            clip,
            positions=P.astype(np.float32),
            orientations=mat_to_quat_np(R @ B).astype(np.float32),
        )
        path = write_bvh(turned, tmp_path / f"arms_{raise_deg:.0f}.bvh", units=0.06)
        loaded = load_bvh(path)
        assert loaded.metadata["units"] == "scaled"
        if raise_deg:  # the hands are above the head
            km = map_keypoints(loaded, verbose=False)
            z = km.positions(loaded)[..., 2]
            wrists = [km.index("left_wrist"), km.index("right_wrist")]
            assert (z[:, wrists].min(axis=1) > z[:, km.index("head")]).all()
        scales.append(loaded.metadata["meters_per_unit"])
    assert scales[1] == pytest.approx(scales[0], rel=0.02)


@pytest.mark.parametrize("forearm_over_upper_arm", [0.76, 0.9])
def test_an_arm_ending_at_the_wrist_keeps_its_elbow(forearm_over_upper_arm):
    """LAFAN1's arms end at ``Hand`` with an End Site of zero length: the last bone is the
    forearm, not a hand, though it is shorter than 0.8 upper arms. Read as a hand, the collar
    became the shoulder and the shoulder the elbow."""
    m = load_bvh(sample_motion_path())
    rest = rest_pose(m)
    want = infer_rig_keypoints(m.parents, rest).choice
    for side in ("left", "right"):
        sh, el, wr = (want[f"{side}_{k}"] for k in ("shoulder", "elbow", "wrist"))
        (end,) = [j for j, p in enumerate(m.parents) if p == wr]
        upper = np.linalg.norm(rest[el] - rest[sh])
        direction = (rest[wr] - rest[el]) / np.linalg.norm(rest[wr] - rest[el])
        rest[wr] = rest[el] + forearm_over_upper_arm * upper * direction
        rest[end] = rest[wr]
    assert m.parents[want["left_shoulder"]] != want["torso"]  # the rig has collars
    got = infer_rig_keypoints(m.parents, rest).choice
    for side in ("left", "right"):
        for key in ("shoulder", "elbow", "wrist"):
            assert got[f"{side}_{key}"] == want[f"{side}_{key}"], (side, key)
        assert got.get(f"{side}_hand", got[f"{side}_wrist"]) == got[f"{side}_wrist"]

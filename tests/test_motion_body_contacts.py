"""Contacts of any body part: synthesised lying, planted hand, raised floor, box, real clips."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.keypoints import CANONICAL_KEYPOINTS
from retargetjax.motion import (
    BODY_PARTS,
    HumanMotion,
    body_contacts,
    detect_body_contacts,
    foot_contacts,
    load_motion,
    map_keypoints,
)

NAMES = CANONICAL_KEYPOINTS
FPS = 30.0

#: Standing pose (x forward, y left, z up above the floor), canonical order.
STAND = {
    "pelvis": (0, 0, 0.90), "torso": (0, 0, 1.15), "neck": (0, 0, 1.40), "head": (0, 0, 1.55),
    "left_hip": (0, 0.1, 0.88), "right_hip": (0, -0.1, 0.88),
    "left_knee": (0, 0.1, 0.48), "right_knee": (0, -0.1, 0.48),
    "left_ankle": (0, 0.1, 0.08), "right_ankle": (0, -0.1, 0.08),
    "left_toe": (0.12, 0.1, 0.03), "right_toe": (0.12, -0.1, 0.03),
    "left_shoulder": (0, 0.18, 1.40), "right_shoulder": (0, -0.18, 1.40),
    "left_elbow": (0, 0.2, 1.12), "right_elbow": (0, -0.2, 1.12),
    "left_wrist": (0, 0.2, 0.85), "right_wrist": (0, -0.2, 0.85),
    "left_hand": (0.02, 0.2, 0.78), "right_hand": (0.02, -0.2, 0.78),
}  # fmt: skip
#: Lying on the back along +x (head forward), heels on the floor, toes up.
LIE = {
    "pelvis": (0, 0, 0.10), "torso": (0.25, 0, 0.12), "neck": (0.5, 0, 0.12),
    "head": (0.62, 0, 0.10),
    "left_hip": (0, 0.1, 0.09), "right_hip": (0, -0.1, 0.09),
    "left_knee": (-0.4, 0.1, 0.09), "right_knee": (-0.4, -0.1, 0.09),
    "left_ankle": (-0.8, 0.1, 0.08), "right_ankle": (-0.8, -0.1, 0.08),
    "left_toe": (-0.85, 0.1, 0.15), "right_toe": (-0.85, -0.1, 0.15),
    "left_shoulder": (0.45, 0.18, 0.11), "right_shoulder": (0.45, -0.18, 0.11),
    "left_elbow": (0.2, 0.25, 0.07), "right_elbow": (0.2, -0.25, 0.07),
    "left_wrist": (-0.02, 0.25, 0.05), "right_wrist": (-0.02, -0.25, 0.05),
    "left_hand": (-0.08, 0.25, 0.04), "right_hand": (-0.08, -0.25, 0.04),
}  # fmt: skip


def _pose(table: dict) -> np.ndarray:
    return np.asarray([table[n] for n in NAMES], np.float64)


def _blend(a: np.ndarray, b: np.ndarray, frames: int) -> np.ndarray:
    s = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, frames))  # smooth start and stop
    return a[None] + s[:, None, None] * (b - a)[None]


def _lie_down_clip(floor_z: float = 0.0) -> np.ndarray:
    """1 s standing, 1 s lying down, 2 s lying still."""
    stand, lie = _pose(STAND), _pose(LIE)
    T1 = int(FPS)
    clip = np.concatenate(
        [np.repeat(stand[None], T1, 0), _blend(stand, lie, T1), np.repeat(lie[None], 2 * T1, 0)]
    )
    clip[..., 2] += floor_z
    return clip


def _part(contacts, part: str) -> np.ndarray:
    return contacts.labels[:, contacts.part_index(part)]


def test_lying_down_puts_trunk_hands_and_knees_on_the_floor():
    c = detect_body_contacts(_lie_down_clip(), NAMES, FPS)
    assert c.parts == tuple(BODY_PARTS)
    assert c.labels.shape == (120, len(BODY_PARTS)) and c.present.all()
    lying = slice(70, 120)
    for part in BODY_PARTS:
        assert _part(c, part)[lying].all(), part
    standing = slice(0, 25)
    for part in ("pelvis", "back", "head", "left_hand", "right_knee", "left_elbow"):
        assert not _part(c, part)[standing].any(), part
    assert _part(c, "left_foot")[standing].all() and _part(c, "right_foot")[standing].all()
    # One span per trunk part, from its touchdown to the end; support = height at touchdown.
    ((start, end),) = c.spans("back")
    assert 30 < start < 70 and end == 120
    assert c.support_height[start, c.part_index("back")] == pytest.approx(
        _lie_down_clip()[start, NAMES.index("torso"), 2], abs=1e-6
    )
    assert not c.raised[:, 2:].any()
    assert "back: " in c.describe()


def test_hand_planted_then_lifted():
    T = 150
    clip = np.repeat(_pose(STAND)[None], T, 0)
    # Left wrist and hand: down to the floor over 1 s, planted 2 s, then up over 1 s.
    z = np.concatenate(
        [
            0.85 - 0.81 * (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 30))),
            np.full(60, 0.04),
            0.04 + 0.81 * (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 30))),
            np.full(30, 0.85),
        ]
    )
    clip[:, NAMES.index("left_wrist"), 2] = z
    clip[:, NAMES.index("left_hand"), 2] = z - 0.01
    c = detect_body_contacts(clip, NAMES, FPS)
    ((start, end),) = c.spans("left_hand")
    assert 22 <= start <= 32 and 88 <= end <= 98
    assert not _part(c, "right_hand").any()
    assert c.spans_by_part().keys() == {"left_foot", "right_foot", "left_hand"}
    # The hand's support height is its (lower) hand keypoint's height at touchdown.
    assert c.support_height[60, c.part_index("left_hand")] == pytest.approx(0.03, abs=0.02)


@pytest.mark.parametrize("make", [_lie_down_clip, None])
def test_a_raised_floor_gives_the_same_labels(make):
    if make is None:  # the planted-hand clip, shifted
        base = np.repeat(_pose(STAND)[None], 90, 0)
        base[30:60, NAMES.index("left_wrist"), 2] = 0.04
        make = lambda floor_z=0.0: base + np.array([0, 0, floor_z])  # noqa: E731
    low = detect_body_contacts(make(), NAMES, FPS)
    high = detect_body_contacts(make(0.3), NAMES, FPS)
    np.testing.assert_array_equal(low.labels, high.labels)
    assert high.floor_z == pytest.approx(low.floor_z + 0.3, abs=1e-6)
    np.testing.assert_allclose(high.support_height, low.support_height + 0.3, atol=1e-5)


def test_a_foot_on_a_box_keeps_its_height():
    """Right foot steps onto a 40 cm box and stands there while the left stays on the floor."""
    T = 120
    clip = np.repeat(_pose(STAND)[None], T, 0)
    box = 0.40
    for name in ("right_ankle", "right_toe"):
        j = NAMES.index(name)
        rest = clip[0, j].copy()
        up = rest + np.array([0.35, 0.0, box])
        clip[20:40, j] = _blend(rest[None], up[None], 20)[:, 0]
        clip[40:, j] = up
    c = detect_body_contacts(clip, NAMES, FPS)
    right = c.part_index("right_foot")
    assert c.labels[45:, right].all() and c.raised[45:, right].all()
    assert not c.labels[28:33, right].any()  # mid-step, in the air
    # Support = the toe's height on the box, not the floor.
    assert c.support_height[60, right] == pytest.approx(0.03 + box, abs=0.01)
    left = c.part_index("left_foot")
    assert c.labels[:, left].all() and not c.raised[:, left].any()
    assert c.support_height[60, left] == pytest.approx(0.03, abs=1e-6)


def test_a_foot_paused_briefly_in_the_air_is_not_a_contact():
    T = 60
    clip = np.repeat(_pose(STAND)[None], T, 0)
    # A kick: up 50 cm in 1/3 s, a 1/6 s pause at the top, down in 1/3 s.
    lift = np.concatenate(
        [np.zeros(15), np.linspace(0, 0.5, 10), np.full(5, 0.5), np.linspace(0.5, 0, 10)]
    )
    lift = np.concatenate([lift, np.zeros(T - lift.size)])
    for name in ("right_ankle", "right_toe"):
        clip[:, NAMES.index(name), 2] += lift
    c = detect_body_contacts(clip, NAMES, FPS)
    right = c.labels[:, c.part_index("right_foot")]
    assert not right[18:37].any() and right[:12].all() and right[45:].all()


def _motion(positions: np.ndarray, joint_names: tuple[str, ...]) -> HumanMotion:
    return HumanMotion(
        fps=FPS,
        joint_names=joint_names,
        parents=-np.ones(len(joint_names), int),
        positions=positions.astype(np.float32),
    )


#: The same skeleton under Mixamo-like joint names (the keypoint map finds them by rules).
MOCAP_NAMES = {
    "pelvis": "Hips", "torso": "Spine2", "neck": "Neck", "head": "Head",
    "left_hip": "LeftUpLeg", "right_hip": "RightUpLeg", "left_knee": "LeftLeg",
    "right_knee": "RightLeg", "left_ankle": "LeftFoot", "right_ankle": "RightFoot",
    "left_toe": "LeftToeBase", "right_toe": "RightToeBase", "left_shoulder": "LeftArm",
    "right_shoulder": "RightArm", "left_elbow": "LeftForeArm", "right_elbow": "RightForeArm",
    "left_wrist": "LeftHand", "right_wrist": "RightHand", "left_hand": "LeftHandMiddle1",
    "right_hand": "RightHandMiddle1",
}  # fmt: skip


def _mirror_name(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


def test_renamed_and_mirrored_clips_get_the_same_and_the_mirrored_labels():
    clip = _lie_down_clip()
    clip[60:, NAMES.index("right_wrist"), 2] += 0.3  # right hand raised: sides differ
    clip[60:, NAMES.index("right_hand"), 2] += 0.3
    plain = body_contacts(_motion(clip, NAMES))
    # Renamed, columns shuffled: the labels depend on the canonical keypoints only.
    order = np.random.default_rng(0).permutation(len(NAMES))
    renamed = tuple(MOCAP_NAMES[NAMES[i]] for i in order)
    motion = _motion(clip[:, order], renamed)
    assert map_keypoints(motion, verbose=False).as_dict()["left_hand"] == "LeftHandMiddle1"
    np.testing.assert_array_equal(body_contacts(motion).labels, plain.labels)
    # Mirrored (y → −y, left ↔ right): every part gets its mirror's labels.
    mirrored = clip * np.array([1, -1, 1])
    mirror_motion = _motion(mirrored, tuple(_mirror_name(n) for n in NAMES))
    m = body_contacts(mirror_motion)
    swap = [plain.part_index(_mirror_name(p)) for p in plain.parts]
    np.testing.assert_array_equal(m.labels, plain.labels[:, swap])
    assert _part(plain, "left_hand")[-1] and not _part(plain, "right_hand")[-1]


def test_feet_match_foot_contacts_on_a_real_walk(shared_data):
    motion = load_motion(shared_data / "motions" / "bvh" / "meredith_walk_120fps.bvh")
    kp = map_keypoints(motion, verbose=False)
    c = body_contacts(motion, kp)
    assert np.mean(c.foot_contact == foot_contacts(motion, kp)) > 0.99
    assert set(c.spans_by_part()) == {"left_foot", "right_foot"}


def _real(shared_data, name):
    motion = load_motion(shared_data / "motions" / "keypoints" / f"{name}.npz")
    return body_contacts(motion), motion.fps


def _frames_in_contact(c, part) -> int:
    return int(c.labels[:, c.part_index(part)].sum())


def test_get_up_from_face_down_puts_hands_knees_and_trunk_down(shared_data):
    c, fps = _real(shared_data, "deepmimic_getup_facedown")
    early = slice(0, int(0.5 * fps))  # lying face down
    for part in ("left_knee", "right_knee", "pelvis", "back"):
        assert c.labels[early, c.part_index(part)].all(), part
    hands = _frames_in_contact(c, "left_hand") + _frames_in_contact(c, "right_hand")
    assert hands > 0.5 * fps  # pushes up on the hands
    late = slice(c.num_frames - int(0.3 * fps), c.num_frames)  # standing at the end
    standing = c.labels[late]
    assert standing[:, :2].all() and not standing[:, 2:].any()
    assert c.floor_z == pytest.approx(0.02, abs=0.02)


def test_a_roll_puts_the_back_down_in_the_middle_only(shared_data):
    c, fps = _real(shared_data, "deepmimic_roll")
    ((start, end),) = c.spans("back")
    assert 0.3 * c.num_frames < start < end < 0.7 * c.num_frames
    assert end - start >= 0.1 * fps
    first = c.labels[:3]  # standing, about to dive
    assert first[:, :2].all() and not first[:, 2:].any()
    assert not c.labels[-3:, 2:].any()


def test_metadata_and_resampling():
    import json

    c = detect_body_contacts(_lie_down_clip(), NAMES, FPS)
    meta = c.as_metadata()
    json.dumps(meta)  # JSON-ready
    start, end, support, raised = meta["spans"]["back"][0]
    assert (start, end) == c.spans("back")[0] and raised is False
    assert support == pytest.approx(float(c.support_height[start, c.part_index("back")]), abs=1e-4)
    half = c.take(np.arange(0, c.num_frames, 2), fps=FPS / 2)
    assert half.num_frames == 60 and half.fps == FPS / 2
    np.testing.assert_array_equal(half.labels, c.labels[::2])


def _walk_clip(seconds: float = 4.0) -> np.ndarray:
    """STAND walking forward at 0.6 m/s: each leg (hip to toe, rigid) 0.5 s planted, then
    0.5 s swinging 12 cm up and 0.6 m forward; the rest of the body glides along."""
    T = int(seconds * FPS)
    t = np.arange(T) / FPS
    clip = np.repeat(_pose(STAND)[None], T, 0)
    clip[..., 0] += 0.6 * t[:, None]
    for side, phase in (("left", 0.0), ("right", 0.5)):
        cycle = (t + phase) % 1.0
        swing = np.clip((cycle - 0.5) / 0.5, 0, 1)
        leg = [NAMES.index(f"{side}_{j}") for j in ("hip", "knee", "ankle", "toe")]
        clip[:, leg, 0] = _pose(STAND)[leg, 0] + 0.6 * (np.floor(t + phase) + swing)[:, None]
        clip[:, leg, 2] += (0.12 * np.sin(np.pi * swing))[:, None]
    return clip


@pytest.mark.parametrize("k", [0.5, 2.0])
def test_contacts_do_not_change_when_the_clip_is_scaled(k):
    """A walk and a lie-down, positions scaled ×0.5 and ×2 (a unit read wrong, a child, a
    giant): the thresholds follow the leg length, the labels stay."""
    from retargetjax.motion import body_scale

    walk = _motion(_walk_clip(), NAMES)
    scaled = walk.replace(positions=walk.positions * k)
    kp = map_keypoints(walk, verbose=False)
    base = foot_contacts(walk, kp)
    assert 0.4 < base.mean() < 0.8  # stance half the time, a little more with hysteresis
    np.testing.assert_array_equal(foot_contacts(scaled, kp), base)
    np.testing.assert_array_equal(body_contacts(scaled, kp).labels, body_contacts(walk, kp).labels)
    assert body_scale(kp.positions(walk), kp.names) == pytest.approx(0.8 / 0.83, rel=1e-5)
    assert body_scale(kp.positions(scaled), kp.names) == pytest.approx(k * 0.8 / 0.83, rel=1e-5)

    lie = _lie_down_clip()
    np.testing.assert_array_equal(
        detect_body_contacts(lie * k, NAMES, FPS).labels,
        detect_body_contacts(lie, NAMES, FPS).labels,
    )
    # scale=1 takes the thresholds in metres as given.
    assert detect_body_contacts(lie, NAMES, FPS, scale=1.0).scale == 1.0

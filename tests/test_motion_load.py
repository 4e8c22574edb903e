"""``load_motion`` on every sample clip: detection, mapping, proportions, feet on the floor."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.keypoints import REQUIRED_KEYPOINTS
from retargetjax.motion import (
    MotionFormatError,
    detect_motion_format,
    estimate_floor_height,
    foot_contacts,
    load_motion,
    map_keypoints,
    sample_motion_path,
)
from retargetjax.types import MotionFormatKind

SAMPLES = {
    "bvh/mocapbank_walk.bvh": (MotionFormatKind.BVH, 30.0, 455),
    "bvh/mixamo_rig.bvh": (MotionFormatKind.BVH, 30.0, 69),
    "bvh/meredith_walk_120fps.bvh": (MotionFormatKind.BVH, 120.0, 1064),
    "keypoints/omomo_sub10_largebox_049.npz": (MotionFormatKind.KEYPOINTS, 30.0, 222),
    "keypoints/climb_seq0.npz": (MotionFormatKind.KEYPOINTS, 120.0, 2801),
}


@pytest.fixture(scope="module")
def clips(shared_data):
    return {name: load_motion(shared_data / "motions" / name) for name in SAMPLES}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_loads_maps_and_is_human_sized(clips, name):
    kind, fps, frames = SAMPLES[name]
    motion = clips[name]
    assert motion.format is kind
    assert motion.fps == fps
    assert motion.num_frames == frames
    assert np.all(np.isfinite(motion.positions))
    kp = map_keypoints(motion, verbose=False)
    assert set(REQUIRED_KEYPOINTS) <= set(kp.names)
    # Stature: the vertical extent of the body, 95th percentile over frames (Z up, metres).
    extent = motion.positions[..., 2].max(axis=1) - motion.positions[..., 2].min(axis=1)
    height = float(np.percentile(extent, 95))
    assert 1.4 <= height <= 2.1, f"{name}: height {height:.3f} m"
    # Z is up: the head is above the pelvis, which is above the ankles, in most frames.
    P = kp.positions(motion)
    head = kp.index("head") if "head" in kp else kp.index("torso")
    assert np.mean(P[:, head, 2] > P[:, kp.index("pelvis"), 2]) > 0.9
    assert np.mean(P[:, kp.index("pelvis"), 2] > P[:, kp.index("left_ankle"), 2]) > 0.9


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_feet_on_the_floor_in_contact_frames(clips, name):
    motion = clips[name]
    kp = map_keypoints(motion, verbose=False)
    floor = estimate_floor_height(motion, kp)
    contacts = foot_contacts(motion, kp)
    assert contacts.shape == (motion.num_frames, 2) and contacts.dtype == bool
    P = kp.positions(motion)
    for s, side in enumerate(("left", "right")):
        assert contacts[:, s].any(), f"{name}: the {side} foot never touches the floor"
        sole = np.minimum(P[:, kp.index(f"{side}_ankle"), 2], P[:, kp.index(f"{side}_toe"), 2])
        in_contact = sole[contacts[:, s]] - floor
        assert in_contact.max() < 0.1, f"{name}: {side} foot {in_contact.max():.3f} m up in contact"
    # Contacts are not everywhere: some frame has a foot in the air.
    assert not contacts.all()


def test_detection_and_format_argument(shared_data, tmp_path):
    bvh = shared_data / "motions" / "bvh" / "mixamo_rig.bvh"
    npz = shared_data / "motions" / "keypoints" / "omomo_sub10_largebox_049.npz"
    assert detect_motion_format(bvh) is MotionFormatKind.BVH
    assert detect_motion_format(npz) is MotionFormatKind.KEYPOINTS
    # A BVH without the suffix is detected from its first line.
    copy = tmp_path / "clip.txt"
    copy.write_bytes(bvh.read_bytes())
    assert load_motion(copy).num_frames == 69
    assert load_motion(bvh, format="bvh", units="cm").metadata["units"] == "cm"
    assert load_motion(npz, format=MotionFormatKind.KEYPOINTS).num_frames == 222
    with pytest.raises(MotionFormatError, match="unknown motion format 'fbx'"):
        load_motion(bvh, format="fbx")
    with pytest.raises(MotionFormatError, match=r"unknown option.*scale.*expected units"):
        load_motion(bvh, scale=2)


def test_unknown_and_missing_files(tmp_path):
    junk = tmp_path / "junk.dat"
    junk.write_bytes(b"\x00\x01 not a motion")
    with pytest.raises(MotionFormatError, match=r"junk\.dat: unknown motion format"):
        load_motion(junk)
    with pytest.raises(MotionFormatError, match="no such file"):
        load_motion(tmp_path / "absent.bvh")
    other = tmp_path / "other.npz"
    np.savez(other, foo=np.zeros(3))
    with pytest.raises(
        MotionFormatError, match=r"other\.npz: unknown \.npz motion: keys \['foo'\]"
    ):
        load_motion(other)


def test_bundled_sample_clip():
    """The clip shipped for the demo loads without the shared data, with its licence beside it."""
    path = sample_motion_path()
    assert "Copyright (c) 2017 20tab srl" in (path.parent / "LICENSE").read_text()
    motion = load_motion(path)
    assert motion.num_frames == 455 and motion.fps == 30.0
    kp = map_keypoints(motion, verbose=False)
    assert kp.rig == "preset:mocapbank"
    assert foot_contacts(motion, kp).any(axis=0).all()

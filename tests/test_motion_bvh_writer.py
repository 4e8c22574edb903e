"""BVH writer: write → read round trips (samples, SMPL-like motion), bvhio reads the output."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.motion import HumanMotion, MotionFormatError, load_bvh, write_bvh

SAMPLES = ("mocapbank_walk.bvh", "mixamo_rig.bvh", "meredith_walk_120fps.bvh")


@pytest.mark.parametrize("name", SAMPLES)
def test_round_trip_reproduces_positions(shared_data, tmp_path, name):
    motion = load_bvh(shared_data / "motions" / "bvh" / name)
    out = write_bvh(motion, tmp_path / "out.bvh", rotation_order="YXZ")
    again = load_bvh(out, units="cm")
    assert again.joint_names == motion.joint_names
    assert again.metadata["end_sites"] == motion.metadata["end_sites"]
    np.testing.assert_array_equal(again.parents, motion.parents)
    assert again.fps == motion.fps
    np.testing.assert_allclose(again.positions, motion.positions, atol=1e-4)
    dots = np.abs(np.sum(again.orientations * motion.orientations, axis=-1))
    assert dots.min() > 1 - 1e-5
    # No temp file is left beside the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bvh"]


def test_output_is_readable_by_bvhio(shared_data, tmp_path):
    bvhio = pytest.importorskip("bvhio")
    motion = load_bvh(shared_data / "motions" / "bvh" / "mocapbank_walk.bvh").trim(0, 20)
    out = write_bvh(motion, tmp_path / "out.bvh", units="m", up_axis="z")
    root = bvhio.readAsHierarchy(str(out))
    root.loadPose(7)
    for joint, _, _ in root.layout():
        got = np.array(joint.PositionWorld)
        np.testing.assert_allclose(
            got, motion.positions[7, motion.joint_index(joint.Name)], atol=1e-4
        )


def test_generic_motion_without_end_sites(tmp_path):
    """A 3-joint chain with random orientations and rigid bones round-trips, in metres/Z-up."""
    rng = np.random.default_rng(0)
    from retargetjax.motion._np_geometry import quat_rotate_np

    T = 8
    q = rng.normal(size=(T, 3, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    offsets = np.array([[0, 0, 0], [0.0, 0.1, 0.3], [0.2, 0, 0]])
    pos = np.zeros((T, 3, 3))
    pos[:, 0] = rng.normal(size=(T, 3))
    for j in (1, 2):
        pos[:, j] = pos[:, j - 1] + quat_rotate_np(q[:, j - 1], np.broadcast_to(offsets[j], (T, 3)))
    motion = HumanMotion(
        fps=50, joint_names=("a", "b", "c"), parents=[-1, 0, 1], positions=pos, orientations=q
    )
    out = write_bvh(motion, tmp_path / "chain.bvh", units="m", up_axis="z", rotation_order="XYZ")
    again = load_bvh(out, units="m", up_axis="z")
    np.testing.assert_allclose(again.positions, motion.positions, atol=1e-5)
    # The leaf's own rotation survives too (it is a JOINT, not an End Site).
    assert np.abs(np.sum(again.orientations[:, 2] * q[:, 2], -1)).min() > 1 - 1e-5


def test_writer_needs_orientations(tmp_path):
    motion = HumanMotion(fps=30, joint_names=("a",), parents=[-1], positions=np.zeros((2, 1, 3)))
    with pytest.raises(MotionFormatError, match="no joint orientations"):
        write_bvh(motion, tmp_path / "x.bvh")

"""Human motion in: ``HumanMotion``, loaders (BVH, SMPL family, keypoints), the joint →
canonical keypoint map (topology first, presets and name rules second), foot contacts and
contacts of any body part, BVH writer.

Everything here is numpy at the edges: metres, Z up, world frame, quaternions ``wxyz``.
"""

from ._body_contacts import BODY_PARTS as BODY_PARTS
from ._body_contacts import PART_THRESHOLDS as PART_THRESHOLDS
from ._body_contacts import BodyContacts as BodyContacts
from ._body_contacts import PartThresholds as PartThresholds
from ._body_contacts import body_contacts as body_contacts
from ._body_contacts import detect_body_contacts as detect_body_contacts
from ._bvh import load_bvh as load_bvh
from ._bvh_fk import bvh_forward_kinematics as bvh_forward_kinematics
from ._bvh_hierarchy import BvhSkeleton as BvhSkeleton
from ._bvh_parse import read_bvh as read_bvh
from ._bvh_writer import write_bvh as write_bvh
from ._contacts import REFERENCE_LEG_LENGTH_M as REFERENCE_LEG_LENGTH_M
from ._contacts import body_scale as body_scale
from ._contacts import estimate_floor_height as estimate_floor_height
from ._contacts import foot_contacts as foot_contacts
from ._contacts import foot_point_heights as foot_point_heights
from ._errors import KeypointMapError as KeypointMapError
from ._errors import MotionFormatError as MotionFormatError
from ._human_motion import HumanMotion as HumanMotion
from ._keypoint_file import KEYPOINT_FILE_KEYS as KEYPOINT_FILE_KEYS
from ._keypoint_file import load_keypoints as load_keypoints
from ._keypoint_map import KeypointMap as KeypointMap
from ._keypoint_map import map_keypoints as map_keypoints
from ._keypoint_names import KEYPOINT_SYNONYMS as KEYPOINT_SYNONYMS
from ._keypoint_names import SKELETON_PRESETS as SKELETON_PRESETS
from ._keypoint_names import joint_side_and_base as joint_side_and_base
from ._load import detect_motion_format as detect_motion_format
from ._load import load_motion as load_motion
from ._load import sample_motion_path as sample_motion_path
from ._smpl import BodyModel as BodyModel
from ._smpl import load_body_model as load_body_model
from ._smpl import load_smpl as load_smpl
from ._smpl import smpl_forward_kinematics as smpl_forward_kinematics
from ._smpl_names import SMPL_JOINT_NAMES as SMPL_JOINT_NAMES
from ._smpl_names import SMPLH_JOINT_NAMES as SMPLH_JOINT_NAMES
from ._smpl_names import SMPLX_JOINT_NAMES as SMPLX_JOINT_NAMES
from ._topology import RigTopology as RigTopology
from ._topology import TopologyError as TopologyError
from ._topology import infer_rig_keypoints as infer_rig_keypoints
from ._topology_vote import rest_pose as rest_pose
from ._units import detect_units as detect_units
from ._units import up_axis_to_z_matrix as up_axis_to_z_matrix

__all__ = [
    "BODY_PARTS",
    "KEYPOINT_FILE_KEYS",
    "KEYPOINT_SYNONYMS",
    "PART_THRESHOLDS",
    "REFERENCE_LEG_LENGTH_M",
    "SKELETON_PRESETS",
    "SMPLH_JOINT_NAMES",
    "SMPLX_JOINT_NAMES",
    "SMPL_JOINT_NAMES",
    "BodyContacts",
    "BodyModel",
    "BvhSkeleton",
    "HumanMotion",
    "KeypointMap",
    "KeypointMapError",
    "MotionFormatError",
    "PartThresholds",
    "RigTopology",
    "TopologyError",
    "body_contacts",
    "body_scale",
    "bvh_forward_kinematics",
    "detect_body_contacts",
    "detect_motion_format",
    "detect_units",
    "estimate_floor_height",
    "foot_contacts",
    "foot_point_heights",
    "infer_rig_keypoints",
    "joint_side_and_base",
    "load_body_model",
    "load_bvh",
    "load_keypoints",
    "load_motion",
    "load_smpl",
    "map_keypoints",
    "read_bvh",
    "rest_pose",
    "sample_motion_path",
    "smpl_forward_kinematics",
    "up_axis_to_z_matrix",
    "write_bvh",
]

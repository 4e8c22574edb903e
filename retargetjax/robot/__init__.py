"""Robot models: MJCF/URDF parsing, forward kinematics, keypoints, feet and collision capsules.

``load_robot("unitree_g1")`` (or a ``RobotKind``, or a path to a user's ``.xml``/``.urdf``)
returns a :class:`RobotModel`, a JAX pytree whose topology is static and whose parameters
are arrays, so it can be passed to jitted and vmapped functions as an argument.
:func:`forward_kinematics` maps ``(root_pos, root_quat wxyz, joint_pos)`` with any batch
shape to world body transforms; :func:`keypoint_positions`, :func:`site_positions` and
:func:`collision_capsules_world` read points off them; :func:`clip_forward_kinematics`
runs a whole clip on the host through one compiled program per robot;
:func:`point_jacobian` gives points with their geometric Jacobian from one sweep (what the
Gauss-Newton solver linearises with).
Collision pair rules are in :mod:`retargetjax.robot._collision`; the bundled robots'
hand-checked keypoints in :mod:`retargetjax.robot._bundled_robots`; keypoints of any other robot
file come from its kinematic tree and rest pose (:mod:`retargetjax.robot._topology`), names
and a YAML override second (:mod:`retargetjax.robot._keypoints`).
"""

from ._build import build_model as build_model
from ._bundled_robots import ROBOT_REGISTRY as ROBOT_REGISTRY
from ._bundled_robots import RobotEntry as RobotEntry
from ._bundled_robots import robot_asset_path as robot_asset_path
from ._collision import box_rails as box_rails
from ._description import RobotDescription as RobotDescription
from ._description import RobotFileError as RobotFileError
from ._fk import body_quat as body_quat
from ._fk import clip_forward_kinematics as clip_forward_kinematics
from ._fk import collision_capsules_world as collision_capsules_world
from ._fk import forward_kinematics as forward_kinematics
from ._fk import keypoint_positions as keypoint_positions
from ._fk import site_positions as site_positions
from ._jacobian import point_jacobian as point_jacobian
from ._jacobian import point_tangents as point_tangents
from ._keypoints import KeypointGuess as KeypointGuess
from ._keypoints import guess_keypoints as guess_keypoints
from ._mjcf import parse_mjcf as parse_mjcf
from ._model import BodyTransforms as BodyTransforms
from ._model import RobotModel as RobotModel
from ._registry import file_sha256 as file_sha256
from ._registry import load_robot as load_robot
from ._registry import parse_robot_file as parse_robot_file
from ._robot_output import robot_for_output as robot_for_output
from ._robot_output import robot_mapping as robot_mapping
from ._topology import RobotTopology as RobotTopology
from ._topology import infer_robot_keypoints as infer_robot_keypoints
from ._urdf import parse_urdf as parse_urdf

__all__ = [
    "ROBOT_REGISTRY",
    "BodyTransforms",
    "KeypointGuess",
    "RobotDescription",
    "RobotEntry",
    "RobotFileError",
    "RobotModel",
    "RobotTopology",
    "body_quat",
    "box_rails",
    "build_model",
    "clip_forward_kinematics",
    "collision_capsules_world",
    "file_sha256",
    "forward_kinematics",
    "guess_keypoints",
    "infer_robot_keypoints",
    "keypoint_positions",
    "load_robot",
    "parse_mjcf",
    "parse_robot_file",
    "parse_urdf",
    "point_jacobian",
    "point_tangents",
    "robot_asset_path",
    "robot_for_output",
    "robot_mapping",
    "site_positions",
]

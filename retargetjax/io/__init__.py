"""Robot motion files: :class:`RobotMotion` and its readers and writers.

``RobotMotion`` is what retargeting produces: per frame, the root pose and the joint angles
of one robot, optionally the world poses of its links, plus the run's metadata. It is saved
and loaded by suffix:

- ``.npz``: native and lossless, readable by the mjlab/BeyondMimic trackers (same keys:
  ``fps``, ``joint_pos``, ``joint_vel``, ``body_pos_w``, ``body_quat_w``, ``body_lin_vel_w``,
  ``body_ang_vel_w``) plus ``joint_names``, ``root_pos``, ``root_quat``, ``body_names``,
  ``quat_order`` and a JSON ``metadata``. A tracker npz without names loads with ``robot=``.
- ``.csv``: headerless BeyondMimic-style rows ``x y z qx qy qz qw q_1 … q_N`` (no fps: give it
  when loading, default 30).
- ``.pkl``: GMR-style dict ``fps, root_pos, root_rot (xyzw), dof_pos, local_body_pos,
  link_body_list``; unpickles with numpy alone.

Quaternions are ``wxyz`` in memory (the package convention) and in the npz (which says so in
``quat_order``); the CSV and the pickle store ``xyzw`` as their tools expect. Every write goes
to a temporary file in the same folder, then ``os.replace``.
"""

from ._atomic import atomic_write as atomic_write
from ._atomic import check_output_path as check_output_path
from ._csv import DEFAULT_CSV_FPS as DEFAULT_CSV_FPS
from ._csv import read_beyondmimic_csv as read_beyondmimic_csv
from ._csv import write_beyondmimic_csv as write_beyondmimic_csv
from ._derivatives import angular_velocity_world as angular_velocity_world
from ._derivatives import finite_difference as finite_difference
from ._errors import MotionFileError as MotionFileError
from ._formats import RobotMotionFormat as RobotMotionFormat
from ._formats import load_robot_motion as load_robot_motion
from ._formats import motion_format_of as motion_format_of
from ._formats import save_robot_motion as save_robot_motion
from ._metadata import metadata_to_json as metadata_to_json
from ._metadata import to_json_safe as to_json_safe
from ._npz import read_npz as read_npz
from ._npz import write_npz as write_npz
from ._pkl import read_gmr_pickle as read_gmr_pickle
from ._pkl import write_gmr_pickle as write_gmr_pickle
from ._robot_motion import RobotMotion as RobotMotion

__all__ = [
    "DEFAULT_CSV_FPS",
    "MotionFileError",
    "RobotMotion",
    "RobotMotionFormat",
    "angular_velocity_world",
    "atomic_write",
    "check_output_path",
    "finite_difference",
    "load_robot_motion",
    "metadata_to_json",
    "motion_format_of",
    "read_beyondmimic_csv",
    "read_gmr_pickle",
    "read_npz",
    "save_robot_motion",
    "to_json_safe",
    "write_beyondmimic_csv",
    "write_gmr_pickle",
    "write_npz",
]

"""Keypoint clips: world joint positions (T, J, 3) in ``.npz`` or ``.npy`` files.

Accepted ``.npz`` keys (first match wins):

- positions: ``positions``, ``joint_positions``, ``joint_pos``, ``keypoints``, ``joints``,
  ``global_joint_positions`` — (T, J, 3) (a single frame (J, 3) is accepted too);
- joint names: ``joint_names``, ``names``, ``joint_name``, ``keypoint_names`` — (J,) strings;
- parents: ``parents``, ``parent``, ``parent_indices`` — (J,) ints, -1 for roots/unknown;
- frame rate: ``fps``, ``framerate``, ``frame_rate``, ``mocap_framerate``,
  ``mocap_frame_rate``;
- optionally ``orientations`` / ``joint_quats`` (T, J, 4) ``wxyz``.

A ``.npy`` holds only the positions; pass ``fps=`` and ``joint_names=`` (and optionally
``parents=``). Options given explicitly override the file's values.

Layouts of pose estimators and datasets (:mod:`._keypoint_layouts`), named or not:

- SMPL family: 22, 24, 52 or 55 joints in model order;
- COCO-17 (``nose, left_eye, …, right_ankle``) and Human3.6M-17 (``Hip, RHip, RKnee, RFoot,
  …, RWrist``): 17 unnamed joints are told apart by geometry (eyes and ears next to joint 0,
  or joint 0 between the hips); neither gives an error asking for ``joint_names=``;
- OpenPose BODY_25 (``MidHip``, ``LBigToe``, ``LHeel``…) and MediaPipe BlazePose-33
  (``left_heel``, ``left_foot_index``, ``left_pinky``…): 25 and 33 unnamed joints.

Joints a layout lacks are derived and appended (``metadata["derived_joints"]``): the pelvis
as the middle of the hips, the head as the middle of the ears, the hand as the middle of the
index and pinky knuckles. Feet without toes (COCO, H36M) map ankles only.

Video conventions: ``up_axis="-y"`` reads a camera frame (x right, y down, z forward); units
are detected from the body's size (H36M's mm) unless given; a floor tilted by 0.5–20° under
the planted ankles is levelled (``level_floor=False`` keeps it); a floor off z = 0 is fine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..types import MotionFormatKind
from ._errors import MotionFormatError, cli_option
from ._human_motion import HumanMotion
from ._units import resolve_units, up_axis_to_z_matrix

__all__ = ["KEYPOINT_FILE_KEYS", "load_keypoints"]

#: Accepted key aliases per field of a keypoint ``.npz``.
KEYPOINT_FILE_KEYS: dict[str, tuple[str, ...]] = {
    "positions": (
        "positions",
        "joint_positions",
        "joint_pos",
        "keypoints",
        "joints",
        "global_joint_positions",
    ),
    "joint_names": ("joint_names", "names", "joint_name", "keypoint_names"),
    "parents": ("parents", "parent", "parent_indices"),
    "fps": ("fps", "framerate", "frame_rate", "mocap_framerate", "mocap_frame_rate"),
    "orientations": ("orientations", "joint_quats", "joint_orientations"),
}

#: Optional scalar strings copied into ``metadata`` when present.
_METADATA_KEYS = ("source", "license")


def _first(data, field: str):
    for key in KEYPOINT_FILE_KEYS[field]:
        if key in data:
            return key, data[key]
    return None, None


def _read_arrays(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """The :data:`KEYPOINT_FILE_KEYS` arrays of a file and the sorted names of all its keys.

    Other keys of an ``.npz`` are never read, so pickled extras (refused without
    ``allow_pickle``) do not matter.
    """
    try:
        if path.suffix.lower() == ".npy":
            return {"positions": np.load(path, allow_pickle=False)}, ["positions"]
        with np.load(path, allow_pickle=False) as npz:
            files = sorted(npz.files)
            wanted = {k for keys in KEYPOINT_FILE_KEYS.values() for k in keys}
            data = {}
            for key in files:
                if key not in wanted and key not in _METADATA_KEYS:
                    continue
                try:
                    data[key] = npz[key]
                except ValueError as exc:
                    if key in _METADATA_KEYS:
                        continue  # optional text, not worth refusing the clip for
                    raise MotionFormatError(
                        f"'{key}' cannot be read ({exc}); expected a plain array", path=path
                    ) from None
            return data, files
    except MotionFormatError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise MotionFormatError(
                "a pickled Python object, not a plain array (an ASE/poselib SkeletonMotion "
                "or a PHC motion dict are such files; pickles are never loaded, they can run "
                "code); expected a (frames, joints, 3) float array of world joint positions: "
                "export the global positions with the tool that wrote it",
                path=path,
            ) from None
        raise MotionFormatError(
            f"cannot read the array file ({exc}); expected .npz or .npy", path=path
        ) from None
    except (OSError, EOFError) as exc:
        raise MotionFormatError(
            f"cannot read the array file ({exc}); expected .npz or .npy", path=path
        ) from None


def load_keypoints(
    path: str | os.PathLike,
    *,
    fps: float | None = None,
    joint_names: Sequence[str] | None = None,
    parents: Sequence[int] | None = None,
    units: str | float | None = None,
    up_axis: str | None = None,
    level_floor: bool = True,
) -> HumanMotion:
    """Read a keypoint clip (``.npz`` or ``.npy``) into a :class:`HumanMotion`.

    ``units`` and ``up_axis`` describe the file; positions are converted to metres, Z up, as
    ``p = s · C p_file``. ``units=None`` detects them from the body's size (metres unless the
    median bounding-box diagonal is over ~10.7 units: then inches, cm or mm, see
    :func:`~._units.detect_units`). ``up_axis=None`` is Z, checked: a body upside down in most
    frames, or along ±y in 3/4 of them (a Y-up file, a camera frame), is an error naming the
    axis it stands on (pass ``up_axis=`` explicitly: ``"-y"`` for a camera frame with y down,
    ``"z"`` to keep a clip that really is lying or upside down).

    ``level_floor`` (default on): when the planted ankles stand on a plane tilted by 0.5° to
    20° (a camera's floor; :func:`~._contacts.fit_floor_plane`), the clip is turned so that
    plane is level (``metadata["floor_tilt_deg"]`` says by how much). A floor at any height
    is kept as it is (the contacts and the retarget find its height).
    """
    path = Path(path)
    data, files = _read_arrays(path)
    key, pos = _first(data, "positions")
    if pos is None:
        raise MotionFormatError(
            f"no positions array; found keys {files}; expected one of "
            + ", ".join(KEYPOINT_FILE_KEYS["positions"]),
            path=path,
        )
    pos = np.asarray(pos)
    if pos.ndim == 2 and pos.shape[-1] == 3:
        pos = pos[None]
    if pos.ndim != 3 or pos.shape[-1] != 3:
        raise MotionFormatError(
            f"'{key}' has shape {pos.shape}; expected (frames, joints, 3)", path=path
        )
    if not np.issubdtype(pos.dtype, np.number):
        raise MotionFormatError(f"'{key}' has dtype {pos.dtype}; expected numbers", path=path)
    T, J, _ = pos.shape
    if T == 0:
        raise MotionFormatError(f"'{key}' has zero frames; expected at least one", path=path)
    bad = ~np.isfinite(pos)
    if bad.any():
        t, j, _ = np.argwhere(bad)[0]
        raise MotionFormatError(
            f"'{key}'[{t}, {j}] (frame {t}, joint {j}) is not finite; expected finite positions",
            path=path,
        )

    layout = None
    if joint_names is None:
        _, names = _first(data, "joint_names")
        if names is not None:
            joint_names = [str(n) for n in np.asarray(names).reshape(-1)]
        else:
            from ._keypoint_layouts import layout_names

            found = layout_names(pos)
            if found is None:
                known = (
                    "22/24/52/55 (SMPL family), 17 (COCO-17 or Human3.6M-17), 25 (BODY_25), "
                    "33 (BlazePose)"
                )
                what = (
                    "17 joints without names look like neither COCO-17 nor Human3.6M-17"
                    if J == 17
                    else f"no joint names for {J} joints, and {J} joints without names "
                    + ("do not look like that layout" if J in (25, 33) else "are no known layout")
                )
                raise MotionFormatError(
                    f"{what}; expected joint_names= (command line: "
                    f"{cli_option('joint_names', '[name1,name2,...]')}) or a 'joint_names' "
                    f"array in the file; recognised without names: {known} joints",
                    path=path,
                )
            layout, joint_names = found
    joint_names = [str(n) for n in joint_names]
    if len(joint_names) != J:
        raise MotionFormatError(
            f"{len(joint_names)} joint names for {J} joints; expected {J}", path=path
        )

    if fps is None:
        fps_key, fps_value = _first(data, "fps")
        if fps_value is None:
            raise MotionFormatError(
                "no frame rate; expected an 'fps' value in the file or the fps= option (command "
                f"line: {cli_option('fps', '30')})",
                path=path,
            )
        try:
            fps = float(np.asarray(fps_value).reshape(-1)[0])
        except (ValueError, IndexError):
            raise MotionFormatError(
                f"'{fps_key}' is {fps_value!r}; expected a number", path=path
            ) from None
    if not (np.isfinite(fps) and fps > 0):
        raise MotionFormatError(f"fps is {fps}; expected a positive number", path=path)

    if parents is None:
        _, parents = _first(data, "parents")
    parents = (
        -np.ones(J, dtype=np.int64)
        if parents is None
        else np.asarray(parents, dtype=np.int64).reshape(-1)
    )
    if parents.shape != (J,):
        raise MotionFormatError(
            f"{parents.shape[0]} parents for {J} joints; expected {J}", path=path
        )

    from ._keypoint_layouts import complete_joints

    joint_names, pos, derived = complete_joints(joint_names, pos)
    parents = np.concatenate([parents, -np.ones(len(joint_names) - J, np.int64)])
    diag = np.linalg.norm(pos.max(1) - pos.min(1), axis=-1)
    try:
        # World positions are kept in the nearest standard unit (no rescaling to a human's
        # height: a keypoint file's extent is no skeleton's standing height).
        unit_name, scale = resolve_units(units, float(np.median(diag)), rescale=False)
        C = up_axis_to_z_matrix("z" if up_axis is None else up_axis)
    except ValueError as exc:
        raise MotionFormatError(str(exc), path=path) from None
    positions = (pos.astype(np.float64) @ C.T) * scale
    found = _name_map(joint_names)
    if up_axis is None:
        _check_upright(found, positions, path)
    tilt = None
    if level_floor and "left_ankle" in found and "right_ankle" in found:
        from ._contacts import fit_floor_plane

        normal = fit_floor_plane(
            positions[:, [found["left_ankle"], found["right_ankle"]]], float(fps)
        )
        if normal is not None:
            tilt = float(np.degrees(np.arccos(np.clip(normal[2], -1.0, 1.0))))
            if tilt > 0.5:
                R = _rotation_onto_z(normal)
                positions = positions @ R.T
                C = R @ C

    _, ori = _first(data, "orientations")
    if ori is not None:
        ori = np.asarray(ori, dtype=np.float64)
        if ori.shape != (T, J, 4) or not np.all(np.isfinite(ori)):
            raise MotionFormatError(
                f"orientations have shape {ori.shape}; expected finite {(T, J, 4)} wxyz", path=path
            )
        if not np.allclose(C, np.eye(3)):
            from ._np_geometry import mat_to_quat_np, quat_to_mat_np

            ori = mat_to_quat_np(np.einsum("ij,tkjl->tkil", C, quat_to_mat_np(ori)))
        if derived:  # derived joints get the identity orientation
            pad = np.zeros((T, len(derived), 4))
            pad[..., 0] = 1.0
            ori = np.concatenate([ori, pad], axis=1)
    meta = {
        "units": unit_name,
        "meters_per_unit": scale,
        "up_axis": "z" if up_axis is None else str(up_axis).lower(),
        "positions_key": key,
    }
    if layout is not None:
        meta["layout"] = layout
    if tilt is not None:
        meta["floor_tilt_deg"] = tilt
        meta["floor_levelled"] = bool(tilt > 0.5)
    if derived:
        meta["derived_joints"] = derived
    for extra in _METADATA_KEYS:
        if extra in data and np.asarray(data[extra]).ndim == 0:
            meta[extra] = str(data[extra])
    return HumanMotion(
        fps=float(fps),
        joint_names=tuple(joint_names),
        parents=parents,
        positions=positions.astype(np.float32),
        orientations=None if ori is None else ori.astype(np.float32),
        source=path,
        format=MotionFormatKind.KEYPOINTS,
        metadata=meta,
    )


def _name_map(joint_names) -> dict[str, int]:
    """Canonical keypoint → joint index from the names alone (preset, else rules)."""
    from ._keypoint_names import _match_preset, _match_rules

    names = tuple(joint_names)
    preset = _match_preset(names)
    return dict(preset[1]) if preset is not None else _match_rules(names)


def _rotation_onto_z(n: np.ndarray) -> np.ndarray:
    """The smallest rotation (3, 3) taking unit vector ``n`` (not pointing down) onto +Z."""
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(n, z)
    s, c = np.linalg.norm(axis), float(n @ z)
    if s < 1e-12:
        return np.eye(3)
    k = axis / s
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * K + (1 - c) * K @ K


def _floor_spread(positions: np.ndarray, up: np.ndarray, size: float) -> float:
    """How unsteady the floor is with ``up`` as the up direction: the spread (10th to 90th
    percentile over frames) of each frame's lowest point along ``up``, over the body's size.
    Whatever touches the floor, the lowest point stays at the floor's height (steps, flight
    and boxes aside); along a horizontal axis it wanders with the body."""
    low = (positions @ up).min(axis=1)
    return float(np.percentile(low, 90) - np.percentile(low, 10)) / max(size, 1e-9)


def _check_upright(found: dict[str, int], positions: np.ndarray, path: Path) -> None:
    """Raise when a clip loaded Z up has another up axis, read off the trunk (pelvis →
    mid-shoulders) and the floor (:func:`_floor_spread`):

    * the trunk points down in most frames (upside down);
    * it points along ±y in 3/4 of the frames, unless the floor says z: steady along z
      (spread < 0.15) and not along y (a Z-up clip lying along y, getting up);
    * or along ±y in 2/5 of the frames, more often than up, with the floor along that ±y at
      least twice as steady as along z: camera-frame cartwheels, falls and get-ups, upright
      only part of the time.

    A clip lying along y or upside down most of the time, on no floor, loads with an
    explicit ``up_axis="z"``."""
    if not all(k in found for k in ("pelvis", "left_shoulder", "right_shoulder")):
        return
    shoulders = 0.5 * (positions[:, found["left_shoulder"]] + positions[:, found["right_shoulder"]])
    trunk = shoulders - positions[:, found["pelvis"]]
    length = np.linalg.norm(trunk, axis=-1, keepdims=True)
    ok = length[:, 0] > 0
    if not ok.any():
        return
    unit = trunk[ok] / length[ok]
    share = float(np.mean(unit[:, 2] < -0.5))
    if share > 0.5:
        axis, sign = 2, -1.0
    else:
        # Along +y (a Y-up file) or -y (a camera frame). Along x is let be: a clip lying
        # most of the time (getting up from the floor) looks just the same.
        axis, sign = -1, 1.0
        size = float(np.median((positions.max(axis=1) - positions.min(axis=1)).max(axis=-1)))
        upright = np.mean(unit[:, 2] > 0.7)
        spread_z = _floor_spread(positions, np.array([0.0, 0.0, 1.0]), size)
        for sgn in (1.0, -1.0):
            along = float(np.mean(sgn * unit[:, 1] > 0.7))
            spread_y = _floor_spread(positions, np.array([0.0, sgn, 0.0]), size)
            floor_says_z = spread_z < 0.15 and spread_y > 2.0 * spread_z
            if (along >= 0.75 and not floor_says_z) or (
                along >= 0.4 and along > upright and spread_y < 0.5 * spread_z
            ):
                axis, sign, share = 1, sgn, along
        if axis < 0:
            return
    direction = np.zeros(3)
    direction[axis] = sign
    up = ("" if direction[axis] > 0 else "-") + "xyz"[axis]
    hint = " (a camera frame, y down)" if up == "-y" else ""
    raise MotionFormatError(
        f"with up_axis='z' the body (pelvis to shoulders) points along {up} in {share:.0%} of "
        "the frames; "
        f"expected up_axis='{up}'{hint} (command line: {cli_option('up_axis', up)}), or "
        "up_axis='z' to keep the clip as it is",
        path=path,
    )

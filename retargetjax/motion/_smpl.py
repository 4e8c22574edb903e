"""SMPL family clips (AMASS ``.npz``): joint forward kinematics from a body-model file.

Only the skeleton is needed, never the mesh: the rest joints are linear in the shape,
``J(β) = J_regressor · (v_template + shapedirs · β)`` (pose blend shapes move vertices, not
the regressed rest joints), so a body model reduces to ``J_template`` (J, 3) and
``J_dirs`` (J, 3, B).

Body models (licensed, never shipped) are given with ``body_model=``:

- a model ``.npz`` with ``J_regressor`` (J, V), ``v_template`` (V, 3), ``shapedirs``
  (V, 3, B) and ``kintree_table`` (2, J); J = 24 (SMPL), 52 (SMPL-H) or 55 (SMPL-X);
- a folder holding ``SMPLX_NEUTRAL.npz``, ``SMPLH_MALE.npz``, ``smplx/SMPLX_FEMALE.npz``,
  ``smplh/male/model.npz`` … (model kind and the clip's gender; neutral as fallback);
- ``"mannequin-x"``: the SMPL-X joint calibration shipped by the PyPI package
  ``mannequin-x`` (rest joints and their shape directions for 10 betas, neutral), so SMPL-X
  clips need no licensed file; jaw and eyes sit at the head joint there.

Without ``body_model=``, the folder in ``$RETARGETJAX_BODY_MODELS`` is searched, then
``mannequin-x`` is used when installed: for SMPL-X exactly; for SMPL and SMPL-H (most of
AMASS) as an approximation, with a warning: their 22 body joints share SMPL-X's names, order
and parents and lie within a few cm of them, but their ``betas`` live in another shape space
and are ignored (a mean-size body; the retarget scales the human to the robot anyway).

Forward kinematics (AMASS convention, world Z up): with ``R_j = exp(θ_j)`` the local
rotation of joint ``j`` (axis-angle ``poses``), ``R_world_0 = R_0``,
``p_0 = J_0 + trans``, and for a child ``R_world_j = R_world_p R_j``,
``p_j = p_p + R_world_p (J_j − J_p)``. Hand poses are taken as absolute (flat hand mean).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..types import MotionFormatKind
from ._errors import MotionFormatError, cli_option
from ._human_motion import HumanMotion
from ._np_geometry import mat_to_quat_np, rotvec_to_mat_np
from ._smpl_clip import clip_poses, read_clip, scalar_str, smpl_kind_of_clip
from ._smpl_names import (
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
    SMPLH_JOINT_NAMES,
    SMPLH_PARENTS,
    SMPLX_JOINT_NAMES,
    SMPLX_PARENTS,
)

__all__ = [
    "BodyModel",
    "load_body_model",
    "load_smpl",
    "smpl_forward_kinematics",
    "smpl_kind_of_clip",
]

_log = logging.getLogger("retargetjax.motion")

_LAYOUT = {
    MotionFormatKind.SMPL: (SMPL_JOINT_NAMES, SMPL_PARENTS),
    MotionFormatKind.SMPLH: (SMPLH_JOINT_NAMES, SMPLH_PARENTS),
    MotionFormatKind.SMPLX: (SMPLX_JOINT_NAMES, SMPLX_PARENTS),
}
_KIND_BY_JOINTS = {
    24: MotionFormatKind.SMPL,
    52: MotionFormatKind.SMPLH,
    55: MotionFormatKind.SMPLX,
}
_FILE_STEM = {
    MotionFormatKind.SMPL: "SMPL",
    MotionFormatKind.SMPLH: "SMPLH",
    MotionFormatKind.SMPLX: "SMPLX",
}
MANNEQUIN_X = "mannequin-x"


@dataclass(frozen=True, eq=False)
class BodyModel:
    """The skeleton of an SMPL-family body model: rest joints linear in the shape."""

    #: SMPL (24 joints), SMPL-H (52) or SMPL-X (55).
    kind: MotionFormatKind
    #: (J, 3) rest joints at β = 0, metres, in the model frame.
    joint_template: np.ndarray
    #: (J, 3, B) change of the rest joints per shape coefficient.
    joint_shape_dirs: np.ndarray
    #: (J,) parent indices, -1 for the pelvis.
    parents: np.ndarray
    #: Where the model came from (a file, or ``"mannequin-x"``).
    source: str

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joint names in model order (:data:`SMPLX_JOINT_NAMES` …)."""
        return _LAYOUT[self.kind][0]

    def rest_joints(self, betas: np.ndarray | None = None) -> np.ndarray:
        """(J, 3) rest joints ``J_template + J_dirs · β`` (extra betas ignored, missing = 0)."""
        J = self.joint_template.astype(np.float64)
        if betas is None:
            return J
        betas = np.asarray(betas, dtype=np.float64).reshape(-1)
        n = min(len(betas), self.joint_shape_dirs.shape[-1])
        return J + self.joint_shape_dirs[..., :n].astype(np.float64) @ betas[:n]


def _parents_from_kintree(kintree: np.ndarray) -> np.ndarray:
    parents = np.asarray(kintree)[0].astype(np.int64)
    parents[(parents < 0) | (parents >= len(parents)) | (np.arange(len(parents)) == 0)] = -1
    return parents


def _model_from_npz(path: Path) -> BodyModel:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [
                k
                for k in ("J_regressor", "v_template", "shapedirs", "kintree_table")
                if k not in data
            ]
            if missing:
                raise MotionFormatError(
                    f"body model lacks {', '.join(missing)}; found {sorted(data.files)}; expected "
                    "J_regressor, v_template, shapedirs, kintree_table",
                    path=path,
                )
            regressor = np.asarray(data["J_regressor"], dtype=np.float64)
            template = np.asarray(data["v_template"], dtype=np.float64)
            shapedirs = np.asarray(data["shapedirs"], dtype=np.float64)
            kintree = np.asarray(data["kintree_table"])
    except MotionFormatError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise MotionFormatError(
            f"cannot read the body model ({exc}); expected an .npz of plain arrays (convert "
            "pickled .pkl models to .npz first)",
            path=path,
        ) from None
    J = regressor.shape[0]
    if J not in _KIND_BY_JOINTS:
        raise MotionFormatError(
            f"J_regressor has {J} joints; expected 24 (SMPL), 52 (SMPL-H) or 55 (SMPL-X)", path=path
        )
    V = template.shape[0]
    if regressor.shape != (J, V) or shapedirs.shape[:2] != (V, 3) or kintree.shape[-1] != J:
        raise MotionFormatError(
            f"inconsistent body model shapes: J_regressor {regressor.shape}, v_template "
            f"{template.shape}, shapedirs {shapedirs.shape}, kintree_table {kintree.shape}",
            path=path,
        )
    kind = _KIND_BY_JOINTS[J]
    joint_template = regressor @ template
    joint_dirs = np.einsum("jv,vcb->jcb", regressor, shapedirs)
    parents = _parents_from_kintree(kintree)
    expected = np.asarray(_LAYOUT[kind][1])
    if not np.array_equal(parents, expected):
        raise MotionFormatError(
            f"kintree_table parents {parents.tolist()} differ from the {kind.value} skeleton "
            f"{expected.tolist()}",
            path=path,
        )
    return BodyModel(kind, joint_template, joint_dirs, parents, str(path))


def mannequin_x_calibration_path() -> Path | None:
    """The ``smplx_calibration.npz`` of the installed ``mannequin-x`` package, or ``None``."""
    try:
        import importlib.metadata as md

        path = Path(
            str(
                md.distribution("mannequin-x").locate_file("mannequin/assets/smplx_calibration.npz")
            )
        )
    except Exception:
        return None
    return path if path.is_file() else None


def _model_from_mannequin(path: Path | None = None) -> BodyModel:
    """SMPL-X skeleton from mannequin-x's calibration (54 joints in PHC naming).

    Its joints follow SMPL order for the body (``Pelvis, L_Hip, … R_Wrist``), then an extra
    ``L_Hand``/``R_Hand`` at the wrists (dropped), then 15 finger joints per hand in SMPL-X
    order. SMPL-X's jaw and eyes are absent and placed at the head.
    """
    path = path or mannequin_x_calibration_path()
    if path is None:
        raise MotionFormatError(
            "body_model='mannequin-x' but the package is not installed; expected "
            "`pip install mannequin-x` or a body-model .npz"
        )
    with np.load(path, allow_pickle=False) as data:
        rest = np.asarray(data["joint_rest"], dtype=np.float64)
        dirs = np.asarray(data["joint_dirs"], dtype=np.float64)
    if rest.shape[0] != 54:
        raise MotionFormatError(f"joint_rest has {rest.shape[0]} joints; expected 54", path=path)
    order = [*range(22), 15, 15, 15, *range(24, 54)]
    return BodyModel(
        MotionFormatKind.SMPLX,
        rest[order],
        dirs[order],
        np.asarray(SMPLX_PARENTS, dtype=np.int64),
        MANNEQUIN_X,
    )


def load_body_model(
    body_model: str | os.PathLike | BodyModel | None,
    kind: MotionFormatKind,
    gender: str = "neutral",
) -> BodyModel:
    """Resolve ``body_model=`` (file, folder, ``"mannequin-x"`` or ``None``) for a clip."""
    if isinstance(body_model, BodyModel):
        return body_model
    if body_model is None:
        env = os.environ.get("RETARGETJAX_BODY_MODELS")
        if env:
            body_model = env
        elif mannequin_x_calibration_path() is not None:
            if kind == MotionFormatKind.SMPLX:
                _log.info("no body_model given: using the mannequin-x SMPL-X joint calibration")
            else:
                _log.warning(
                    "a %s clip without a %s body model: read with the neutral SMPL-X skeleton "
                    "of mannequin-x (the 22 body joints agree within a few cm; the clip's "
                    "'betas' are ignored, a mean-size body); for the exact skeleton give "
                    "body_model=<model .npz or folder> (command line: %s)",
                    kind.value,
                    kind.value,
                    cli_option("body_model", "PATH"),
                )
            return _model_from_mannequin()
        else:
            raise MotionFormatError(
                f"a {kind.value} clip needs a body model; expected body_model=<model .npz or "
                f"folder> (command line: {cli_option('body_model', 'PATH')}; or "
                "$RETARGETJAX_BODY_MODELS"
                + ", or `pip install mannequin-x` for a neutral SMPL-X skeleton)"
            )
    if str(body_model).lower() in (MANNEQUIN_X, "mannequin_x", "mannequin"):
        return _model_from_mannequin()
    path = Path(body_model).expanduser()
    if path.is_dir():
        stem = _FILE_STEM[kind]
        low = kind.value
        candidates = []
        for g in dict.fromkeys([gender.lower(), "neutral"]):
            G = g.upper()
            candidates += [
                path / f"{stem}_{G}.npz",
                path / low / f"{stem}_{G}.npz",
                path / low / g / "model.npz",
                path / g / "model.npz",
            ]
        for candidate in candidates:
            if candidate.is_file():
                return _model_from_npz(candidate)
        raise MotionFormatError(
            f"no {kind.value} body model for gender {gender!r} in the folder; expected one of "
            + ", ".join(str(c.relative_to(path)) for c in candidates),
            path=path,
        )
    if not path.is_file():
        raise MotionFormatError("body model file not found; expected a model .npz", path=path)
    return _model_from_npz(path)


def _model_pose(poses: np.ndarray, model_kind: MotionFormatKind, path: Path) -> np.ndarray:
    """(T, J_model, 3) axis-angles for the model from a clip's (T, 3·J_clip) poses.

    The 22 body joints are shared; hands and face are copied where the clip has them and left
    at rest otherwise (SMPL-H ↔ SMPL-X fingers share their order).
    """
    T = poses.shape[0]
    clip = poses.reshape(T, -1, 3)
    n_clip = clip.shape[1]
    J = len(_LAYOUT[model_kind][0])
    out = np.zeros((T, J, 3), dtype=np.float64)
    if n_clip < 22:
        raise MotionFormatError(
            f"'poses' has {n_clip} joints; expected at least the 22 body joints", path=path
        )
    out[:, :22] = clip[:, :22]
    fingers = {52: clip[:, 22:52], 55: clip[:, 25:55]}.get(n_clip)
    if model_kind == MotionFormatKind.SMPL and n_clip == 24:
        out[:, 22:24] = clip[:, 22:24]
    elif model_kind == MotionFormatKind.SMPLH and fingers is not None:
        out[:, 22:52] = fingers
    elif model_kind == MotionFormatKind.SMPLX:
        if n_clip == 55:
            out[:, 22:25] = clip[:, 22:25]
        if fingers is not None:
            out[:, 25:55] = fingers
    return out


def smpl_forward_kinematics(
    rest_joints: np.ndarray, parents: np.ndarray, rotvecs: np.ndarray, trans: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World positions (T, J, 3) and orientations (T, J, 4) ``wxyz`` of an SMPL-family pose.

    ``R_world_j = R_world_p exp(θ_j)``, ``p_0 = J_0 + trans`` and
    ``p_j = p_p + R_world_p (J_j − J_p)``.
    """
    T, J, _ = rotvecs.shape
    local = rotvec_to_mat_np(rotvecs).astype(np.float64)
    rot = np.empty((J, T, 3, 3))
    pos = np.empty((J, T, 3))
    for j in range(J):
        p = int(parents[j])
        if p < 0:
            rot[j] = local[:, j]
            pos[j] = rest_joints[j] + trans
        else:
            rot[j] = rot[p] @ local[:, j]
            pos[j] = pos[p] + rot[p] @ (rest_joints[j] - rest_joints[p])
    return pos.transpose(1, 0, 2), mat_to_quat_np(rot.transpose(1, 0, 2, 3))


def load_smpl(
    path: str | os.PathLike,
    *,
    model_type: MotionFormatKind | None = None,
    body_model: str | os.PathLike | BodyModel | None = None,
    gender: str | None = None,
    betas: np.ndarray | None = None,
    fps: float | None = None,
) -> HumanMotion:
    """Read an AMASS-style SMPL / SMPL-H / SMPL-X clip into a :class:`HumanMotion`.

    Clip keys: ``poses`` (T, 3·J) axis-angles (or ``root_orient`` + ``pose_body`` [+
    ``pose_hand``, ``pose_jaw``, ``pose_eye``]), ``trans`` (T, 3) metres, ``betas`` (B,),
    ``gender``, ``mocap_framerate`` or ``mocap_frame_rate``; other keys are never read
    (:data:`~._smpl_clip.CLIP_KEYS`). ``gender``, ``betas`` and ``fps`` options override
    the file. The skeleton follows the body model's kind; joints named as in
    :data:`SMPLX_JOINT_NAMES` etc. World frame as stored (AMASS: Z up).
    """
    path = Path(path)
    data, files = read_clip(path)
    poses, clip_kind = clip_poses(data, files, path)
    if poses.ndim != 2 or poses.shape[0] == 0 or poses.shape[1] % 3:
        raise MotionFormatError(
            f"'poses' has shape {poses.shape}; expected (frames ≥ 1, 3·joints)", path=path
        )
    T = poses.shape[0]
    trans = np.asarray(data.get("trans", np.zeros((T, 3))), dtype=np.float64)
    if trans.shape != (T, 3):
        raise MotionFormatError(f"'trans' has shape {trans.shape}; expected {(T, 3)}", path=path)
    for key, arr in (("poses", poses), ("trans", trans)):
        if not np.all(np.isfinite(arr)):
            t = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise MotionFormatError(
                f"'{key}' at frame {t} is not finite; expected finite values", path=path
            )
    if fps is None:
        for key in ("mocap_framerate", "mocap_frame_rate", "fps", "framerate"):
            if key in data:
                fps = float(np.asarray(data[key]).reshape(-1)[0])
                break
        else:
            raise MotionFormatError(
                "no frame rate; expected 'mocap_framerate' or the fps= option (command line: "
                f"{cli_option('fps', '30')})",
                path=path,
            )
    if not (np.isfinite(fps) and fps > 0):
        raise MotionFormatError(f"frame rate {fps}; expected a positive number", path=path)
    if gender is None:
        gender = scalar_str(data["gender"]) if "gender" in data else "neutral"
    gender = gender.strip().lower() or "neutral"
    if betas is None:
        betas = np.asarray(data.get("betas", np.zeros(0)), dtype=np.float64)
        if betas.ndim == 2:
            betas = betas[0]
    betas = np.asarray(betas, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(betas)):
        raise MotionFormatError("'betas' are not finite", path=path)
    kind = model_type if isinstance(model_type, MotionFormatKind) else clip_kind
    if kind not in _LAYOUT:
        kind = clip_kind or MotionFormatKind.SMPLX
    model = load_body_model(body_model, kind, gender)
    # Shape coefficients belong to their model's shape space: an SMPL or SMPL-H clip read
    # with the SMPL-X calibration keeps the mean shape rather than a wrong body.
    foreign_shape = model.kind == MotionFormatKind.SMPLX and clip_kind not in (
        None,
        MotionFormatKind.SMPLX,
    )
    rest = model.rest_joints(None if foreign_shape else betas)
    rotvecs = _model_pose(poses, model.kind, path)
    positions, orientations = smpl_forward_kinematics(rest, model.parents, rotvecs, trans)
    return HumanMotion(
        fps=fps,
        joint_names=model.joint_names,
        parents=model.parents,
        positions=positions.astype(np.float32),
        orientations=orientations,
        source=path,
        format=model.kind,
        metadata={
            "gender": gender,
            "betas": betas.astype(np.float32),
            "body_model": model.source,
            "betas_used": not foreign_shape,
            "clip_kind": clip_kind.value if clip_kind else None,
            "units": "m",
            "up_axis": "z",
        },
    )

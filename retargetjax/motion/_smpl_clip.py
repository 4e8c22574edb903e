"""Reading an AMASS-style SMPL family clip: only the keys it needs, its kind and its poses.

AMASS stage-II files (SMPL-X N, SOMA) carry pickled objects such as ``markers_latent_vids``.
``np.load(..., allow_pickle=False)`` refuses them only when they are read, so a clip is read
key by key (:data:`CLIP_KEYS`) and every other key is left alone.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from ..types import MotionFormatKind
from ._errors import MotionFormatError

__all__ = ["CLIP_KEYS", "clip_poses", "read_clip", "scalar_str", "smpl_kind_of_clip"]

#: The clip keys :func:`~._smpl.load_smpl` reads; no other key of a clip is ever loaded.
CLIP_KEYS = (
    "poses",
    "root_orient",
    "pose_body",
    "pose_hand",
    "pose_jaw",
    "pose_eye",
    "trans",
    "betas",
    "gender",
    "surface_model_type",
    "mocap_framerate",
    "mocap_frame_rate",
    "fps",
    "framerate",
)

_KIND_BY_WIDTH = {
    72: MotionFormatKind.SMPL,
    156: MotionFormatKind.SMPLH,
    165: MotionFormatKind.SMPLX,
}


def read_clip(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """The :data:`CLIP_KEYS` a clip has (read one by one) and the sorted names of all its keys.

    Raises:
        MotionFormatError: the file is not a readable ``.npz``, or one of the keys read is a
            pickled object array.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = sorted(npz.files)
            data = {}
            for key in CLIP_KEYS:
                if key not in files:
                    continue
                try:
                    data[key] = npz[key]
                except ValueError as exc:
                    raise MotionFormatError(
                        f"'{key}' cannot be read ({exc}); expected a plain array", path=path
                    ) from None
    except MotionFormatError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise MotionFormatError(
            f"cannot read the clip ({exc}); expected an AMASS .npz", path=path
        ) from None
    return data, files


def smpl_kind_of_clip(npz, path: str | os.PathLike) -> MotionFormatKind:
    """SMPL, SMPL-H or SMPL-X from a clip's ``surface_model_type`` or its pose width.

    ``npz`` is any mapping of the clip's arrays (an open ``NpzFile`` or :func:`read_clip`'s
    dict); only ``surface_model_type`` and ``poses`` are read.
    """
    if "surface_model_type" in npz:
        value = scalar_str(npz["surface_model_type"]).lower().replace("-", "")
        if value in ("smplx", "smplh", "smpl"):
            return MotionFormatKind(value)
    shape = np.asarray(npz["poses"]).shape
    width = _pose_width(shape)
    if width in _KIND_BY_WIDTH:
        return _KIND_BY_WIDTH[width]
    given = f"shape {shape}" if len(shape) != 2 else f"{width} values per frame"
    raise MotionFormatError(
        f"'poses' has {given}; expected (frames, 72) (SMPL), (frames, 156) (SMPL-H) or "
        "(frames, 165) (SMPL-X), or (frames, 24|52|55, 3)",
        path=path,
    )


def _pose_width(shape: tuple[int, ...]) -> int:
    """Values per frame of a ``poses`` array: (T, 3·J) as stored, or (T, J, 3) flattened."""
    if len(shape) == 3 and shape[-1] == 3:
        return shape[1] * 3
    return shape[-1] if shape else 0


def clip_poses(
    data: dict[str, np.ndarray], files: list[str], path: Path
) -> tuple[np.ndarray, MotionFormatKind]:
    """(T, 3·J) axis-angles of a clip and the kind its poses imply.

    From ``poses`` ((T, 3·J), or (T, J, 3) with J = 24, 52 or 55, flattened), or from
    ``root_orient`` + ``pose_body`` [+ ``pose_jaw`` and ``pose_eye``] [+ ``pose_hand``]
    in SMPL-X order.
    """
    if "poses" in data:
        kind = smpl_kind_of_clip(data, path)
        poses = np.asarray(data["poses"], dtype=np.float64)
        if poses.ndim == 3 and _pose_width(poses.shape) in _KIND_BY_WIDTH:
            poses = poses.reshape(poses.shape[0], -1)  # (T, J, 3): the same axis-angles
        return poses, kind
    if "root_orient" in data and "pose_body" in data:
        parts = [data["root_orient"], data["pose_body"]]
        if "pose_jaw" in data and "pose_eye" in data:
            parts += [data["pose_jaw"], data["pose_eye"]]
        if "pose_hand" in data:
            parts.append(data["pose_hand"])
        poses = np.concatenate([np.asarray(p, np.float64) for p in parts], axis=-1)
        kind = {72: MotionFormatKind.SMPL, 156: MotionFormatKind.SMPLH}.get(
            poses.shape[-1], MotionFormatKind.SMPLX
        )
        return poses, kind
    raise MotionFormatError(
        f"no 'poses' (or 'root_orient' + 'pose_body'); found keys {files}", path=path
    )


def scalar_str(value) -> str:
    """The first element of a string array (``str`` or ``bytes``) as ``str``; ``""`` if empty."""
    v = np.asarray(value).reshape(-1)
    if v.size == 0:
        return ""
    item = v[0]
    return item.decode() if isinstance(item, bytes) else str(item)

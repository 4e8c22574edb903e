"""``load_motion``: one entry point for every motion format, chosen or detected."""

from __future__ import annotations

import inspect
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..types import MotionFormatKind
from ._errors import MotionFormatError
from ._human_motion import HumanMotion

__all__ = ["detect_motion_format", "load_motion", "sample_motion_path"]

_ALIASES = {
    "bvh": MotionFormatKind.BVH,
    "keypoints": MotionFormatKind.KEYPOINTS,
    "keypoint": MotionFormatKind.KEYPOINTS,
    "npy": MotionFormatKind.KEYPOINTS,
    "smpl": MotionFormatKind.SMPL,
    "smplh": MotionFormatKind.SMPLH,
    "smpl-h": MotionFormatKind.SMPLH,
    "smpl_h": MotionFormatKind.SMPLH,
    "smplx": MotionFormatKind.SMPLX,
    "smpl-x": MotionFormatKind.SMPLX,
    "smpl_x": MotionFormatKind.SMPLX,
}


def _parse_format(format: MotionFormatKind | str, path: Path) -> MotionFormatKind | str:
    if isinstance(format, MotionFormatKind):
        return format
    key = str(format).strip().lower()
    if key == "amass":
        return "amass"
    if key in _ALIASES:
        return _ALIASES[key]
    raise MotionFormatError(
        f"unknown motion format {format!r}; expected one of "
        + ", ".join(k.value for k in MotionFormatKind)
        + " or 'amass'",
        path=path,
    )


def detect_motion_format(path: str | os.PathLike) -> MotionFormatKind:
    """The format of a motion file from its suffix and contents.

    ``.bvh`` or text starting with ``HIERARCHY`` → BVH; ``.npy`` → keypoints; ``.npz`` with
    ``poses`` → the SMPL family (SMPL-X when ``surface_model_type`` says so or poses have 165
    or 55·3 values, SMPL-H for 156, SMPL for 72), with a positions key → keypoints.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionFormatError("no such file; expected a motion file", path=path)
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return MotionFormatKind.BVH
    if suffix == ".npy":
        return MotionFormatKind.KEYPOINTS
    with path.open("rb") as f:
        head = f.read(64)
    if head.lstrip().upper().startswith(b"HIERARCHY"):
        return MotionFormatKind.BVH
    if head.startswith(b"PK"):
        try:
            with np.load(path, allow_pickle=False) as npz:
                keys = set(npz.files)
                if "poses" in keys:
                    from ._smpl_clip import smpl_kind_of_clip

                    return smpl_kind_of_clip(npz, path)
        except MotionFormatError:
            raise  # a readable archive with bad contents: its own message says what
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise MotionFormatError(
                f"cannot read the .npz ({type(exc).__name__}: {exc}); expected a complete .npz "
                "archive (truncated, or still being copied?)",
                path=path,
            ) from None
        from ._keypoint_file import KEYPOINT_FILE_KEYS

        if keys & set(KEYPOINT_FILE_KEYS["positions"]):
            return MotionFormatKind.KEYPOINTS
        raise MotionFormatError(
            f"unknown .npz motion: keys {sorted(keys)}; expected 'poses' (AMASS / SMPL family) or "
            "'positions' (keypoints)",
            path=path,
        )
    if head.startswith(b"\x93NUMPY"):
        return MotionFormatKind.KEYPOINTS
    raise MotionFormatError(
        "unknown motion format; expected a .bvh, an AMASS/SMPL .npz or a keypoint .npz/.npy "
        "(or pass format=)",
        path=path,
    )


def load_motion(
    path: str | os.PathLike,
    format: MotionFormatKind | str | None = None,
    **options: Any,
) -> HumanMotion:
    """Load a human motion clip (metres, Z up, world frame).

    Args:
        path: the motion file.
        format: a :class:`~retargetjax.types.MotionFormatKind` (or its value, ``"amass"``
            for any SMPL-family clip); ``None`` detects it (:func:`detect_motion_format`).
        **options: passed to the format's loader: BVH — ``units``, ``up_axis``,
            ``end_sites`` (:func:`load_bvh`); keypoints — ``fps``, ``joint_names``,
            ``parents``, ``units``, ``up_axis``, ``level_floor`` (:func:`load_keypoints`);
            SMPL family — ``body_model``, ``gender``, ``betas``, ``fps`` (:func:`load_smpl`).

    Raises:
        MotionFormatError: unknown format or option, unreadable or invalid file (the message
            names the file and line or field).
    """
    path = Path(path)
    kind = detect_motion_format(path) if format is None else _parse_format(format, path)
    if kind == "amass":
        kind = detect_motion_format(path)
    if kind == MotionFormatKind.BVH:
        from ._bvh import load_bvh as loader
    elif kind == MotionFormatKind.KEYPOINTS:
        from ._keypoint_file import load_keypoints as loader
    else:
        from ._smpl import load_smpl

        def loader(p, **kw):
            return load_smpl(p, model_type=kind, **kw)

        loader.__signature__ = inspect.signature(load_smpl)  # type: ignore[attr-defined]
    accepted = [
        n
        for n, prm in inspect.signature(loader).parameters.items()
        if prm.kind == inspect.Parameter.KEYWORD_ONLY and n != "model_type"
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise MotionFormatError(
            f"unknown option(s) {', '.join(unknown)} for format {kind.value}; expected "
            + (", ".join(accepted) or "none"),
            path=path,
        )
    if not path.is_file():
        raise MotionFormatError("no such file; expected a motion file", path=path)
    try:
        return loader(path, **options)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise MotionFormatError(
            f"cannot read the file ({type(exc).__name__}: {exc}); expected a complete "
            f"{kind.value} file (truncated, or still being copied?)",
            path=path,
        ) from exc


#: The sample clips shipped with the package (MIT, see ``assets/motions/LICENSE``).
SAMPLE_MOTIONS = {
    # 19-joint mocap rig, 455 frames at 30 fps, cm, Y up: a squat (upstream name kept).
    "squat": "mocapbank_walk.bvh",
    # 23-joint rig with ``*_End`` joints, 1064 frames at 120 fps, inches, Y up: a real walk.
    "walk": "meredith_walk_120fps.bvh",
}


def sample_motion_path(name: str = "squat") -> Path:
    """Path of a small sample clip shipped with the package: ``"squat"`` (the default, the
    short 30 fps clip the tests use) or ``"walk"`` (the demo's real walk); see
    :data:`SAMPLE_MOTIONS`."""
    if name not in SAMPLE_MOTIONS:
        raise ValueError(f"no sample motion {name!r}; expected one of {', '.join(SAMPLE_MOTIONS)}")
    return Path(__file__).resolve().parents[1] / "assets" / "motions" / SAMPLE_MOTIONS[name]

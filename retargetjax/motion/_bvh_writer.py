"""BVH writer: a :class:`HumanMotion` with orientations saved as a BVH file."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np

from ._errors import MotionFormatError
from ._euler import matrices_to_euler
from ._human_motion import HumanMotion
from ._np_geometry import quat_to_mat_np
from ._units import resolve_units, up_axis_to_z_matrix

__all__ = ["write_bvh"]


def _depth_first_order(parents: np.ndarray) -> list[int]:
    children: dict[int, list[int]] = {}
    for j, p in enumerate(parents):
        children.setdefault(int(p), []).append(j)
    order: list[int] = []
    stack = list(reversed(children.get(-1, [])))
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(children.get(j, [])))
    return order


def write_bvh(
    motion: HumanMotion,
    path: str | os.PathLike,
    *,
    units: str | float = "cm",
    up_axis: str = "y",
    rotation_order: str = "ZXY",
    precision: int = 6,
) -> Path:
    """Write ``motion`` as a BVH file (atomically: temp file + ``os.replace``).

    The skeleton is rebuilt from the clip: each joint's ``OFFSET`` is the mean over frames of
    its position in its parent's frame, ``o_j = mean_t R_p(t)ᵀ (p_j(t) − p_p(t))``; roots get
    ``OFFSET 0 0 0`` and three position channels; every other joint three rotation channels in
    ``rotation_order`` (intrinsic, as the reader expects) holding
    ``R_local = R_pᵀ R_j`` as Euler angles in degrees. Joints listed in
    ``metadata["end_sites"]`` that are leaves are written as ``End Site`` blocks. Positions are
    written in ``units`` with ``up_axis`` up (``p_file = Cᵀ p / s``), so reading the file back
    with the same options reproduces the positions of a rigid skeleton.

    Raises:
        MotionFormatError: the motion has no orientations or no root.
    """
    path = Path(path)
    if motion.orientations is None:
        raise MotionFormatError(
            "the motion has no joint orientations; expected orientations to write a BVH "
            "(keypoint clips cannot be written as BVH)",
            path=path,
        )
    _, scale = resolve_units(units, 0.0)
    C = up_axis_to_z_matrix(up_axis)
    order = _depth_first_order(motion.parents)
    if len(order) != motion.num_joints:
        raise MotionFormatError(
            "the joint parents do not form a forest; expected roots with -1", path=path
        )
    R = np.einsum("ji,tkjl->tkil", C, quat_to_mat_np(motion.orientations).astype(np.float64))
    p = (motion.positions.astype(np.float64) @ C) / scale  # Cᵀ p, row vectors
    parents = motion.parents
    has_children = np.zeros(motion.num_joints, dtype=bool)
    has_children[parents[parents >= 0]] = True
    end_sites = set(motion.metadata.get("end_sites", ()))
    is_end = [
        motion.joint_names[j] in end_sites and not has_children[j] for j in range(motion.num_joints)
    ]

    offsets = np.zeros((motion.num_joints, 3))
    local = np.empty_like(R)
    for j in range(motion.num_joints):
        par = int(parents[j])
        if par < 0:
            local[:, j] = R[:, j]
            continue
        bone = p[:, j] - p[:, par]
        offsets[j] = np.einsum("tji,tj->ti", R[:, par], bone).mean(axis=0)
        local[:, j] = np.einsum("tji,tjk->tik", R[:, par], R[:, j])

    axes = rotation_order.upper()
    rot_channels = " ".join(f"{a}rotation" for a in axes)
    header = io.StringIO()
    header.write("HIERARCHY\n")
    columns: list[np.ndarray] = []
    fmt = f"{{:.{precision}f}}"

    def off(j: int) -> str:
        return " ".join(fmt.format(v) for v in offsets[j])

    children: dict[int, list[int]] = {}
    for j in order:
        children.setdefault(int(parents[j]), []).append(j)

    def emit(j: int, depth: int) -> None:
        pad = "\t" * depth
        name = motion.joint_names[j]
        if is_end[j]:
            header.write(f"{pad}End Site\n{pad}{{\n{pad}\tOFFSET {off(j)}\n{pad}}}\n")
            return
        if parents[j] < 0:
            header.write(f"{pad}ROOT {name}\n{pad}{{\n{pad}\tOFFSET 0 0 0\n")
            header.write(f"{pad}\tCHANNELS 6 Xposition Yposition Zposition {rot_channels}\n")
            columns.append(p[:, j])
        else:
            header.write(f"{pad}JOINT {name}\n{pad}{{\n{pad}\tOFFSET {off(j)}\n")
            header.write(f"{pad}\tCHANNELS 3 {rot_channels}\n")
        columns.append(np.rad2deg(matrices_to_euler(local[:, j], axes)))
        for c in children.get(j, []):
            emit(c, depth + 1)
        header.write(f"{pad}}}\n")

    for root in children.get(-1, []):
        emit(root, 0)
    data = np.concatenate(columns, axis=1)
    header.write(f"MOTION\nFrames: {motion.num_frames}\nFrame Time: {1.0 / motion.fps:.8f}\n")
    body = io.StringIO()
    np.savetxt(body, data, fmt=f"%.{precision}f", delimiter=" ")

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="\n") as f:
            f.write(header.getvalue())
            f.write(body.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

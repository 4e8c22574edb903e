"""BVH reader: hierarchy, MOTION block and forward kinematics, vectorised over frames.

Conventions (the de-facto ones of MotionBuilder, Blender and bvhio):

- A joint's rotation channels are intrinsic, applied in the order listed: channels
  ``Zrotation Xrotation Yrotation`` with values ``(z, x, y)`` degrees give the local rotation
  ``R_local = Rz(z) · Rx(x) · Ry(y)``. Any subset and order of the six channels is accepted on
  any joint.
- Position channels *replace* the matching component of the joint's ``OFFSET``; joints
  without position channels are translated by their ``OFFSET``.
- Forward kinematics, parents first:
  ``R_world_j = R_world_parent · R_local_j`` and
  ``p_world_j = p_world_parent + R_world_parent · t_local_j``.
- ``End Site`` blocks become extra joints named ``<parent>_End`` (``_End2``… if taken) with
  the parent's orientation, listed in ``metadata["end_sites"]``; ``end_sites=False`` drops them.
- Units (cm / m / inches / mm) are detected from the rest skeleton's size (see
  :func:`~retargetjax.motion.detect_units`; a skeleton none of them makes 1.2-2.2 m tall is
  scaled to 1.7 m) and the Y-up world is turned Z-up by the fixed
  rotation ``C`` of :func:`~retargetjax.motion.up_axis_to_z_matrix`: ``p = s · C p_bvh`` and
  ``R = C · R_world_bvh`` (so ``metadata["rest_offsets_m"]`` stay in each parent joint's frame).
"""

from __future__ import annotations

import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..types import MotionFormatKind
from ._errors import MotionFormatError
from ._human_motion import HumanMotion
from ._np_geometry import mat_to_quat_np
from ._units import SCALED_UNITS, resolve_units, scaled_units_message, up_axis_to_z_matrix

__all__ = ["BvhSkeleton", "bvh_forward_kinematics", "load_bvh", "read_bvh"]

_log = logging.getLogger("retargetjax.motion")

_CHANNELS = {
    "xposition": "Xposition",
    "yposition": "Yposition",
    "zposition": "Zposition",
    "xrotation": "Xrotation",
    "yrotation": "Yrotation",
    "zrotation": "Zrotation",
}


@dataclass(frozen=True, eq=False)
class BvhSkeleton:
    """The HIERARCHY block of a BVH file, in file units and axes."""

    #: Joint names in file order (parents first); End Sites are named ``<parent>_End``.
    names: tuple[str, ...]
    #: (J,) parent index, -1 for roots.
    parents: np.ndarray
    #: (J, 3) ``OFFSET`` of each joint in its parent's frame (file units).
    offsets: np.ndarray
    #: Channel names per joint (``"Xposition"`` … ``"Zrotation"``), empty for End Sites.
    channels: tuple[tuple[str, ...], ...]
    #: (J,) column of each joint's first channel in a MOTION line.
    channel_start: np.ndarray
    #: (J,) True for End Sites.
    is_end_site: np.ndarray
    #: (J,) line of each joint's declaration in the file (1-based).
    lines: tuple[int, ...]

    @property
    def num_channels(self) -> int:
        """Number of values on each MOTION line."""
        return sum(len(c) for c in self.channels)

    def channel_label(self, column: int) -> str:
        """``"<joint> <channel>"`` of a MOTION column, for error messages."""
        for j, chans in enumerate(self.channels):
            start = int(self.channel_start[j])
            if start <= column < start + len(chans):
                return f"{self.names[j]} {chans[column - start]}"
        return f"column {column + 1}"


def _tokenize(lines: list[str], first_line: int) -> list[tuple[str, int]]:
    tokens: list[tuple[str, int]] = []
    for n, line in enumerate(lines, start=first_line):
        for tok in line.replace("{", " { ").replace("}", " } ").split():
            tokens.append((tok, n))
    return tokens


class _HierarchyParser:
    def __init__(self, tokens: list[tuple[str, int]], path: Path, last_line: int):
        self.tokens = tokens
        self.i = 0
        self.path = path
        self.last_line = last_line
        self.names: list[str] = []
        self.parents: list[int] = []
        self.offsets: list[tuple[float, float, float]] = []
        self.channels: list[tuple[str, ...]] = []
        self.end_site: list[bool] = []
        self.lines: list[int] = []

    def error(self, message: str, line: int | None = None) -> MotionFormatError:
        if line is None:
            line = self.tokens[self.i][1] if self.i < len(self.tokens) else self.last_line
        return MotionFormatError(message, path=self.path, line=line)

    def peek(self) -> tuple[str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, what: str) -> tuple[str, int]:
        if self.i >= len(self.tokens):
            raise self.error(f"the HIERARCHY block ends early; expected {what}")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, word: str) -> int:
        tok, line = self.take(repr(word))
        if tok.upper() != word.upper():
            raise self.error(f"found {tok!r}; expected {word!r}", line)
        return line

    def number(self, what: str) -> float:
        tok, line = self.take(what)
        try:
            value = float(tok)
        except ValueError:
            raise self.error(f"found {tok!r}; expected a number ({what})", line) from None
        if not math.isfinite(value):
            raise self.error(f"found {tok!r}; expected a finite number ({what})", line)
        return value

    def unique_name(self, name: str, line: int) -> str:
        if name not in self.names:
            return name
        k = 2
        while f"{name}{k}" in self.names:
            k += 1
        _log.warning(
            "%s:%d: joint name %r is used twice; renamed %r", self.path, line, name, f"{name}{k}"
        )
        return f"{name}{k}"

    def parse(self) -> None:
        self.expect("HIERARCHY")
        while self.peek() is not None:
            tok, line = self.peek()
            if tok.upper() != "ROOT":
                raise self.error(f"found {tok!r}; expected 'ROOT' or 'MOTION'", line)
            self.i += 1
            self.joint(parent=-1, keyword_line=line)
        if not self.names:
            raise self.error("the HIERARCHY block has no ROOT joint; expected 'ROOT <name> {...}'")

    def joint(self, parent: int, keyword_line: int) -> None:
        name_parts = []
        while self.peek() is not None and self.peek()[1] == keyword_line and self.peek()[0] != "{":
            name_parts.append(self.take("a joint name")[0])
        if not name_parts:
            raise self.error("joint without a name; expected 'JOINT <name>'", keyword_line)
        name = self.unique_name(" ".join(name_parts), keyword_line)
        self.expect("{")
        index = len(self.names)
        self.names.append(name)
        self.parents.append(parent)
        self.offsets.append((0.0, 0.0, 0.0))
        self.channels.append(())
        self.end_site.append(False)
        self.lines.append(keyword_line)
        seen_offset = False
        while True:
            tok, line = self.take("'}' closing joint " + repr(name))
            key = tok.upper()
            if key == "OFFSET":
                self.offsets[index] = tuple(self.number(f"OFFSET of {name}") for _ in range(3))
                seen_offset = True
            elif key == "CHANNELS":
                count_tok, count_line = self.take("a channel count")
                try:
                    count = int(count_tok)
                except ValueError:
                    raise self.error(
                        f"found {count_tok!r}; expected the number of channels of {name}",
                        count_line,
                    ) from None
                if not 0 <= count <= 6:
                    raise self.error(f"{count} channels for {name}; expected 0 to 6", count_line)
                chans = []
                for _ in range(count):
                    ctok, cline = self.take(f"{count} channel names for {name}")
                    if ctok.lower() not in _CHANNELS:
                        raise self.error(
                            f"unknown channel {ctok!r} of {name}; expected one of "
                            + ", ".join(_CHANNELS.values()),
                            cline,
                        )
                    chans.append(_CHANNELS[ctok.lower()])
                if len(set(chans)) != len(chans):
                    raise self.error(f"channel listed twice for {name}: {chans}", count_line)
                self.channels[index] = tuple(chans)
            elif key == "JOINT":
                self.joint(parent=index, keyword_line=line)
            elif key == "END":
                nxt = self.peek()
                if nxt is not None and nxt[0].upper() == "SITE":
                    self.i += 1
                self.end(parent=index, line=line)
            elif key == "}":
                break
            else:
                raise self.error(
                    f"found {tok!r} in joint {name}; expected OFFSET, CHANNELS, JOINT, "
                    "End Site or '}'",
                    line,
                )
        if not seen_offset:
            raise self.error(f"joint {name} has no OFFSET; expected 'OFFSET x y z'", keyword_line)

    def end(self, parent: int, line: int) -> None:
        self.expect("{")
        base = f"{self.names[parent]}_End"
        name = base
        k = 2
        while name in self.names:
            name = f"{base}{k}"
            k += 1
        offset = (0.0, 0.0, 0.0)
        while True:
            tok, tline = self.take("'}' closing an End Site")
            if tok.upper() == "OFFSET":
                offset = tuple(self.number("End Site OFFSET") for _ in range(3))
            elif tok == "}":
                break
            else:
                raise self.error(f"found {tok!r} in an End Site; expected OFFSET or '}}'", tline)
        self.names.append(name)
        self.parents.append(parent)
        self.offsets.append(offset)
        self.channels.append(())
        self.end_site.append(True)
        self.lines.append(line)

    def skeleton(self) -> BvhSkeleton:
        counts = np.array([len(c) for c in self.channels], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return BvhSkeleton(
            names=tuple(self.names),
            parents=np.asarray(self.parents, dtype=np.int64),
            offsets=np.asarray(self.offsets, dtype=np.float64).reshape(-1, 3),
            channels=tuple(self.channels),
            channel_start=starts,
            is_end_site=np.asarray(self.end_site, dtype=bool),
            lines=tuple(self.lines),
        )


def _header_value(line: str, key: str, path: Path, line_no: int) -> str:
    head, sep, value = line.partition(":")
    if not sep or head.strip().lower().replace(" ", "") != key.lower().replace(" ", ""):
        raise MotionFormatError(
            f"found {line.strip()!r}; expected '{key}: <value>'", path=path, line=line_no
        )
    return value.strip()


def _find_bad_line(
    chunk: list[str], first_line: int, n_channels: int, skeleton: BvhSkeleton, path: Path
) -> MotionFormatError:
    """The precise error for a chunk of MOTION lines that numpy refused (slow path)."""
    for k, line in enumerate(chunk):
        fields = line.split()
        if len(fields) != n_channels:
            return MotionFormatError(
                f"{len(fields)} values on this MOTION line; expected {n_channels} (one per channel "
                "in the HIERARCHY)",
                path=path,
                line=first_line + k,
            )
        for c, field in enumerate(fields):
            try:
                float(field)
            except ValueError:
                return MotionFormatError(
                    f"value {field!r} for {skeleton.channel_label(c)} is not a number; expected a "
                    "decimal number",
                    path=path,
                    line=first_line + k,
                )
    return MotionFormatError(
        "cannot parse the MOTION block; expected numbers", path=path, line=first_line
    )


def _parse_motion_lines(
    data_lines: list[str], line_numbers: np.ndarray, skeleton: BvhSkeleton, path: Path
) -> np.ndarray:
    """Bulk-parse MOTION lines into (T, C) float64, in a few threads; exact errors on failure."""
    n_channels = skeleton.num_channels
    n = len(data_lines)
    n_chunks = max(1, min(4, os.cpu_count() or 1, n // 2000))
    bounds = np.linspace(0, n, n_chunks + 1).astype(int)

    def parse(k: int) -> np.ndarray:
        chunk = data_lines[bounds[k] : bounds[k + 1]]
        first = int(line_numbers[bounds[k]])
        if n_channels == 0:
            if any(line.strip() for line in chunk):
                raise _find_bad_line(chunk, first, 0, skeleton, path)
            return np.zeros((len(chunk), 0))
        try:
            values = np.loadtxt(chunk, dtype=np.float64, ndmin=2, comments=None)
        except ValueError:
            raise _find_bad_line(chunk, first, n_channels, skeleton, path) from None
        if values.shape != (len(chunk), n_channels):
            raise _find_bad_line(chunk, first, n_channels, skeleton, path)
        return values

    if n_chunks == 1:
        parts = [parse(0)]
    else:
        with ThreadPoolExecutor(n_chunks) as pool:
            parts = list(pool.map(parse, range(n_chunks)))
    values = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
    bad = ~np.isfinite(values)
    if bad.any():
        t, c = np.argwhere(bad)[0]
        raise MotionFormatError(
            f"value {values[t, c]} for {skeleton.channel_label(int(c))} is not finite; expected a "
            "finite number",
            path=path,
            line=int(line_numbers[t]),
        )
    return values


def read_bvh(path: str | os.PathLike) -> tuple[BvhSkeleton, float, np.ndarray]:
    """Parse a BVH file: ``(skeleton, frame_time_s, channel values (T, C) float64)``.

    CRLF or LF line ends, tabs or spaces. Errors are :class:`MotionFormatError` naming the
    file, the line and what was expected: a truncated or over-long MOTION block, a wrong number
    of values on a line, a non-numeric or non-finite value, zero frames.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MotionFormatError(f"cannot read the file ({exc.strerror})", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.splitlines()
    motion_at = None
    for n, line in enumerate(lines):
        if line.strip().upper() == "MOTION":
            motion_at = n
            break
    if not text.lstrip().upper().startswith("HIERARCHY"):
        raise MotionFormatError(
            "the file does not start with 'HIERARCHY'; expected a BVH file", path=path, line=1
        )
    if motion_at is None:
        raise MotionFormatError(
            "no MOTION block; expected a line 'MOTION' after the HIERARCHY",
            path=path,
            line=len(lines),
        )
    parser = _HierarchyParser(_tokenize(lines[:motion_at], 1), path, motion_at + 1)
    parser.parse()
    skeleton = parser.skeleton()

    # MOTION header: "Frames: N" and "Frame Time: dt" on the next non-blank lines.
    k = motion_at + 1
    header: list[tuple[str, int]] = []
    while len(header) < 2:
        if k >= len(lines):
            raise MotionFormatError(
                "the MOTION block ends early; expected 'Frames: N' and 'Frame Time: seconds'",
                path=path,
                line=len(lines),
            )
        if lines[k].strip():
            header.append((lines[k], k + 1))
        k += 1
    frames_text = _header_value(header[0][0], "Frames", path, header[0][1])
    try:
        n_frames = int(float(frames_text))
    except ValueError:
        raise MotionFormatError(
            f"frame count {frames_text!r} is not a number; expected 'Frames: N'",
            path=path,
            line=header[0][1],
        ) from None
    time_text = _header_value(header[1][0], "Frame Time", path, header[1][1])
    try:
        frame_time = float(time_text)
    except ValueError:
        raise MotionFormatError(
            f"frame time {time_text!r} is not a number; expected 'Frame Time: seconds'",
            path=path,
            line=header[1][1],
        ) from None
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise MotionFormatError(
            f"frame time {time_text}; expected a positive number of seconds",
            path=path,
            line=header[1][1],
        )
    if n_frames <= 0:
        raise MotionFormatError(
            f"the clip has {n_frames} frames; expected at least one", path=path, line=header[0][1]
        )

    data_lines = lines[k:]
    nonblank = np.fromiter((bool(s.strip()) for s in data_lines), dtype=bool, count=len(data_lines))
    line_numbers = np.flatnonzero(nonblank) + k + 1
    if not nonblank.all():
        data_lines = [s for s, keep in zip(data_lines, nonblank) if keep]
    if len(data_lines) < n_frames:
        raise MotionFormatError(
            f"the MOTION block is truncated: {len(data_lines)} frame lines; expected {n_frames} "
            "(the 'Frames:' count)",
            path=path,
            line=len(lines),
        )
    if len(data_lines) > n_frames:
        _log.warning(
            "%s: %d frame lines after 'Frames: %d'; reading the first %d",
            path,
            len(data_lines),
            n_frames,
            n_frames,
        )
        data_lines = data_lines[:n_frames]
        line_numbers = line_numbers[:n_frames]
    values = _parse_motion_lines(data_lines, line_numbers, skeleton, path)
    return skeleton, frame_time, values


def bvh_forward_kinematics(
    skeleton: BvhSkeleton,
    values: np.ndarray,
    *,
    scale: float = 1.0,
    world_rotation: np.ndarray | None = None,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World positions (T, J, 3), orientations (T, J, 4) ``wxyz`` and rotations (T, J, 3, 3).

    ``R_world_j = R_world_parent · R_local_j`` and ``p_world_j = p_world_parent +
    R_world_parent · t_local_j``, where ``R_local_j = R_a(α) R_b(β) …`` is the product of the
    joint's rotation channels in file order and ``t_local_j`` its OFFSET with position channels
    substituted, times ``scale``. Roots are placed in the world by ``world_rotation`` ``C``
    (default identity): ``p_root = C t_root``, ``R_world_root = C R_local_root``.

    Each factor ``R_a(θ)`` is applied in place instead of building matrices: right-multiplying
    by a rotation about axis ``a`` mixes only the two other columns ``b, d``
    (``col_b ← c·col_b + s·col_d``, ``col_d ← c·col_d − s·col_b``), and the quaternion is
    updated with ``q ⊗ (cos θ/2, sin θ/2 e_a)``. Loops over joints, batched over frames.
    """
    values = np.asarray(values)
    T = values.shape[0]
    J = len(skeleton.names)
    C = np.eye(3) if world_rotation is None else np.asarray(world_rotation, dtype=np.float64)
    q_C = mat_to_quat_np(C)
    # Frames last, so every column/component below is one contiguous run of T numbers.
    channel_rows = np.ascontiguousarray(values.T)
    pos = np.empty((J, 3, T), dtype=dtype)
    rot = np.empty((J, 3, 3, T), dtype=dtype)  # rot[j, row, col, t]
    quat = np.empty((J, 4, T), dtype=dtype)
    for j in range(J):
        chans = skeleton.channels[j]
        start = int(skeleton.channel_start[j])
        offset = skeleton.offsets[j] * scale
        moving = {
            "XYZ".index(n[0]): start + c for c, n in enumerate(chans) if n.endswith("position")
        }
        t_local = [channel_rows[moving[k]] * scale if k in moving else offset[k] for k in range(3)]
        p = int(skeleton.parents[j])
        R = rot[j]
        q = quat[j]
        if p < 0:
            R[:] = C[:, :, None]
            q[:] = q_C[:, None]
            for r in range(3):
                pos[j, r] = C[r, 0] * t_local[0] + C[r, 1] * t_local[1] + C[r, 2] * t_local[2]
        else:
            R[:] = rot[p]
            q[:] = quat[p]
            R_parent = rot[p]
            pos[j] = (
                pos[p]
                + R_parent[:, 0] * t_local[0]
                + R_parent[:, 1] * t_local[1]
                + R_parent[:, 2] * t_local[2]
            )
        for c, name in enumerate(chans):
            if not name.endswith("rotation"):
                continue
            a = "XYZ".index(name[0])
            b, d = (a + 1) % 3, (a + 2) % 3
            theta = np.deg2rad(channel_rows[start + c]).astype(dtype)
            cos, sin = np.cos(theta), np.sin(theta)
            col_b = R[:, b].copy()
            col_d = R[:, d].copy()
            R[:, b] = cos * col_b + sin * col_d
            R[:, d] = cos * col_d - sin * col_b
            half = 0.5 * theta
            ch, sh = np.cos(half), np.sin(half)
            w, qa, qb, qd = q[0].copy(), q[1 + a].copy(), q[1 + b].copy(), q[1 + d].copy()
            q[0] = w * ch - qa * sh
            q[1 + a] = qa * ch + w * sh
            q[1 + b] = qb * ch + qd * sh
            q[1 + d] = qd * ch - qb * sh
    quat *= np.where(quat[:, :1] < 0, -1, 1).astype(dtype)  # w >= 0, as geometry.mat_to_quat
    return pos.transpose(2, 0, 1), quat.transpose(2, 0, 1), rot.transpose(3, 0, 1, 2)


def _rest_positions(skeleton: BvhSkeleton) -> np.ndarray:
    """(J, 3) positions of the skeleton at rest (offsets only), file units."""
    rest = np.zeros((len(skeleton.names), 3))
    for j, p in enumerate(skeleton.parents):
        rest[j] = skeleton.offsets[j] + (rest[p] if p >= 0 else 0.0)
    return rest


def _standing(points: np.ndarray, parents: np.ndarray, axis: str):
    """The rig's topology when ``points`` (J, 3), read with ``axis`` up, show a humanoid
    standing (taller than 0.6 of its width, two legs hanging down from one pelvis, the
    head above it), with the body's height without its arms; else ``None``."""
    from ._topology import TopologyError, _ancestors, infer_rig_keypoints

    p = points @ up_axis_to_z_matrix(axis).T
    try:
        topo = infer_rig_keypoints(parents, p)
    except (TopologyError, ValueError, IndexError):
        return None
    # The body is what hangs from the pelvis (not a root joint left at the world origin).
    pelvis = topo.choice["pelvis"]
    body = [j for j in range(len(parents)) if pelvis in _ancestors(parents, j)]
    extent = p[body].max(axis=0) - p[body].min(axis=0)
    if not extent[2] >= 0.6 * max(extent[0], extent[1]):
        return None
    # Upright, not upside down with the arms hanging to the floor as "legs": a head (or the
    # upper trunk) above the pelvis.
    top = topo.choice.get("head", topo.choice.get("torso"))
    if top is None or not p[top, 2] > p[topo.choice["pelvis"], 2] + 0.1 * extent[2]:
        return None
    # Arms raised overhead (jumping jacks, a cheer) reach higher than the head: the height
    # is the body's without the arms (from each arm's first joint off the trunk down).
    roots = [topo.chains[k][0] for k in ("left_arm", "right_arm") if topo.chains.get(k)]
    trunk = [j for j in body if not any(r in _ancestors(parents, j) for r in roots)]
    return topo, float(np.ptp(p[trunk, 2]))


def _stands_with(points: np.ndarray, parents: np.ndarray, axis: str) -> bool:
    """Whether ``points`` (J, 3), read with ``axis`` up, show a humanoid standing."""
    return _standing(points, parents, axis) is not None


#: How many frames, spread over the clip, are read when the rest pose is no standing body.
_POSE_FRAMES = 16


def _detect_up_axis(
    rest: np.ndarray, parents: np.ndarray, skeleton: BvhSkeleton, values: np.ndarray
) -> tuple[str, float | None]:
    """The file's up axis and, when it was read off the animation, the body's height.

    ``"y"``, unless a humanoid rig (8 joints or more) in its rest pose shows its two legs
    hanging down only with Z (or X) up and the clip's frames do not stand better with
    another axis up. Many exporters (MotionBuilder, Rokoko, Maya joint
    orients) write OFFSETs along each bone's own axis, so the all-zero-channel pose is no
    standing body at all (a line of bones along X): then the clip's own frames decide, the
    axis with the most of :data:`_POSE_FRAMES` spread frames standing wins, and the second
    value is the body's height in those frames (file units: the 90th percentile of the
    extent along that axis of the body without its arms, which raised would add a fifth),
    for the unit detection. ``None`` when the rest pose decided.
    """
    axes = ("y", "z", "x")
    if len(rest) < 8:
        return "y", None
    rest_axis = next((a for a in axes if _stands_with(rest, parents, a)), None)
    if rest_axis == "y":
        return "y", None
    T = values.shape[0]
    frames = np.unique(np.linspace(0, T - 1, min(T, _POSE_FRAMES)).astype(int))
    pos, _, _ = bvh_forward_kinematics(skeleton, values[frames], dtype=np.float64)
    heights: dict[str, dict[int, float]] = {a: {} for a in axes}
    for a in axes:
        for t in range(len(frames)):
            found = _standing(pos[t], parents, a)
            if found is not None:
                heights[a][t] = found[1]
    votes = {a: list(heights[a]) for a in axes}
    best = max(axes, key=lambda a: len(votes[a]))
    if rest_axis is not None and len(votes[rest_axis]) >= len(votes[best]):
        # Z-up (or X-up) exports: the rest pose and the animation agree.
        _log.warning(
            "the rest skeleton stands with %s up; reading the file %s-up", rest_axis, rest_axis
        )
        return rest_axis, None
    if votes[best]:
        height = float(np.percentile(list(heights[best].values()), 90))
        _log.info(
            "the rest pose (all channels zero) is no standing body; %d of %d frames stand "
            "with %s up: reading the file %s-up",
            len(votes[best]),
            len(frames),
            best,
            best,
        )
        return best, height

    def extent_ok(points: np.ndarray, axis: str) -> bool:
        p = points @ up_axis_to_z_matrix(axis).T
        extent = p.max(axis=0) - p.min(axis=0)
        return bool(extent[2] >= 0.6 * max(extent[0], extent[1]))

    return next((a for a in axes if extent_ok(rest, a)), "y"), None


def load_bvh(
    path: str | os.PathLike,
    *,
    units: str | float | None = None,
    up_axis: str | None = None,
    end_sites: bool = True,
) -> HumanMotion:
    """Read a BVH file into a :class:`HumanMotion` (metres, Z up, world orientations).

    Args:
        path: the ``.bvh`` file.
        units: ``"cm"``, ``"m"``, ``"mm"``, ``"in"``, ``"ft"`` or metres per unit; ``None``
            detects them from the rest skeleton's largest extent (see ``detect_units``), or
            from the body's height in the clip's frames when the rest pose is no standing
            body and the up axis is detected. When no standard unit gives a standing human
            1.2-2.2 m tall, the skeleton is scaled to 1.7 m (``units`` ``"scaled"``,
            ``units_scaled_to_height`` true, and a warning saying so).
        up_axis: the file's up axis, ``"y"`` (the BVH norm), ``"z"`` or ``"x"``; ``None``
            (default) takes ``"y"`` unless the rest skeleton of a rig (8 joints or more)
            shows two legs hanging down only with ``"z"`` (or ``"x"``) up: Z-up exports
            load upright without an option. When the rest pose (all channels zero) is no
            standing body (OFFSETs along each bone's own axis), the clip's frames decide.
        end_sites: keep ``End Site`` blocks as joints named ``<parent>_End``.

    Metadata: ``units``, ``meters_per_unit``, ``up_axis``, ``frame_time_s``,
    ``rest_height_units`` (extent used for detection), ``end_sites`` (names),
    ``rest_offsets_m`` ((J, 3) offsets in each parent's joint frame, metres),
    ``bvh_channels`` (per joint), ``units_detected`` (bool), ``units_scaled_to_height``
    (bool: no standard unit fit, the skeleton was scaled to 1.7 m).
    """
    path = Path(path)
    skeleton, frame_time, values = read_bvh(path)
    rest = _rest_positions(skeleton)
    extent = float(np.max(rest.max(axis=0) - rest.min(axis=0))) if len(rest) > 1 else 0.0
    up_detected = up_axis is None
    posed_height = None
    if up_axis is None:
        up_axis, posed_height = _detect_up_axis(rest, skeleton.parents, skeleton, values)
        if posed_height is not None:
            extent = posed_height
    try:
        unit_name, scale = resolve_units(units, extent)
        C = up_axis_to_z_matrix(up_axis)
    except ValueError as exc:
        raise MotionFormatError(str(exc), path=path) from None
    if unit_name == SCALED_UNITS:
        _log.warning("%s: %s", path.name, scaled_units_message(extent))
    pos, quats, _ = bvh_forward_kinematics(skeleton, values, scale=scale, world_rotation=C)
    keep = np.ones(len(skeleton.names), dtype=bool) if end_sites else ~skeleton.is_end_site
    idx = np.flatnonzero(keep)
    remap = -np.ones(len(keep), dtype=np.int64)
    remap[idx] = np.arange(len(idx))
    parents = np.where(skeleton.parents[idx] >= 0, remap[skeleton.parents[idx]], -1)
    if not end_sites:
        pos = pos[:, idx]
        quats = quats[:, idx]
    names = tuple(skeleton.names[i] for i in idx)
    metadata = {
        "units": unit_name,
        "meters_per_unit": scale,
        "units_detected": units is None,
        "units_scaled_to_height": unit_name == SCALED_UNITS,
        "up_axis": str(up_axis).lower(),
        "up_axis_detected": up_detected,
        "frame_time_s": frame_time,
        "rest_height_units": extent,
        "end_sites": tuple(skeleton.names[i] for i in idx if skeleton.is_end_site[i]),
        "rest_offsets_m": (skeleton.offsets[idx] * scale).astype(np.float32),
        "bvh_channels": {skeleton.names[i]: skeleton.channels[i] for i in idx},
    }
    _log.debug("%s: %d frames, %d joints, units %s", path, values.shape[0], len(names), unit_name)
    return HumanMotion(
        fps=snap_fps(1.0 / frame_time),
        joint_names=names,
        parents=parents,
        positions=pos,
        orientations=quats,
        source=path,
        format=MotionFormatKind.BVH,
        metadata=metadata,
    )


def snap_fps(fps: float) -> float:
    """``fps`` rounded to the nearest integer when within 0.5 % of it.

    Frame times are written with a few decimals, some rounded coarsely: ``0.033333`` gives
    ``30.0003`` fps, ``0.008342`` (a 120 fps clip) ``119.875``. A rate within 0.5 % of an
    integer is that integer (NTSC's 29.97 reads as 30: 0.1 % slower or faster motion, far
    below what a retarget notices); the exact frame time stays in
    ``metadata["frame_time_s"]``.
    """
    nearest = round(fps)
    if nearest > 0 and abs(fps - nearest) <= 5e-3 * fps:
        return float(nearest)
    return float(fps)

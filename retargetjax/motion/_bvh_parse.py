"""Reading a BVH file's text: :func:`read_bvh` (the HIERARCHY, the MOTION header and its
channel values, bulk-parsed in a few threads with exact line errors on failure)."""

from __future__ import annotations

import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ._bvh_hierarchy import BvhSkeleton, _HierarchyParser, _tokenize
from ._errors import MotionFormatError

__all__ = ["read_bvh"]

_log = logging.getLogger("retargetjax.motion")


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

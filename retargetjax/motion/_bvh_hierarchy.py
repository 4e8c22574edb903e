"""The HIERARCHY block of a BVH file: :class:`BvhSkeleton` and the parser that builds it.

Joints, their ``OFFSET`` and ``CHANNELS`` in file order (parents first); ``End Site`` blocks
become extra joints named ``<parent>_End``. File units and axes, nothing converted.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._errors import MotionFormatError

__all__ = ["BvhSkeleton"]

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

"""Errors raised by the motion loaders."""

from __future__ import annotations

from pathlib import Path

__all__ = ["KeypointMapError", "MotionFormatError", "cli_option"]


def cli_option(name: str, value: str) -> str:
    """A loader option as the apps' command line spells it: ``+motion.options.fps=30``.

    Error messages that ask for an option (``fps=``, ``up_axis=``, ``body_model=`` …) name
    this spelling too, so a command-line user can copy it.
    """
    return f"+motion.options.{name}={value}"


class MotionFormatError(ValueError):
    """A motion file (or array) that cannot be read, with where and what was expected.

    The message reads ``"<file>:<line>: <what is wrong>; expected <what>"``; the parts are
    also kept as attributes (``path``, ``line``) for programs that report errors themselves.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)


class KeypointMapError(ValueError):
    """A rig whose joints cannot be mapped to the required canonical keypoints."""

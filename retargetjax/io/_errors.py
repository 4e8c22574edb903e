"""The error raised for unreadable or inconsistent motion files."""

from __future__ import annotations

__all__ = ["MotionFileError"]


class MotionFileError(ValueError):
    """A motion file is missing a key, has a malformed row or inconsistent contents.

    The message always starts with the file path (and the line for text formats).
    """

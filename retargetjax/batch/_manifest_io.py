"""Atomic JSON files: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

__all__ = ["write_json_atomic", "write_text_atomic"]


def write_json_atomic(path: str | os.PathLike[str], payload: Any) -> Path:
    """Write ``payload`` as indented UTF-8 JSON to ``path`` atomically (see
    :func:`write_text_atomic`); an unserialisable payload raises before the disk is touched.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    return write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and durably.

    The text goes to a temporary file in the same folder (so the final rename stays on one
    file system), is flushed and ``fsync``-ed, then moved over ``path`` with
    :func:`os.replace`, which is atomic on POSIX and Windows. A process killed at any moment
    therefore leaves either the previous file or the complete new one; at worst a stray
    ``.<name>.<random>.tmp`` file remains beside it. Missing parent folders are created; the
    new file gets the usual permissions (``0o666`` less the umask).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_name = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    # os.open with mode 0o666 honours the umask (tempfile.mkstemp would force 0o600).
    fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (best effort: not every platform can open a folder)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)

"""Atomic file writes: a temporary file in the target's folder, then ``os.replace``."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "check_output_path"]


def _current_umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "wb", **open_kwargs: Any
) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success move it onto ``path``.

    The temporary file lives in the same folder (so ``os.replace`` is an atomic rename on one
    file system) under a hidden name ``.<name>.<random>.tmp``. If the ``with`` body raises,
    the temporary file is deleted and an existing ``path`` is left untouched, so a killed or
    failed write never leaves a half-written output that a rerun would take as done.

    Args:
        path: the final file path; its folder must exist.
        mode: ``"wb"`` (default) or ``"w"`` for text; passed to :func:`open`.
        **open_kwargs: extra arguments for :func:`open` (``newline=""``, ``encoding=...``).

    Yields:
        The open temporary file object.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {target}: folder {folder} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:  # name the output, not the temporary file
        raise type(exc)(
            exc.errno, f"cannot write ({exc.strerror}); expected a writable folder", str(target)
        ) from exc
    try:
        if "b" not in mode:
            open_kwargs.setdefault("encoding", "utf-8")
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600; give it the permissions a plain open() would.
        os.chmod(tmp_name, 0o666 & ~_UMASK)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def check_output_path(
    path: str | os.PathLike[str],
    suffixes: tuple[str, ...] | None = (".npz", ".csv", ".pkl"),
    *,
    create_folder: bool = True,
) -> Path:
    """Check, before any long work, that ``path`` can be written; return it as a ``Path``.

    Creates the folder when ``create_folder`` (an existing output file is fine: it will be
    replaced atomically).

    Raises:
        ValueError: the suffix is not one of ``suffixes`` (``None``: any), or ``path`` is a
            folder.
        PermissionError, OSError: the folder cannot be created or written (the message names
            ``path``).
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise ValueError(f"{target}: is a folder; expected a file name")
    if suffixes is not None and target.suffix.lower() not in suffixes:
        got = f"'{target.suffix}'" if target.suffix else "no suffix"
        raise ValueError(
            f"{target}: unknown output format ({got}); expected one of {', '.join(suffixes)}"
        )
    folder = target.parent
    if create_folder:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise type(exc)(
                exc.errno,
                f"cannot create its folder ({exc.strerror}); expected a writable place",
                str(target),
            ) from exc
    if not folder.is_dir():
        raise FileNotFoundError(2, f"folder {folder} does not exist", str(target))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            13,
            f"cannot write in {folder} (permission denied); expected a writable folder",
            str(target),
        )
    return target

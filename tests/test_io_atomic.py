"""Atomic writes: nothing half-written, no temporary file left behind."""

from __future__ import annotations

import os
import stat

import pytest

from retargetjax.io import atomic_write


def test_atomic_write_moves_the_file_into_place(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_write(target, "w") as handle:
        handle.write("hello")
        assert not target.exists()  # only the temporary file exists while writing
        assert next(p.name for p in tmp_path.iterdir()).startswith(".out.txt.")
    assert target.read_text() == "hello"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as handle:
        handle.write(b"new but incomplete")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_errors(tmp_path):
    missing = tmp_path / "missing" / "out.bin"
    with pytest.raises(FileNotFoundError, match="does not exist"), atomic_write(missing):
        pass
    with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "out.bin", "a"):
        pass

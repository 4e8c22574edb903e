"""Tests of retargetjax.batch._manifest_io (atomic JSON writes)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from retargetjax.batch import write_json_atomic, write_text_atomic


def test_write_creates_parents_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "a" / "b" / "manifest.json"
    assert write_json_atomic(path, {"x": 1, "name": "é"}) == path
    assert json.loads(path.read_text(encoding="utf-8")) == {"x": 1, "name": "é"}
    assert sorted(p.name for p in path.parent.iterdir()) == ["manifest.json"]


def test_write_replaces_existing_file(tmp_path):
    path = tmp_path / "m.json"
    write_json_atomic(path, {"v": 1})
    write_json_atomic(path, {"v": 2})
    assert json.loads(path.read_text()) == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_unserialisable_payload_keeps_old_file(tmp_path):
    path = tmp_path / "m.json"
    write_json_atomic(path, {"v": 1})
    before = path.read_bytes()
    with pytest.raises(TypeError):
        write_json_atomic(path, {"v": object()})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_file_mode_honours_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json_atomic(tmp_path / "m.json", [])
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_write_text_atomic_round_trip(tmp_path):
    path = write_text_atomic(tmp_path / "x" / "notes.txt", "ünïcode\n")
    assert path.read_text(encoding="utf-8") == "ünïcode\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["notes.txt"]

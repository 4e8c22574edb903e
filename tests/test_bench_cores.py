"""The core-scaling benchmark runs its cases in pinned processes and writes what it promises;
timings themselves are never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "benchmarks" / "bench_cores.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=900
    )


def test_bench_cores_writes_every_case(tmp_path) -> None:
    out = tmp_path / "cores.json"
    proc = _run(
        "--quick", "--seconds", "2", "--repeats", "1", "--processes", "1", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["complete"] is True
    names = [c["case"] for c in result["cases"]]
    assert names == ["one process", "one process, one core"]
    for case in result["cases"]:
        assert case["processes"] == 1 and case["frames_per_s_total"] > 0
    assert result["cases"][0]["vs_one_process"] == 1.0
    assert "| one process, one core |" in proc.stdout


def test_bench_cores_names_a_process_count_it_cannot_pin(tmp_path) -> None:
    cores = len(os.sched_getaffinity(0))
    proc = _run("--processes", str(cores + 1), "--out", str(tmp_path / "c.json"))
    assert proc.returncode != 0
    assert f"--processes {cores + 1}" in proc.stderr and "expected 1 to" in proc.stderr
    assert "Traceback" not in proc.stderr

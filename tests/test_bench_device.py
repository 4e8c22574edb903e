"""The one-command device benchmark runs (in ``--quick`` mode on the CPU) and writes the
numbers it promises; timings themselves are never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_bench_device_quick_writes_its_json(tmp_path) -> None:
    out = tmp_path / "device.json"
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)  # one device, as a user without a GPU would have
    script = REPO_ROOT / "benchmarks" / "bench_device.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["complete"] is True  # the last of the writes after every stage
    assert result["device"]["platform"] == "cpu" and result["device"]["count"] == 1
    assert result["one_clip"]["frames"] > 0 and result["one_clip"]["frames_per_s"] > 0
    assert [b["windows"] for b in result["blocks"]] == [2]
    assert result["hours_for_4M_frames"] > 0
    assert result["cost"]["per_frame_total"]["flops"] > 0
    assert result["ceiling_frames_per_s"]["h200_on_paper"] > 0
    assert "frames/s" in proc.stdout and "H200" in proc.stdout

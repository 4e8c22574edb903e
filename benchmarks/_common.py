"""Shared bits of the benchmark scripts: where the sample data is, where results go."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RETARGETJAX_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"


def sample_clips() -> list[Path]:
    """Every real sample motion clip in ``../shared/data/motions``."""
    motions = SHARED_DATA / "motions"
    if not motions.is_dir():
        raise SystemExit(f"sample data not found at {motions}; set RETARGETJAX_SHARED_DATA")
    return sorted(
        list((motions / "bvh").glob("*.bvh")) + list((motions / "keypoints").glob("*.npz"))
    )


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table of ``rows`` (floats printed with 4 significant digits)."""

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)

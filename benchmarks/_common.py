"""Shared bits of the benchmark scripts: where the sample data is, where results go."""

from __future__ import annotations

import json
import os
import sys
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


def solver_config(items: list[str], base: dict | None = None):
    """A :class:`~retargetjax.retarget.RetargetConfig` whose solver takes ``base`` and then
    every ``KEY=VALUE`` of ``items`` (values parsed as YAML: ``0.05``, ``true``); a wrong
    item or field exits with one line naming it (``--solver`` of the benchmark scripts)."""
    import yaml

    from retargetjax.retarget import RetargetConfig

    solver = dict(base or {})
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"error: --solver {item}: no '='; expected KEY=VALUE")
        try:
            solver[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            sys.exit(f"error: --solver {item}: the value is not YAML; expected KEY=VALUE")
    try:
        return RetargetConfig.model_validate({"solver": solver})
    except ValueError as err:  # pydantic's ValidationError: one line per wrong field
        first = err.errors()[0] if hasattr(err, "errors") else {"loc": (), "msg": str(err)}
        field = ".".join(str(p) for p in first["loc"])
        sys.exit(f"error: --solver {field}: {first['msg']}; expected a SolverConfig field")

"""``retargetjax-sweep``: gather a Hydra sweep's runs into one table.

retargetjax-sweep multirun/retargetjax-batch/2026-01-01_12-00-00 [-o table.csv]

Each run folder of a sweep (``<sweep dir>/<job number>/``) holds ``.hydra/overrides.yaml``
(what the run changed) and, written by the apps, ``summary.json`` (both apps) or
``*.metrics.json`` files. The printed table has one row per run: its number, the overrides
that differ between runs, and the headline results (loss, keypoint error, skating, counts,
time); the overrides every run shares are listed above it. ``-o table.csv`` writes every
override and every numeric result.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["HEADLINE_COLUMNS", "format_table", "gather_sweep", "main"]

#: Results shown in the printed table, when a run has them (the CSV has every column).
HEADLINE_COLUMNS = (
    "success",
    "failed",
    "final_loss",
    "final_loss_mean",
    "keypoint_error_mean_m",
    "keypoint_error_mean_m_mean",
    "foot_skate_mean_mm_per_frame",
    "foot_skate_mean_mm_per_frame_mean",
    "joint_limit_violations",
    "joint_limit_violations_mean",
    "seconds",
    "wall_s",
)


def _overrides(run_dir: Path) -> dict[str, str]:
    import yaml

    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    out = {}
    for item in yaml.safe_load(path.read_text()) or []:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = value
    return out


def _results(run_dir: Path) -> dict[str, Any]:
    summary = run_dir / "summary.json"
    if summary.is_file():
        data = json.loads(summary.read_text())
        return {k: v for k, v in data.items() if isinstance(v, (int, float)) or v is None}
    rows = [json.loads(p.read_text()) for p in sorted(run_dir.rglob("*.metrics.json"))]
    if not rows:
        return {}
    keys = sorted({k for row in rows for k, v in row.items() if isinstance(v, (int, float))})
    return {
        f"{k}_mean": sum(r[k] for r in rows if k in r) / sum(k in r for r in rows) for k in keys
    }


def gather_sweep(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """One row per run folder of ``sweep_dir`` (those with ``.hydra/``), sorted by number.

    Raises:
        FileNotFoundError: ``sweep_dir`` holds no run folder.
    """
    sweep_dir = Path(sweep_dir)
    runs = [p.parent.parent for p in sweep_dir.glob("**/.hydra/overrides.yaml")]
    if not runs:
        raise FileNotFoundError(
            f"{sweep_dir}: no run folders (expected <run>/.hydra/overrides.yaml from a Hydra "
            "multirun)"
        )

    def order(path: Path) -> tuple[int, str]:
        rel = path.relative_to(sweep_dir).as_posix()
        return (int(rel), rel) if rel.isdigit() else (1 << 30, rel)

    rows = []
    for run in sorted(runs, key=order):
        rows.append(
            {"run": run.relative_to(sweep_dir).as_posix(), **_overrides(run), **_results(run)}
        )
    return rows


def _shared_overrides(rows: Sequence[dict[str, Any]], override_keys: list[str]) -> dict[str, str]:
    """Overrides with one value in every run (shown once, above the table)."""
    if len(rows) < 2:
        return {}
    return {
        k: rows[0].get(k)
        for k in override_keys
        if all(k in r and r.get(k) == rows[0].get(k) for r in rows)
    }


def format_table(
    rows: Sequence[dict[str, Any]], fmt: str = "md", override_keys: Sequence[str] = ()
) -> str:
    """Rows as a Markdown table (``md``: run, the overrides that differ, headline results)
    or CSV (``csv``: every column); missing cells are empty."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    header = ""
    if fmt == "md" and override_keys:
        shared = _shared_overrides(rows, list(override_keys))
        varying = [k for k in override_keys if k not in shared]
        headline = [c for c in HEADLINE_COLUMNS if c in columns]
        columns = ["run", *varying, *headline]
        if shared:
            header = "same in every run: " + " ".join(f"{k}={v}" for k, v in shared.items())
            header += "\n\n"

    def cell(value: Any) -> str:
        if value is None:
            return ""
        return f"{value:.6g}" if isinstance(value, float) else str(value)

    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row.get(c)) for c in columns])
        return buffer.getvalue()
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return header + "\n".join(lines) + "\n"


def override_keys(sweep_dir: str | Path) -> list[str]:
    """The keys any run of ``sweep_dir`` overrides, in first-seen order."""
    keys: list[str] = []
    for run in sorted(Path(sweep_dir).glob("**/.hydra/overrides.yaml")):
        keys += [k for k in _overrides(run.parent.parent) if k not in keys]
    return keys


def main(argv: Sequence[str] | None = None) -> int:
    """Print the sweep's table; ``-o FILE`` also writes it (``.csv`` or ``.md``)."""
    from ..batch import write_text_atomic
    from ._cli import ArgumentParser

    parser = ArgumentParser(prog="retargetjax-sweep", description=__doc__.split("\n")[0])
    parser.add_argument("sweep_dir", type=Path, help="the multirun folder of one sweep")
    parser.add_argument("-o", "--output", type=Path, help="write the table (.csv or .md)")
    args = parser.parse_args(argv)
    try:
        rows = gather_sweep(args.sweep_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_table(rows, "md", override_keys(args.sweep_dir)), end="")
    if args.output is None:
        print("(every override and result: -o table.csv)")
    if args.output is not None:
        fmt = "csv" if args.output.suffix == ".csv" else "md"
        write_text_atomic(args.output, format_table(rows, fmt))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Compare two evaluation folders of the same clips: per-metric deltas and which is better."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._descriptions import HEADLINE_METRICS
from ._metrics import metric_direction
from ._report import ID_COLUMNS, _markdown_table, _write_text

__all__ = ["Comparison", "compare_reports", "load_report", "which_is_better"]


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``metrics.json`` of an evaluation folder (or the file itself)."""
    p = Path(path)
    file = p if p.suffix.lower() == ".json" else p / "metrics.json"
    try:
        payload = json.loads(file.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{file}: cannot read an evaluation report: {err}") from err
    if not isinstance(payload, dict) or not isinstance(payload.get("clips"), list):
        raise ValueError(f"{file}: expected an object with a 'clips' list (metrics.json)")
    return payload


def which_is_better(name: str, a: float, b: float) -> str:
    """``"a"``, ``"b"`` or ``"tie"`` for metric ``name`` (:func:`metric_direction`).

    A tie is ``|b − a| ≤ 1e-9 + 1e-6 · max(|a|, |b|)``, or any metric without a direction.
    """
    direction = metric_direction(name)
    if direction == 0 or abs(b - a) <= 1e-9 + 1e-6 * max(abs(a), abs(b)):
        return "tie"
    return "b" if (b - a) * direction > 0 else "a"


def _keys(rows: Sequence[dict]) -> list[str]:
    return [Path(str(r.get("source"))).stem if r.get("source") else str(r["clip"]) for r in rows]


@dataclasses.dataclass
class Comparison:
    """Per-metric summary and per-clip deltas of report ``b`` against report ``a``."""

    #: One entry per metric: a_mean, b_mean, delta (b − a), rel_delta, better, a_wins, b_wins.
    metrics: list[dict[str, Any]]
    #: One entry per (clip, metric): a, b, delta, better.
    clips: list[dict[str, Any]]
    #: Clip keys present in only one of the reports.
    only_a: list[str]
    only_b: list[str]
    files: dict[str, str] = dataclasses.field(default_factory=dict)

    def markdown(self, a_name: str = "a", b_name: str = "b") -> str:
        """A Markdown summary: headline metrics first, then every other metric."""
        order = {m: i for i, m in enumerate(HEADLINE_METRICS)}
        rows = sorted(self.metrics, key=lambda r: (order.get(r["metric"], len(order)), r["metric"]))
        table = [
            [
                r["metric"],
                {1: "higher", -1: "lower", 0: "-"}[r["direction"]],
                r["a_mean"],
                r["b_mean"],
                r["delta"],
                f"{r['rel_delta'] * 100:+.1f}%" if r["rel_delta"] is not None else "",
                {"a": a_name, "b": b_name, "tie": "tie"}[r["better"]],
                f"{r['a_wins']}/{r['b_wins']}",
            ]
            for r in rows
        ]
        common = len({c["clip"] for c in self.clips})
        score_a = sum(r["better"] == "a" for r in rows if r["metric"] in order)
        score_b = sum(r["better"] == "b" for r in rows if r["metric"] in order)
        lines = [
            f"# {a_name} vs {b_name}",
            "",
            f"{common} clips in common; delta = {b_name} − {a_name} of the means over them. "
            f"Headline metrics better: {a_name} {score_a}, {b_name} {score_b}.",
            "",
            _markdown_table(
                [
                    "metric",
                    "better",
                    f"{a_name} mean",
                    f"{b_name} mean",
                    "delta",
                    "rel",
                    "better one",
                    f"clips won {a_name}/{b_name}",
                ],
                table,
            ),
            "",
        ]
        if self.only_a or self.only_b:
            lines += [
                f"Only in {a_name}: {', '.join(self.only_a) or '-'}; "
                f"only in {b_name}: {', '.join(self.only_b) or '-'}.",
                "",
            ]
        return "\n".join(lines)


def compare_reports(
    a: str | os.PathLike[str] | dict,
    b: str | os.PathLike[str] | dict,
    output_dir: str | os.PathLike[str] | None = None,
    *,
    a_name: str = "a",
    b_name: str = "b",
) -> Comparison:
    """Compare evaluation ``b`` against ``a`` on the clips both graded successfully.

    Clips are matched by their human source (file stem) when every clip of both reports
    names a distinct one — so outputs of different tools for the same human clip pair up
    whatever their file names — else by clip name. For each metric present in both, over
    the matched clips: the means, ``delta = mean_b − mean_a``, ``rel_delta = delta / |mean_a|``
    (``None`` when ``mean_a = 0``), the better report by :func:`which_is_better`, and how
    many clips each wins. With ``output_dir``, writes ``comparison.md``, ``comparison.csv``
    (per clip and metric) and ``comparison.json``.
    """
    ra = a if isinstance(a, dict) else load_report(a)
    rb = b if isinstance(b, dict) else load_report(b)
    rows_a = [r for r in ra["clips"] if r.get("status") == "ok"]
    rows_b = [r for r in rb["clips"] if r.get("status") == "ok"]
    keys_a, keys_b = _keys(rows_a), _keys(rows_b)
    by_source = (
        len(set(keys_a)) == len(keys_a)
        and len(set(keys_b)) == len(keys_b)
        and bool(set(keys_a) & set(keys_b))
    )
    if not by_source:
        keys_a = [str(r["clip"]) for r in rows_a]
        keys_b = [str(r["clip"]) for r in rows_b]
    map_a = dict(zip(keys_a, rows_a))
    map_b = dict(zip(keys_b, rows_b))
    common = [k for k in keys_a if k in map_b]
    metric_names = []
    for k in common:
        for name, value in map_a[k].items():
            if (
                name not in ID_COLUMNS
                and name not in metric_names
                and isinstance(value, (int, float))
                and isinstance(map_b[k].get(name), (int, float))
            ):
                metric_names.append(name)
    per_clip, per_metric = [], []
    for name in metric_names:
        pairs = [
            (k, float(map_a[k][name]), float(map_b[k][name]))
            for k in common
            if isinstance(map_a[k].get(name), (int, float))
            and isinstance(map_b[k].get(name), (int, float))
        ]
        wins = {"a": 0, "b": 0, "tie": 0}
        for k, va, vb in pairs:
            better = which_is_better(name, va, vb)
            wins[better] += 1
            per_clip.append(
                {"clip": k, "metric": name, "a": va, "b": vb, "delta": vb - va, "better": better}
            )
        mean_a = float(np.mean([p[1] for p in pairs]))
        mean_b = float(np.mean([p[2] for p in pairs]))
        per_metric.append(
            {
                "metric": name,
                "direction": metric_direction(name),
                "clips": len(pairs),
                "a_mean": mean_a,
                "b_mean": mean_b,
                "delta": mean_b - mean_a,
                "rel_delta": (mean_b - mean_a) / abs(mean_a) if mean_a != 0 else None,
                "better": which_is_better(name, mean_a, mean_b),
                "a_wins": wins["a"],
                "b_wins": wins["b"],
            }
        )
    result = Comparison(
        metrics=per_metric,
        clips=per_clip,
        only_a=[k for k in keys_a if k not in map_b],
        only_b=[k for k in keys_b if k not in map_a],
    )
    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        fields = ["clip", "metric", "a", "b", "delta", "better"]
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(per_clip)
        _write_text(out / "comparison.csv", buffer.getvalue())
        payload = {
            "a": a_name,
            "b": b_name,
            "metrics": per_metric,
            "only_a": result.only_a,
            "only_b": result.only_b,
        }
        _write_text(out / "comparison.json", json.dumps(payload, indent=2))
        _write_text(out / "comparison.md", result.markdown(a_name, b_name))
        result.files = {
            k: str(out / k) for k in ("comparison.md", "comparison.csv", "comparison.json")
        }
    return result

"""Which robot clips to evaluate: a clip file, a folder of them (searched recursively for
``.npz``, ``.csv``, ``.pkl``), or a batch manifest (``records[].output`` and
``records[].motion``; a folder holding a ``manifest.json`` is read through it)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["ClipSpec", "collect_clips"]

#: File names in a result folder that are reports, never robot clips.
_REPORT_FILES = {"metrics.csv", "comparison.csv", "metrics.json", "summary.md", "manifest.json"}
_SUFFIXES = {".npz", ".csv", ".pkl", ".pickle"}


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    """One robot clip to grade: its file, its human source (if known) and its row name."""

    output: Path
    motion: Path | None = None
    clip: str = ""


def _resolve(path: Any, base: Path) -> Path:
    p = Path(str(path)).expanduser()
    if not p.is_absolute() and not p.exists() and (base / p).exists():
        return base / p
    return p


def _clips_from_manifest(manifest: Path) -> list[ClipSpec]:
    try:
        payload = json.loads(manifest.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{manifest}: cannot read the batch manifest: {err}") from err
    records = payload.get("records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise ValueError(f"{manifest}: expected a JSON object with a 'records' list")
    specs = []
    for i, record in enumerate(records):
        if not isinstance(record, dict) or "output" not in record:
            raise ValueError(f"{manifest}: records[{i}] has no 'output' field")
        if str(record.get("status", "success")) == "failed":
            continue
        output = _resolve(record["output"], manifest.parent)
        motion = record.get("motion")
        specs.append(
            ClipSpec(
                output=output,
                motion=_resolve(motion, manifest.parent) if motion else None,
                clip=str(record.get("job_id") or output.stem),
            )
        )
    return specs


def collect_clips(input: str | os.PathLike[str], motion: str | None = None) -> list[ClipSpec]:
    """The clips under ``input``: a clip file, a folder of them, or a batch manifest (.json).

    ``motion`` (a human motion file) is used as the source of every clip that has none.
    """
    path = Path(input)
    human = Path(motion) if motion else None
    if path.is_dir():
        if (path / "manifest.json").is_file():
            specs = _clips_from_manifest(path / "manifest.json")
        else:
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in _SUFFIXES
                and p.name not in _REPORT_FILES
                and not p.name.startswith(".")
            )
            specs = [
                ClipSpec(output=p, clip=str(p.relative_to(path).with_suffix(""))) for p in files
            ]
    elif path.suffix.lower() == ".json":
        specs = _clips_from_manifest(path)
    elif path.is_file():
        specs = [ClipSpec(output=path, clip=path.stem)]
    else:
        raise FileNotFoundError(f"{path}: no such clip file, folder or manifest")
    seen: dict[str, int] = {}
    for spec in specs:
        seen[spec.clip] = seen.get(spec.clip, 0) + 1
    specs = [
        dataclasses.replace(s, clip=f"{s.clip}{s.output.suffix}") if seen[s.clip] > 1 else s
        for s in specs
    ]
    if human is not None:
        specs = [s if s.motion else dataclasses.replace(s, motion=human) for s in specs]
    return specs

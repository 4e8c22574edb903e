"""Shards: one large batch split over machines (``shard=i/n``), and their manifests merged.

Shard ``i`` of ``n`` takes every ``n``-th job starting at ``i`` from the (sorted, stable) job
list, so shards are disjoint, cover every job, and stay balanced when clip lengths drift
through the dataset. Each shard writes its own manifest (``manifest.shard-I-of-N.json``
beside the outputs); :func:`merge_manifests` joins them into one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from ._models import BatchJob, BatchManifest, BatchRunRecord, ManifestError

__all__ = ["merge_manifests", "parse_shard", "select_shard", "shard_manifest_name"]

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(shard: str | tuple[int, int]) -> tuple[int, int]:
    """``"i/n"`` (or ``(i, n)``) → ``(i, n)`` with ``0 <= i < n``.

    Raises:
        ValueError: anything else, naming what was expected.
    """
    if isinstance(shard, str):
        match = _SHARD.match(shard)
        if match is None:
            raise ValueError(f"shard {shard!r}: expected 'I/N' with 0 <= I < N, e.g. '0/4'")
        index, count = int(match.group(1)), int(match.group(2))
    else:
        index, count = (int(v) for v in shard)
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard {index}/{count}: expected 0 <= I < N and N >= 1")
    return index, count


def select_shard(jobs: Sequence[BatchJob], shard: str | tuple[int, int]) -> list[BatchJob]:
    """Every ``n``-th job of ``jobs`` starting at ``i`` (``shard="i/n"``), tagged in provenance."""
    index, count = parse_shard(shard)
    return [
        job.model_copy(update={"provenance": {**job.provenance, "shard": f"{index}/{count}"}})
        for job in list(jobs)[index::count]
    ]


def shard_manifest_name(shard: str | tuple[int, int]) -> str:
    """The default manifest file name of a shard: ``manifest.shard-I-of-N.json``."""
    index, count = parse_shard(shard)
    return f"manifest.shard-{index}-of-{count}.json"


def merge_manifests(
    paths: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str] | None = None
) -> BatchManifest:
    """Join shard manifests into one (and write it atomically to ``output`` when given).

    Records are concatenated and sorted by job id; a job in several manifests (a shard
    rerun with another ``n``, or overlapping shards) keeps its best record: ``success`` over
    ``skipped`` over ``failed``, then the latest ``finished_at``. ``total`` is the sum of the
    shards' totals less repeated jobs; ``created_at`` the earliest; ``input_dir``,
    ``output_dir`` and ``pattern`` those of the first manifest that has them.

    Raises:
        ValueError: no paths.
        ManifestError: a manifest cannot be read (names the file).
    """
    if not paths:
        raise ValueError("merge_manifests needs at least one manifest path")
    manifests = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise ManifestError(f"batch manifest {path} does not exist; expected a shard manifest")
        manifests.append(BatchManifest.load(path))
    rank = {"success": 2, "skipped": 1, "failed": 0}
    best: dict[str, BatchRunRecord] = {}
    repeated = 0
    for manifest in manifests:
        for record in manifest.records:
            old = best.get(record.job_id)
            if old is not None:
                repeated += 1
            new_key = (rank[record.status.value], record.finished_at)
            if old is None or new_key > (rank[old.status.value], old.finished_at):
                best[record.job_id] = record
    first = next((m for m in manifests if m.input_dir is not None), manifests[0])
    merged = BatchManifest.from_records(
        records=[best[k] for k in sorted(best)],
        total=max(0, sum(m.total for m in manifests) - repeated),
        created_at=min(m.created_at for m in manifests),
        input_dir=first.input_dir,
        output_dir=first.output_dir,
        pattern=first.pattern,
    )
    if output is not None:
        merged.save_json(output)
    return merged

"""JAX's persistent compilation cache, so a compiled solver outlives its process.

A dataset compiles its solver once per robot and device (about 30 s on a 2-core CPU). With
the cache on, later processes with the same shapes and settings load the compiled program
from disk instead: a resumed batch, every run of a sweep, every shard of a SLURM job, every
``retargetjax-retarget`` call on a clip of a known length bucket. On GPUs JAX leaves the
device out of the cache key, so a multi-GPU batch also compiles once instead of per device.

The apps turn it on with ``compile_cache=DIR`` (``configs/batch.yaml``,
``configs/retarget.yaml``); code calls :func:`enable_compile_cache` before its first solve.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MAX_MAPPINGS", "enable_compile_cache", "release_compiled_programs"]

MIN_COMPILE_SECONDS = 1.0
"""Programs that compile faster than this are not worth a disk entry."""

MAX_MAPPINGS = 40_000
"""Memory mappings past which :func:`release_compiled_programs` drops the compiled programs.
Every compiled CPU program keeps its own mappings, and Linux caps a process at
``vm.max_map_count`` (65,530 by default): past it XLA fails in the middle of a compile
("LLVM compilation error: Cannot allocate memory"), late in a long test session or benchmark."""


def _mappings() -> int:
    try:
        with open("/proc/self/maps", "rb") as maps:
            return sum(1 for _ in maps)
    except OSError:  # not Linux
        return 0


def release_compiled_programs(max_mappings: int = MAX_MAPPINGS) -> bool:
    """Drop JAX's in-memory compiled programs when this process holds more than
    ``max_mappings`` memory mappings (later calls recompile, or load from the persistent
    cache, what they need); returns whether it did. For long processes that compile many
    shapes: test sessions, benchmarks over many robots and clips, sweeps in one process."""
    if _mappings() <= max_mappings:
        return False
    import gc

    import jax

    jax.clear_caches()
    gc.collect()
    return True


def enable_compile_cache(directory: str | os.PathLike[str] | None) -> Path | None:
    """Turn on the persistent compilation cache in ``directory`` (created if missing).

    Also exported as ``JAX_COMPILATION_CACHE_DIR``, so worker processes spawned afterwards
    (``mode=pool``) share it. JAX reads the setting when it first compiles, so call this
    before any jitted code runs. ``None`` or ``""`` leaves the cache as it is and returns
    ``None``.

    Raises:
        ValueError: ``directory`` exists and is not a directory, or cannot be created.
    """
    if directory is None or str(directory) == "":
        return None
    path = Path(directory).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"compile_cache={directory}: cannot use it as a cache directory ({exc})"
        ) from exc
    import jax

    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(path)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
    return path

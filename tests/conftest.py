"""Shared test fixtures.

Several CPU devices are faked (the Makefile exports the same flag) so that device grouping
can be tested without a GPU; XLA reads the flag when jax is first imported.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

#: One persistent compilation cache per test run (JAX reads the variable when imported),
#: shared by the pytest-xdist workers (started after this runs, they inherit it) and by the
#: processes that the app, sweep and batch tests spawn: the tiny solver that a dozen files
#: and subprocesses compile alike is compiled once and loaded from disk after that (most of
#: the suite's time is XLA compiling). A variable set by the caller is kept (and not
#: removed); the run's own folder is removed at the end.
_OWN_JAX_CACHE: str | None = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _OWN_JAX_CACHE = tempfile.mkdtemp(prefix="retargetjax-tests-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _OWN_JAX_CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller (not an xdist worker) removes the run's compilation cache."""
    if _OWN_JAX_CACHE is not None and not hasattr(config, "workerinput"):
        shutil.rmtree(_OWN_JAX_CACHE, ignore_errors=True)


REPO_ROOT = Path(__file__).resolve().parents[1]
#: The real sample data lives beside the project, at ``../shared/data``.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; skips the test (with the reason) when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data folder {SHARED_DATA} is absent (see the README)")
    return SHARED_DATA


@pytest.fixture
def x64():
    """float64 inside the test (gradient and Jacobian checks); the previous setting is
    restored afterwards, whatever it was."""
    import jax

    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


@pytest.fixture(autouse=True, scope="module")
def _bounded_compiled_programs():
    """After each module, drop the compiled programs if the process's memory mappings near
    the kernel's cap (:func:`~retargetjax.compile_cache.release_compiled_programs`; later
    modules recompile what they need)."""
    yield
    from retargetjax.compile_cache import release_compiled_programs

    release_compiled_programs()

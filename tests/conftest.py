"""Shared test fixtures.

Several CPU devices are faked (the Makefile exports the same flag) so that device grouping
can be tested without a GPU; XLA reads the flag when jax is first imported.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

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

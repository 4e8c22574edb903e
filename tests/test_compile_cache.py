"""Persistent compilation cache: a second process loads the compiled solver from disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retargetjax import enable_compile_cache

# Runs the retarget app in a fresh process with the cache on and counts JAX's cache hits.
SCRIPT = """
import json, sys
import jax
from hydra import compose, initialize_config_dir
from retargetjax.apps.retarget import run_retarget
from retargetjax.apps import configs_dir

hits = []
jax.monitoring.register_event_listener(
    lambda event, **kw: hits.append(event) if event == "/jax/compilation_cache/cache_hits" else None
)
clip, out, cache = sys.argv[1:4]
with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
    cfg = compose(config_name="retarget", overrides=[
        f"motion.path={clip}", f"output={out}", f"compile_cache={cache}", "metrics=false",
        "solver.window=16", "solver.overlap=4", "solver.init_iterations=1",
        "solver.iterations=1", "solver.cg_iterations=2",
    ])
run_retarget(cfg)
print(json.dumps({"hits": len(hits), "env": __import__("os").environ["JAX_COMPILATION_CACHE_DIR"]}))
"""


def _run(clip: Path, out: Path, cache: Path) -> dict:
    # as a user's process: without the test run's own cache (tests/conftest.py)
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(clip), str(out), str(cache)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_second_process_loads_the_solver_from_the_cache(tmp_path):
    from retargetjax.motion import load_motion, sample_motion_path, write_bvh

    clip = write_bvh(load_motion(sample_motion_path()).trim(0, 20), tmp_path / "clip.bvh")
    cache = tmp_path / "jax-cache"
    first = _run(clip, tmp_path / "a.npz", cache)
    assert any(cache.iterdir()), "the first run wrote nothing to the cache"
    assert first["env"] == str(cache.resolve())  # spawned workers inherit it
    second = _run(clip, tmp_path / "b.npz", cache)
    assert first["hits"] == 0 and second["hits"] > 0  # the solver (at least) came from disk


def test_off_by_default_and_a_bad_directory_is_a_clear_error(tmp_path):
    assert enable_compile_cache(None) is None
    assert enable_compile_cache("") is None
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match=r"compile_cache=.*file"):
        enable_compile_cache(blocker / "cache")


def test_release_compiled_programs_only_past_the_cap():
    import jax
    import jax.numpy as jnp

    from retargetjax.compile_cache import release_compiled_programs

    f = jax.jit(lambda x: x * 2.0)
    assert float(f(jnp.float32(1.0))) == 2.0
    assert not release_compiled_programs(max_mappings=10**9)
    assert release_compiled_programs(max_mappings=0)
    assert float(f(jnp.float32(3.0))) == 6.0  # recompiles after the drop

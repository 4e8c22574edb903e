"""JSON-safe metadata: numpy values, paths, enums, models; clear errors otherwise."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pydantic
import pytest

from retargetjax.io import metadata_to_json, to_json_safe
from retargetjax.types import RobotKind


class _Config(pydantic.BaseModel):
    lr: float = 0.1
    out: Path = Path("/tmp/x")


@dataclasses.dataclass
class _Timing:
    solve_s: np.float32


def test_common_values_become_plain_json():
    metadata = {
        "robot": RobotKind.UNITREE_G1,
        "source_file": Path("/data/walk.bvh"),
        "iterations": np.int64(300),
        "final_loss": np.float32(0.25),
        "converged": np.bool_(True),
        "scale": np.array([1.0, 0.5]),
        "names": ("a", "b"),
        "tags": {"b", "a"},
        "config": _Config(),
        "timings": _Timing(solve_s=np.float32(1.5)),
        "bad_loss": float("nan"),
        "nested": {1: [np.float64(2.0), None]},
    }
    safe = to_json_safe(metadata)
    assert json.loads(json.dumps(safe)) == safe
    assert safe["robot"] == "unitree_g1" and safe["source_file"] == "/data/walk.bvh"
    assert safe["iterations"] == 300 and type(safe["iterations"]) is int
    assert safe["final_loss"] == 0.25 and safe["converged"] is True
    assert safe["scale"] == [1.0, 0.5] and safe["names"] == ["a", "b"]
    assert safe["tags"] == ["a", "b"]
    assert safe["config"] == {"lr": 0.1, "out": "/tmp/x"}
    assert safe["timings"] == {"solve_s": 1.5}
    assert safe["bad_loss"] is None  # JSON has no NaN
    assert safe["nested"] == {"1": [2.0, None]}
    assert json.loads(metadata_to_json(metadata))["iterations"] == 300


def test_unserialisable_value_names_its_path():
    with pytest.raises(TypeError, match=r"metadata\.solver\.callback: cannot store a function"):
        metadata_to_json({"solver": {"callback": lambda x: x}})
    with pytest.raises(TypeError, match=r"metadata\.items\[1\]: cannot store a object"):
        to_json_safe({"items": [1, object()]})

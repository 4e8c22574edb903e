"""Unit detection and up-axis conversion."""

from __future__ import annotations

import numpy as np
import pytest

from retargetjax.motion import detect_units, up_axis_to_z_matrix
from retargetjax.motion._units import resolve_units


@pytest.mark.parametrize(
    ("height", "units"),
    [(1.75, "m"), (57.0, "in"), (70.0, "in"), (167.0, "cm"), (120.0, "cm"), (1750.0, "mm")],
)
def test_detect_units(height, units):
    assert detect_units(height) == units


def test_resolve_overrides():
    assert resolve_units("centimetres", 1.7) == ("cm", 0.01)
    assert resolve_units(0.5, 1.7) == ("0.5 m", 0.5)
    assert resolve_units(None, 57.0) == ("in", 0.0254)
    with pytest.raises(ValueError, match="unknown units"):
        resolve_units("cubits", 1.0)


def test_up_axis_matrices_are_rotations():
    for axis, up in (("y", [0, 1, 0]), ("z", [0, 0, 1]), ("x", [1, 0, 0])):
        C = up_axis_to_z_matrix(axis)
        np.testing.assert_allclose(C @ C.T, np.eye(3))
        assert np.linalg.det(C) == pytest.approx(1.0)
        np.testing.assert_allclose(C @ up, [0, 0, 1])
    with pytest.raises(ValueError, match="unknown up axis"):
        up_axis_to_z_matrix("w")


@pytest.mark.parametrize("height", [25.8, 0.45, 4535.0, 19393.0])
def test_resolve_scales_when_no_standard_unit_gives_a_human(height):
    name, scale = resolve_units(None, height)
    assert name == "scaled"
    assert height * scale == pytest.approx(1.7)
    # An explicit unit is taken as given.
    assert resolve_units("in", height) == ("in", 0.0254)

"""Length units and up-axis conversion shared by the loaders and the BVH writer."""

from __future__ import annotations

import numpy as np

from ._errors import cli_option

__all__ = [
    "METERS_PER_UNIT",
    "PLAUSIBLE_HEIGHT_M",
    "SCALED_UNITS",
    "detect_units",
    "resolve_units",
    "up_axis_to_z_matrix",
]

#: Metres per file unit for the unit names the loaders accept.
METERS_PER_UNIT: dict[str, float] = {
    "m": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "in": 0.0254,
    "inch": 0.0254,
    "ft": 0.3048,
    "dm": 0.1,
}

#: The units :func:`detect_units` chooses between.
_DETECTABLE = ("m", "in", "cm", "mm")
#: A typical adult height (m) the detection compares against, and the height a skeleton no
#: standard unit makes human-sized is scaled to.
_TYPICAL_HEIGHT_M = 1.7
#: Standing heights (m) a detected standard unit must give; outside them the skeleton is
#: scaled to :data:`_TYPICAL_HEIGHT_M` instead (unit name :data:`SCALED_UNITS`).
PLAUSIBLE_HEIGHT_M = (1.2, 2.2)
#: The unit name :func:`resolve_units` returns when it scaled the skeleton to 1.7 m.
SCALED_UNITS = "scaled"


def detect_units(height_units: float) -> str:
    """Unit name whose scale makes a skeleton ``height_units`` tall closest to 1.7 m.

    The choice minimises ``|log(height_units · s_u / 1.7 m)|`` over ``u ∈ {m, in, cm, mm}``.
    The boundaries fall at 1.7 m / √(s_a s_b): a skeleton under ~10.7 units is in metres, under
    ~107 units in inches, under ~1070 units in centimetres, otherwise millimetres. A
    child-sized skeleton in centimetres (below 107 units) is therefore taken as inches: pass
    ``units=`` to override. :func:`resolve_units` goes further: when even the nearest unit
    gives no height in :data:`PLAUSIBLE_HEIGHT_M`, it scales the skeleton to 1.7 m.
    """
    height_units = float(height_units)
    if not height_units > 0:
        return "m"
    scores = {
        u: abs(np.log(height_units * METERS_PER_UNIT[u] / _TYPICAL_HEIGHT_M)) for u in _DETECTABLE
    }
    return min(scores, key=scores.get)


def resolve_units(
    units: str | float | None, height_units: float, rescale: bool = True
) -> tuple[str, float]:
    """``(unit name, metres per unit)`` from an override (name or metres per unit) or detection.

    Detection takes the standard unit (m, in, cm, mm) that makes a skeleton ``height_units``
    tall a standing human (:data:`PLAUSIBLE_HEIGHT_M`, 1.2–2.2 m). When none does (CMU
    cgspeed conversions, ~0.056 m per unit, read 0.7 m tall as inches; a ×100-scaled rig, 14 m
    tall as millimetres), it returns :data:`SCALED_UNITS` and the scale making the skeleton
    1.7 m tall (see :func:`scaled_units_message`) if ``rescale``, else the nearest standard
    unit; ``units=`` overrides both.
    """
    if units is None:
        name = detect_units(height_units)
        scale = METERS_PER_UNIT[name]
        height_units = float(height_units)
        lo, hi = PLAUSIBLE_HEIGHT_M
        implausible = not lo <= height_units * scale <= hi
        if rescale and height_units > 0 and np.isfinite(height_units) and implausible:
            return SCALED_UNITS, _TYPICAL_HEIGHT_M / height_units
        return name, scale
    if isinstance(units, (int, float)) and not isinstance(units, bool):
        if not units > 0:
            raise ValueError(f"units scale must be positive metres per unit, got {units}")
        return f"{float(units):g} m", float(units)
    key = str(units).strip().lower()
    if key in ("meter", "meters", "metre", "metres"):
        key = "m"
    if key in ("centimeter", "centimeters", "centimetre", "centimetres"):
        key = "cm"
    if key in ("millimeter", "millimeters", "millimetre", "millimetres"):
        key = "mm"
    if key in ("inches", '"'):
        key = "in"
    if key not in METERS_PER_UNIT:
        raise ValueError(
            f"unknown units {units!r}; expected one of {', '.join(METERS_PER_UNIT)} "
            "or metres per unit"
        )
    return key, METERS_PER_UNIT[key]


def scaled_units_message(height_units: float) -> str:
    """Why a skeleton ``height_units`` tall was scaled to 1.7 m and how to override it."""
    nearest = detect_units(height_units)
    lo, hi = PLAUSIBLE_HEIGHT_M
    return (
        f"no standard unit makes a skeleton {height_units:.4g} units tall a standing human "
        f"({lo:g}-{hi:g} m; the nearest, {nearest}, gives "
        f"{height_units * METERS_PER_UNIT[nearest]:.2f} m): scaling it to "
        f"{_TYPICAL_HEIGHT_M:g} m tall ({_TYPICAL_HEIGHT_M / height_units:.4g} m per unit); "
        "pass units= (a unit name or metres per unit; command line: "
        f"{cli_option('units', 'cm')}) to override"
    )


def up_axis_to_z_matrix(up_axis: str) -> np.ndarray:
    """Rotation ``C`` (3, 3) taking a frame with ``up_axis`` up to the Z-up frame: ``v_z = C v``.

    ``"y"``: ``(x, y, z) ↦ (x, -z, y)`` (a +90° turn about x: Y goes to Z and Z to -Y, the
    usual BVH/Maya → robotics convention, heading unchanged about the vertical). ``"z"``:
    identity. ``"x"``: ``(x, y, z) ↦ (y, z, x)`` (cyclic, right-handed). Negative axes, for
    frames whose up is the axis's minus side: ``"-y"`` (a camera frame: x right, y down,
    z forward) ``(x, y, z) ↦ (x, z, -y)``; ``"-z"`` ``(x, -y, -z)``; ``"-x"`` ``(y, -z, -x)``.
    """
    key = str(up_axis).strip().lower()
    if key in ("y", "+y"):
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    if key in ("z", "+z"):
        return np.eye(3)
    if key in ("x", "+x"):
        return np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    if key == "-y":
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    if key == "-z":
        return np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
    if key == "-x":
        return np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])
    raise ValueError(f"unknown up axis {up_axis!r}; expected 'y', 'z', 'x', '-y', '-z' or '-x'")

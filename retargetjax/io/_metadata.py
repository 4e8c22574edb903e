"""JSON-safe run metadata (numpy scalars and arrays, paths, enums, dataclasses)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["metadata_from_json", "metadata_to_json", "to_json_safe"]


def to_json_safe(value: Any, where: str = "metadata") -> Any:
    """Convert ``value`` into plain JSON types (dict, list, str, int, float, bool, None).

    Conversions: numpy scalars → Python numbers, numpy/JAX arrays → nested lists, paths →
    ``str``, enums → their value, dataclasses and pydantic models → dicts, tuples and sets →
    lists (sets sorted), ``datetime`` → ISO 8601 string, dict keys → ``str``. Non-finite
    floats (NaN, ±inf), which JSON cannot hold, become ``None``.

    Args:
        value: the object to convert.
        where: a dotted path used in error messages (``metadata.config.lr``).

    Raises:
        TypeError: for any other type, naming the path of the offending entry.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_json_safe(value.value, where)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_json_safe(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [to_json_safe(v, f"{where}{{}}") for v in value]
        return sorted(items, key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json_safe(
            {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, where
        )
    if hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic v2 model
        return to_json_safe(value.model_dump(mode="json"), where)
    if isinstance(value, np.ndarray) or (hasattr(value, "__array__") and hasattr(value, "shape")):
        array = np.asarray(value)
        if array.dtype.kind in "biufU":
            return to_json_safe(array.tolist(), where)
    raise TypeError(
        f"{where}: cannot store a {type(value).__name__} in JSON metadata "
        "(expected numbers, strings, bools, None, lists, dicts, numpy arrays, paths or enums)"
    )


def metadata_to_json(metadata: Mapping[str, Any]) -> str:
    """Serialise run metadata to a JSON string (see :func:`to_json_safe`)."""
    return json.dumps(to_json_safe(dict(metadata)), allow_nan=False, sort_keys=True)


def metadata_from_json(text: str, source: str) -> dict[str, Any]:
    """Parse a metadata JSON string read from ``source`` (a file name, for errors)."""
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError as err:
        raise ValueError(f"{source}: the 'metadata' field is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise ValueError(f"{source}: 'metadata' must be a JSON object, got {type(value).__name__}")
    return value

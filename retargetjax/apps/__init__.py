"""Thin command-line entry points: two Hydra apps (`retarget`, `batch`) and plain `key=value`
tools (`evaluate`, `compare`, `render`, `plot`, `sweep`, `batch-merge`); each builds its
arguments and calls a plain function."""

from pathlib import Path

__all__ = ["configs_dir"]


def configs_dir() -> Path:
    """The Hydra config folder: ``configs/`` at the project's root (editable installs and
    checkouts), or the copy a wheel ships inside the package (``retargetjax/_configs``)."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "configs", here / "_configs"):
        if (candidate / "retarget.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        f"cannot find the Hydra configs: expected {here.parent / 'configs'} or {here / '_configs'}"
    )

"""The quickstart notebook executes from top to bottom (nbclient, the venv's kernel)."""

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [
        o for o in outputs if "image/png" in o.get("data", {}) or "image/gif" in o.get("data", {})
    ]
    assert len(images) >= 2  # the plot and the animation
    tables = [o for o in outputs if "text/markdown" in o.get("data", {})]
    assert any("keypoint_error_mean_m" in o["data"]["text/markdown"] for o in tables)

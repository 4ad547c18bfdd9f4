"""Per-oracle HTML reports: run both notebooks for one oracle and golden set (`make report`).

The parameters cell (tagged ``parameters``, the papermill convention) is followed by a cell
that sets the given values; the notebooks run on the configured database (`make run`'s by
default) and are written as self-contained HTML under ``reports/``: each plotly figure is
rendered to HTML with plotly.js inlined once from the installed package (nothing fetched).
Usage: ``.venv/bin/python notebooks/report.py TENANT ORACLE SET``.
"""

import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import plotly.io
from nbclient import NotebookClient
from nbconvert import HTMLExporter

NOTEBOOKS = ("01_retrieval_quality.ipynb", "02_token_cost.ipynb")
PLOTLY = "application/vnd.plotly.v1+json"
HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "reports"


def with_parameters(notebook: nbformat.NotebookNode, values: dict[str, str]) -> None:
    """Insert a cell after the ``parameters`` cell that sets ``values``."""
    index = next(
        i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
    )
    lines = [f"{name} = {value!r}" for name, value in values.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(index + 1, cell)


def embed_plots(notebook: nbformat.NotebookNode) -> int:
    """Give every plotly figure an HTML rendering (plotly.js inlined once); the count."""
    figures = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            spec = output.get("data", {}).get(PLOTLY)
            if spec is not None:
                figure = plotly.io.from_json(json.dumps(spec))
                output["data"] = {"text/html": plotly.io.to_html(
                    figure, full_html=False, include_plotlyjs=figures == 0)}  # fmt: skip
                figures += 1
    return figures


def exporter() -> HTMLExporter:
    """JupyterLab's look without the scripts it loads from CDNs (``offline_html/``)."""
    return HTMLExporter(extra_template_basedirs=[str(HERE)], template_name="offline_html",
                        exclude_input_prompt=True, exclude_output_prompt=True)  # fmt: skip


def report(tenant: str, oracle: str, golden_set: str) -> list[Path]:
    """Execute each notebook for the oracle; the HTML files written."""
    OUT.mkdir(exist_ok=True)
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    slug = re.sub(r"[^a-z0-9-]+", "-", f"{tenant}-{oracle}-{golden_set}".lower())
    written = []
    for name in NOTEBOOKS:
        notebook = nbformat.read(HERE / name, as_version=4)
        with_parameters(notebook, {"TENANT": tenant, "ORACLE": oracle, "GOLDEN_SET": golden_set})
        started = time.perf_counter()
        NotebookClient(notebook, timeout=1800, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}}).execute()  # fmt: skip
        embed_plots(notebook)
        html, _ = exporter().from_notebook_node(notebook)
        target = OUT / f"{Path(name).stem}-{slug}.html"
        target.write_text(html, encoding="utf-8")
        written.append(target)
        print(f"{target} ({time.perf_counter() - started:.0f} s)")
    return written


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: notebooks/report.py TENANT ORACLE GOLDEN_SET")
    report(*sys.argv[1:])

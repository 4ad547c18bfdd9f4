"""`make report`'s helpers: parameters injected after the tagged cell, plots made HTML with
plotly.js inlined once, and a template that loads nothing from a CDN."""

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import plotly.graph_objects as go  # type: ignore[import-untyped]
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebook_report", NOTEBOOKS / "report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["01_retrieval_quality.ipynb", "02_token_cost.ipynb"])
def test_each_notebook_has_a_parameters_cell_that_the_report_overrides(
    report: ModuleType, name: str
) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    tagged = [i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert 'TENANT = "datacentre-operator"' in notebook.cells[tagged[0]].source
    report.with_parameters(notebook, {"TENANT": "acme", "ORACLE": "finance", "GOLDEN_SET": "x"})
    injected = notebook.cells[tagged[0] + 1]
    assert injected.metadata["tags"] == ["injected-parameters"]
    assert injected.source.splitlines() == ["TENANT = 'acme'", "ORACLE = 'finance'",
                                            "GOLDEN_SET = 'x'"]  # fmt: skip


def test_plots_become_html_with_plotly_js_inlined_once(report: ModuleType) -> None:
    spec = json.loads(go.Figure(go.Bar(x=["a"], y=[1])).to_json())
    outputs = [
        nbformat.from_dict({"output_type": "display_data", "metadata": {},
                            "data": {report.PLOTLY: spec}})
        for _ in range(2)
    ]  # fmt: skip
    cell = nbformat.v4.new_code_cell("fig", outputs=outputs)
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert report.embed_plots(notebook) == 2
    first, second = (o["data"]["text/html"] for o in notebook.cells[0].outputs)
    assert len(first) > 1_000_000 and len(second) < 20_000  # the library once, then the data
    assert "https://cdn.plot.ly" not in first.split("<script", 2)[1][:200]


def test_the_html_template_loads_nothing_from_a_cdn(report: ModuleType) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    html, _ = report.exporter().from_notebook_node(notebook)
    sources = [part.split('"', 2)[1] for part in html.split("<script src=")[1:]]
    assert sources == [] and "cdnjs.cloudflare.com" not in html

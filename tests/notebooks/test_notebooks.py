"""The analyst notebooks of ``notebooks/`` run top to bottom against a live server over the demo.

Each notebook is executed by nbclient in this virtualenv's own ``python3`` kernel (ipykernel's
kernelspec under ``sys.prefix``), as an analyst runs it: the server's URL and a key created for
the test in ``ATLAS_URL`` and ``ATLAS_KEY``. A cell that raises fails the test (nbclient's
``CellExecutionError``); the notebooks check their own results with asserts, and the test reads
the summary each prints and checks it against the API.
"""

from __future__ import annotations

import ast
import io
import json
import os
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from atlas.policy.tiers import Tier
from tests.api.live_server import serving
from tests.served_demo import Served

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ("vacancy_by_site.ipynb", "parcel_query_api.ipynb", "extract_crs.ipynb")
CELL_TIMEOUT_S = 300


@dataclass
class Live:
    """The served demo behind a real socket, and a key per tier created for these tests."""

    url: str
    keys: dict[Tier, str]
    served: Served


@pytest.fixture(scope="module")
def live(served: Served) -> Iterator[Live]:
    """The module's app on a loopback port; b2b and internal keys of its own, revoked after."""
    from atlas.auth.keys import open_keyring

    keyring = open_keyring(served.settings.store, served.settings.auth)
    try:
        created = {
            t: keyring.create(tier=t, name=f"notebooks {t}") for t in (Tier.B2B, Tier.INTERNAL)
        }
        with serving(served.client.app) as (host, port):
            yield Live(f"http://{host}:{port}", {t: k for t, (_, k) in created.items()}, served)
        for record, _ in created.values():
            keyring.revoke(record.key_id)
    finally:
        keyring.close()


def kernel_manager() -> KernelManager:
    """The ``python3`` kernel of this virtualenv only (a user-wide kernelspec may be another)."""
    kernels = Path(sys.prefix) / "share" / "jupyter" / "kernels"
    specs = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    assert "python3" in specs.find_kernel_specs(), f"no python3 kernelspec in {kernels}: ipykernel"
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


def execute(notebook: nbformat.NotebookNode, env: dict[str, str], cwd: Path) -> None:
    """Run every cell in a fresh kernel of this virtualenv, with ``env`` added to ours."""
    client = NotebookClient(
        notebook,
        km=kernel_manager(),
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env={**os.environ, **env})


def run(name: str, live: Live, tier: Tier, tmp_path: Path, **extra: str) -> nbformat.NotebookNode:
    """Execute ``notebooks/<name>`` against the live server with ``tier``'s key."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    execute(notebook, {"ATLAS_URL": live.url, "ATLAS_KEY": live.keys[tier], **extra}, tmp_path)
    return notebook


def summary(notebook: nbformat.NotebookNode) -> dict:
    """The dict the cell tagged ``summary`` prints on its first line."""
    cells = [c for c in notebook.cells if "summary" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    text = "".join(o.get("text", "") for o in cells[0].outputs if o.output_type == "stream")
    return ast.literal_eval(text.splitlines()[0])


def matched(served: Served, path: str, **params: str) -> int:
    """numberMatched of an items query, asked through the test client as the staff."""
    response = served.get(Tier.INTERNAL, path, params={**params, "limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["numberMatched"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_have_no_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_the_kernel_is_this_virtualenv(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import os, sys; print(sys.prefix, os.environ['PROBE'])")]
    )
    execute(notebook, {"PROBE": "seen"}, tmp_path)
    assert notebook.cells[0].outputs[0]["text"].split() == [sys.prefix, "seen"]


def test_vacancy_by_site(live: Live, tmp_path: Path) -> None:
    notebook = run("vacancy_by_site.ipynb", live, Tier.INTERNAL, tmp_path)
    figures = summary(notebook)
    assert figures["sites"] == matched(live.served, "/collections/activity-sites/items") > 0
    # The sites the notebook finds off are those the inventory's own report lists.
    export = live.served.get(Tier.INTERNAL, "/inventory/export", params={"mode": "internal"})
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        report_name = next(n for n in archive.namelist() if n.endswith("inventory-report.json"))
        report = json.loads(archive.read(report_name))
    off = report["vacancy"]["disagreements"]
    assert figures["declared_rates_off"] == len(off) > 0  # the demo declares some rates wrong
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert all(d["site_id"] in printed for d in off)
    # The table and the chart were rendered: the chart's HTML has a row header per site.
    html = [
        o["data"]["text/html"]
        for c in notebook.cells
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    assert len(html) == 2 and html[1].count("_level0_row") == figures["sites"]


@pytest.mark.parametrize("tier", [Tier.B2B, Tier.INTERNAL])
def test_parcel_query_api(live: Live, tier: Tier, tmp_path: Path) -> None:
    notebook = run("parcel_query_api.ipynb", live, tier, tmp_path)
    figures = summary(notebook)
    expected = matched(
        live.served, "/collections/parcels/items", filter=figures["filter"], bbox=figures["bbox"]
    )
    assert figures["parcels"] == expected > 250  # more than a page: the next links were followed
    assert figures["pages"] == -(-expected // 250)
    assert figures["owners_visible"] is (tier is Tier.INTERNAL)


def test_extract_crs(live: Live, tmp_path: Path) -> None:
    first = live.served.get(
        Tier.PUBLIC, "/collections/activity-sites/items", params={"limit": 1, "sortby": "site_id"}
    ).json()["features"][0]["id"]
    notebook = run("extract_crs.ipynb", live, Tier.INTERNAL, tmp_path)
    figures = summary(notebook)
    assert figures["site"] == first
    plots_of_site = matched(live.served, "/collections/activity-plots/items", site_id=first)
    assert figures["features"]["activity-plots"] == plots_of_site > 0
    assert figures["features"]["parcels"] > 0

"""The quickstart notebook in JupyterLab, run in headless Chromium: the Bokeh charts render and update.

The test starts JupyterLab on 127.0.0.1 (a free port, a random token,
temporary config and runtime folders) over a copy of the quickstart. It
opens the notebook in Debian's Chromium driven by Playwright and runs every
cell. Then it checks that the Bokeh canvases are drawn, that their data
arrived after the page rendered them empty (so the widgets' updates reach
the browser), and that the browser console shows no error. The screenshot is saved in
``tests/artifacts/`` (git ignores it).

Without /usr/bin/chromium the test is skipped, except in CI (``CI=true``),
where it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
#: JupyterLab plugins that would show pop-ups over the notebook or reach the network.
DISABLED_PLUGINS = {
    "@jupyterlab/apputils-extension:announcements": True,
    "@jupyterlab/extensionmanager-extension:plugin": True,
}


def require_browser() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {process.returncode}")
        try:
            with urlopen(url, timeout=1):
                return
        except (URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout:.0f} s")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """Start JupyterLab over a copy of the quickstart; yield the notebook's URL with its token."""
    require_browser()
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(ROOT / "notebooks" / "01_quickstart.ipynb", notebooks)
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    config = tmp_path / "config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": DISABLED_PLUGINS})
    )
    port = free_port()
    token = secrets.token_hex(16)
    environment = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path}",
        "--ServerApp.allow_root=True",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = (tmp_path / "lab.log").open("wb")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/api/status?token={token}", process)
        yield f"{base}/lab/tree/notebooks/01_quickstart.ipynb?token={token}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


#: Collects, per Bokeh document in the page, the number of rows of each data source.
SOURCE_ROWS = """() => {
    const rows = [];
    for (const doc of (window.Bokeh ? window.Bokeh.documents : [])) {
        for (const model of doc.all_models) {
            if (model.data !== undefined && model.data.x !== undefined) {
                rows.push(model.data.x.length);
            }
        }
    }
    return rows;
}"""


def test_quickstart_charts_render_and_update(lab: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook", timeout=90_000)
            accept = page.locator(".jp-Dialog button.jp-mod-accept")
            try:
                # JupyterLab may ask which kernel to start: take the notebook's own.
                accept.wait_for(timeout=5_000)
                accept.click()
            except sync_api.Error:
                pass
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000
            )

            page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
            page.click("li[data-command='runmenu:run-all']")
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                page.wait_for_function(
                    "() => document.body.innerText.includes('Settings: %config CepMagic')",
                    timeout=180_000,
                )
            except sync_api.Error:
                page.screenshot(path=str(ARTIFACTS / "quickstart-timeout.png"))
                raise
            page.wait_for_function(
                "() => document.querySelectorAll('.jp-Notebook-ExecutionIndicator"
                '[data-status="idle"]\').length > 0',
                timeout=60_000,
            )
            chart = page.locator(".jp-Cell").nth(5)
            chart.scroll_into_view_if_needed()
            page.wait_for_timeout(1_000)
            canvases = page.locator(".jp-Cell").nth(5).locator("canvas").count()
            rows = page.evaluate(SOURCE_ROWS)
            page.screenshot(path=str(ARTIFACTS / "quickstart.png"))
        finally:
            browser.close()

    assert canvases >= 2, "the windows timeline draws two plots"
    # The chart was displayed before the replay started, with empty sources:
    # 3,000 bids drawn now came through the widget's updates.
    assert max(rows, default=0) == 3_000
    assert problems == []

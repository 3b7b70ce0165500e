"""binder/ launches the repository on Binder: requirements, postBuild and the quickstart it opens."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def test_post_build_is_executable_script() -> None:
    script = BINDER / "postBuild"

    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert 'pip install --no-cache-dir -e ".[notebook]"' in script.read_text()


def test_post_build_opens_existing_quickstart() -> None:
    opened = re.search(r'default_url = "/lab/tree/(.+?)"', (BINDER / "postBuild").read_text())

    assert opened is not None
    assert (ROOT / opened.group(1)).is_file()


def test_requirements_match_notebook_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = {
        re.split(r"[<>=]", requirement)[0].lower()
        for requirement in project["project"]["optional-dependencies"]["notebook"]
    }
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    listed = {
        re.split(r"[<>=]", line)[0].lower() for line in lines if line and not line.startswith("#")
    }

    assert listed == extra


def test_runtime_matches_python_floor() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert project["project"]["requires-python"] == ">=3.11"
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"

"""The import direction between the layers of the package, read from each module's source.

Data flows one way: events, sources, sql, runtime, sinks, then the session
(session, results, runner, settings), viz, notebook, testing and the command
line. A module may import its own layer and the layers before it;
``workbench/errors.py`` may be imported from everywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"

#: Layers in order: a layer may import only from itself and from layers listed before it.
LAYERS = [
    "events",
    "sources",
    "sql",
    "runtime",
    "sinks",
    "session",
    "viz",
    "notebook",
    "testing",
    "cli",
]
#: Top-level modules that belong to a layer without being a package of their own.
MODULE_LAYERS = {
    "session": "session",
    "results": "session",
    "runner": "session",
    "live": "session",
    "retain": "session",
    "settings": "session",
    "cli": "cli",
}
SHARED = {"errors"}
#: Imports against the layers that are allowed: Session.fuzz is the public entry to rule
#: fuzzing, which the testing layer implements on top of the session; the session
#: imports it only when fuzz() is called (or for type checking).
ENTRY_POINTS = {("workbench.session", "workbench.testing.fuzz")}
#: Names the package root re-exports, by the module that defines them.
ROOT_NAMES = {
    "Session": "session",
    "QueryResult": "results",
    "StatementResult": "results",
    "TableResult": "results",
    "QueryError": "errors",
    "WorkbenchError": "errors",
}

#: Third-party packages a layer must not know about (the table of layers in the design).
JUPYTER = {"IPython", "ipykernel", "ipywidgets", "jupyter_bokeh", "nbformat", "nbclient"}
FORBIDDEN = {
    "events": {"sqlglot", "streamz", "bokeh", *JUPYTER},
    "sources": {"sqlglot", "bokeh", *JUPYTER},
    "sql": {"streamz", "bokeh", *JUPYTER},
    "runtime": {"bokeh", *JUPYTER},
    "sinks": JUPYTER,
    "session": {"bokeh", "jupyter_bokeh"},
    "viz": {"sqlglot"},
    "testing": JUPYTER,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """Return the layer of a module under workbench; None for the package root and errors."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in SHARED:
        return None
    return MODULE_LAYERS.get(parts[1], parts[1])


def imports(source: str, module: str, is_package: bool) -> list[tuple[str, int]]:
    """Return (imported module, line) for every import in ``source``, relative ones resolved."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "workbench":
                # The package root re-exports names (Session, QueryResult) from its layers.
                found.extend(
                    (f"workbench.{ROOT_NAMES.get(alias.name, alias.name)}", node.lineno)
                    for alias in node.names
                )
            else:
                found.append((target, node.lineno))
    return found


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Return one line per import that goes against the layers."""
    own = layer_of(module)
    if own is None:
        return []
    allowed = set(LAYERS[: LAYERS.index(own) + 1])
    problems = []
    for target, line in imports(source, module, is_package):
        root = target.split(".")[0]
        if root == "workbench":
            other = layer_of(target)
            if (module, target) in ENTRY_POINTS:
                continue
            if other is not None and other not in allowed:
                problems.append(f"line {line}: {target} is in layer {other}, after {own}")
        elif root in FORBIDDEN.get(own, set()):
            problems.append(f"line {line}: {own} must not import {root}")
    return problems


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path != PACKAGE / "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_follow_layers(path: Path) -> None:
    source = path.read_text(encoding="utf-8")

    assert violations(source, module_name(path), path.name == "__init__.py") == []


def test_every_module_in_a_layer() -> None:
    layers = {layer_of(module_name(path)) for path in MODULES}

    assert layers - {None} <= set(LAYERS)


def test_errors_imports_nothing_from_package() -> None:
    source = (PACKAGE / "errors.py").read_text(encoding="utf-8")

    targets = [target for target, _ in imports(source, "workbench.errors", False)]

    assert [target for target in targets if target.startswith("workbench")] == []


def test_upward_import_detected() -> None:
    source = "from workbench.runtime.pipeline import Compiler\n\nimport streamz\n"

    problems = violations(source, "workbench.events.probe")

    assert problems == [
        "line 1: workbench.runtime.pipeline is in layer runtime, after events",
        "line 3: events must not import streamz",
    ]


def test_relative_import_resolved() -> None:
    problems = violations("from ..runtime import calc\n", "workbench.sql.probe")

    assert problems == ["line 1: workbench.runtime is in layer runtime, after sql"]


def test_session_module_may_import_runtime() -> None:
    source = "from workbench.runtime.pipeline import Pipeline\nfrom workbench.errors import X\n"

    assert violations(source, "workbench.results") == []


def test_root_import_resolved_to_module() -> None:
    assert violations("from workbench import session\n", "workbench.events.probe") == [
        "line 1: workbench.session is in layer session, after events"
    ]


def test_root_name_resolved_to_module() -> None:
    assert violations("from workbench import QueryResult\n", "workbench.sql.probe") == [
        "line 1: workbench.results is in layer session, after sql"
    ]


def test_import_inside_function_counted() -> None:
    source = "def late():\n    from workbench.cli import main\n"

    assert violations(source, "workbench.session") == [
        "line 2: workbench.cli is in layer cli, after session"
    ]

"""%cep fuzz NAME: Session.fuzz on a query of the notebook, through the magic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import workbench.notebook
from tests.notebook.test_magics import CREATE_BIDS, ROOT, run
from workbench import Session
from workbench.notebook.arguments import parse_command
from workbench.testing.fuzz import FuzzResult


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    if "workbench" not in ip.extension_manager.loaded:
        ip.extension_manager.load_extension("workbench")
    workbench.notebook.use_session(Session(base_dir=ROOT, progress=False))
    run(ip, "%%cep\n" + CREATE_BIDS)
    run(ip, "%%cep phone\nSELECT item, price FROM bids WHERE channel = 'phone' AND price > 50")
    run(
        ip,
        "%%cep phone_or_more\nSELECT item, price FROM bids WHERE channel = 'phone' AND price >= 50",
    )
    yield ip
    workbench.notebook.controller().close()


def test_fuzz_fires_named_query(shell: InteractiveShell) -> None:
    found = run(shell, "%cep fuzz phone --max-examples 200")

    assert isinstance(found, FuzzResult)
    assert found.found
    assert found.stream["bids"]["channel"].tolist() == ["phone"]


def test_fuzz_compares_two_queries(shell: InteractiveShell) -> None:
    found = run(shell, "%cep fuzz phone --against phone_or_more")

    assert isinstance(found, FuzzResult)
    assert found.mode == "compare"
    assert found.stream["bids"]["price"].tolist() == [50.0]


def test_fuzz_checks_property(shell: InteractiveShell) -> None:
    found = run(shell, "%cep fuzz phone --holds 'price > 50' --max-examples 30")

    assert isinstance(found, FuzzResult)
    assert found.passed


def test_fuzz_unknown_query_is_usage_error(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="not found"):
        run(shell, "%cep fuzz nothing")


def test_fuzz_command_parsed() -> None:
    command = parse_command("fuzz rule --holds 'amount < 100' --given 'x > 1' --seed 3")

    assert command.name == "rule"
    assert command.fuzz is not None
    assert command.fuzz.holds == "amount < 100"
    assert command.fuzz.given == "x > 1"
    assert command.fuzz.seed == 3

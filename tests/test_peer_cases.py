"""Every peer case (from Flink's and Trino's docs and tests) as its own test."""

from __future__ import annotations

import pytest

from tests.support.cases import CaseRun, assert_rows, execute, load_runs
from workbench.errors import UnsupportedError

# Constructs that the engine does not run yet; each such case must still fail,
# so the marker notices when one starts to pass.
NOT_YET = {
    "match_recognize": "MATCH_RECOGNIZE is not supported yet",
    "join": "joins are not supported yet",
}

RUNS = load_runs()


def _param(run: CaseRun) -> object:
    reason = NOT_YET.get(run.kind)
    marks = (
        [pytest.mark.xfail(strict=True, raises=UnsupportedError, reason=reason)] if reason else []
    )
    return pytest.param(run, id=run.id, marks=marks)


@pytest.mark.skipif(not RUNS, reason="peer cases not found: set WORKBENCH_SHARED_DIR")
@pytest.mark.parametrize("run", [_param(run) for run in RUNS])
def test_peer_case(run: CaseRun) -> None:
    if run.kind in NOT_YET:
        execute(run)
        return
    if run.expected_error is not None:
        with pytest.raises(Exception, match=run.expected_error):
            execute(run)
        return
    frame = execute(run)
    assert_rows(run, frame)

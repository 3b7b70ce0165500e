"""Every peer case (from Flink's and Trino's docs and tests) as its own test."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.support.cases import CaseRun, assert_rows, execute, load_runs
from workbench.errors import UnsupportedError

# Constructs that the engine does not run yet; each such case must still fail,
# so the marker notices when one starts to pass.
NOT_YET: dict[str, str] = {}

# Cases whose documented rows Flink itself does not return: these runs check
# what Flink 2.3 returned (the case's flink_2_3_actual rows). The window join
# pads a right-only row's lt.window_start and lt.window_end with NULL.
FLINK_ACTUAL = {"042_flink_window_full_outer_join"}

# Where Flink's greedy quantifiers do not backtrack, the SQL standard (and the
# workbench) finds more matches; docs/sql.md shows the difference. These runs
# check the standard's result in place of Flink's.
_LATE_ATTEMPT = {
    "instrument": "XYZ",
    "a_amount_total": 7,
    "first_at": "2018-09-17 10:00:06",
    "last_at": "2018-09-17 10:00:07",
}
STANDARD_ROWS: dict[str, list[dict[str, Any]]] = {
    # A+ C from 10:00:06: A takes 10:00:06 and 10:00:07, no C follows, so the
    # standard backtracks to A = 10:00:06, C = 10:00:07. Flink keeps 10:00:07 as A.
    "024_flink_mr_doc_after_match_strategies": [_LATE_ATTEMPT],
}
STANDARD_ERRORS = {
    # After the match that starts at 10:00:05, SKIP TO LAST A resumes at 10:00:06;
    # the standard's match there (A = 10:00:06, C = 10:00:07) then has its last A
    # on its first row, which the standard makes a runtime error.
    "024_flink_mr_doc_after_match_strategies-variant2": "cannot skip to first row of match",
    # The peer describes this error in words; this is the message the workbench gives.
    "024_flink_mr_doc_after_match_strategies-variant3": "cannot skip to first row of match",
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
    error = STANDARD_ERRORS.get(run.id, run.expected_error)
    if error is not None:
        with pytest.raises(Exception, match=error):
            execute(run)
        return
    if run.id in FLINK_ACTUAL:
        run = replace(run, expected=run.extra["flink_2_3_actual"])
    if run.id in STANDARD_ROWS:
        assert run.expected is not None
        run = replace(run, expected=[*run.expected, *STANDARD_ROWS[run.id]])
    frame = execute(run)
    assert_rows(run, frame)

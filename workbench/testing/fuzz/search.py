"""Fuzz a user's rule: search with hypothesis for the smallest input stream that shows something.

Three modes, each a hypothesis ``find`` over generated input streams, so the
stream found is shrunk to a minimal one:

- 'fire': a stream on which the rule emits at least one row;
- 'property': a stream on which a stated property of the output fails;
- 'compare': a stream on which two rules emit different rows.

Each stream runs in a scratch session, a copy of the user's catalog. There,
every table the rules read contains the generated rows instead of its file,
and keeps its columns, computed columns and watermark. The user's session is
not changed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from random import Random
from typing import Any, Literal

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from sqlglot import exp

from workbench.errors import QueryRuntimeError, SourceError, ValidationError, WorkbenchError
from workbench.events.schema import Schema
from workbench.events.types import DataType
from workbench.results import QueryResult
from workbench.session import Session
from workbench.sql.catalog import Catalog, TableDef, ViewDef
from workbench.sql.parser import parse_script
from workbench.sql.plan import PlanNode, Scan
from workbench.testing.fuzz.literals import RuleLiterals, rule_literals
from workbench.testing.fuzz.options import FuzzOptions
from workbench.testing.fuzz.report import FuzzResult, RuleRun
from workbench.testing.fuzz.tables import BASE, STEP_MS, table_streams, time_model, typed_values
from workbench.testing.reference import normalize

logger = logging.getLogger(__name__)

Mode = Literal["fire", "property", "compare"]
MODES: tuple[Mode, ...] = ("fire", "property", "compare")
#: A property given in Python: called with the output, or with the output and the input streams.
PropertyFunction = Callable[..., bool]
#: The name under which a SQL property reads the rule's output rows.
OUTPUT_TABLE = "output"
_ARRIVAL = "fuzz_arrival_"


def fuzz(
    session: Session,
    rule: str | QueryResult,
    *,
    mode: Mode | None = None,
    holds: str | PropertyFunction | None = None,
    given: str | None = None,
    against: str | QueryResult | None = None,
    options: FuzzOptions | None = None,
) -> FuzzResult:
    """Search for the smallest input stream that makes ``rule`` fire, break a property, or differ.

    ``rule`` is a query name of ``session``, a view name, or SQL text whose
    last statement is a SELECT (statements before it, such as CREATE VIEW,
    run first in the scratch session). ``mode`` defaults to 'property' with
    ``holds``, 'compare' with ``against``, else 'fire'.

    ``holds`` is the property. As SQL, it is a boolean expression that every
    output row must satisfy as a WHERE clause would keep the row, so FALSE or
    NULL breaks it, and ``holds="FALSE"`` states that the rule never fires.
    As Python, it is a function of the output DataFrame that returns True
    when the property holds. A function of two arguments also gets the input
    streams by table name.
    ``given`` is a SQL boolean expression over input rows: every generated
    row of a table that has the columns it names satisfies it. ``against`` is
    the other rule of 'compare'.
    """
    chosen = _mode(mode, holds, against)
    options = options or FuzzOptions()
    rules = [rule] if against is None else [rule, against]
    search = RuleSearch(session, rules, options, given)
    if chosen == "property":
        checker = PropertyCheck(holds, search)
        condition: Callable[[list[RuleRun]], bool] = checker.broken
    elif chosen == "compare":
        condition = differ
    else:
        condition = fires
    return search.find(chosen, condition, holds)


def _mode(mode: Mode | None, holds: object, against: object) -> Mode:
    if mode is None:
        if holds is not None:
            return "property"
        if against is not None:
            return "compare"
        return "fire"
    if mode not in MODES:
        raise ValidationError(
            f"invalid fuzz mode {mode!r}", hint="use 'fire', 'property' or 'compare'"
        )
    if mode == "property" and holds is None:
        raise ValidationError(
            "mode 'property' needs holds=", hint="give a SQL condition such as 'amount < 100'"
        )
    if mode == "compare" and against is None:
        raise ValidationError("mode 'compare' needs against=, the other version of the rule")
    return mode


# Conditions ----------------------------------------------------------------------------


def fires(runs: list[RuleRun]) -> bool:
    """Return whether the rule emitted at least one row (a failed run does not fire)."""
    output = runs[0].output
    return runs[0].error is None and output is not None and len(output) > 0


def differ(runs: list[RuleRun]) -> bool:
    """Return whether two runs differ: in errors, or in their output rows as a multiset."""
    first, second = runs
    if (first.error is None) != (second.error is None):
        return True
    if first.output is None or second.output is None:
        return False
    return normalize(first.output) != normalize(second.output)


class PropertyCheck:
    """A property of a rule's output, as SQL text or as a Python function."""

    def __init__(self, holds: str | PropertyFunction | None, search: RuleSearch) -> None:
        if holds is None:
            raise ValidationError("mode 'property' needs holds=")
        self.holds = holds
        self.search = search
        self.takes_inputs = False
        if callable(holds):
            self.takes_inputs = _positional_count(holds) >= 2
        else:
            self.sql = f"SELECT * FROM {OUTPUT_TABLE} WHERE NOT COALESCE(({holds}), FALSE)"
            # Check the text once, on no rows, so a mistake fails before the search.
            empty = search.output_schema_frame()
            self.violations(empty)

    def violations(self, output: pd.DataFrame) -> pd.DataFrame | None:
        """Return the output rows that break a SQL property (None for a Python one)."""
        if callable(self.holds):
            return None
        checker = self.search.blank_session()
        checker.from_pandas(OUTPUT_TABLE, output, schema=self.search.output_types())
        try:
            result = checker.sql(self.sql)
        except WorkbenchError as error:
            raise ValidationError(
                f"invalid property {self.holds!r}: {error}",
                hint=f"write a condition over the output columns: {', '.join(output.columns)}",
            ) from None
        assert isinstance(result, QueryResult)
        return result.to_pandas()

    def broken(self, runs: list[RuleRun]) -> bool:
        """Return whether the property fails on this run; a failed run breaks every property."""
        run = runs[0]
        if run.error is not None or run.output is None:
            return True
        if callable(self.holds):
            arguments: list[Any] = [run.output]
            if self.takes_inputs:
                arguments.append(run.inputs)
            return not bool(self.holds(*arguments))
        violations = self.violations(run.output)
        return violations is not None and len(violations) > 0


def _positional_count(function: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for parameter in parameters if parameter.kind in kinds)


# The search -------------------------------------------------------------------------------


@dataclass
class _Rule:
    """One rule: the statements to run before it, its SELECT text and its display name."""

    setup: list[str]
    sql: str
    name: str


@dataclass
class RuleSearch:
    """Generated streams for the tables some rules read, and the runs of the rules over them."""

    session: Session
    rules_given: Sequence[str | QueryResult]
    options: FuzzOptions
    given: str | None = None
    rules: list[_Rule] = field(init=False)
    tables: dict[str, TableDef] = field(init=False)
    literals: RuleLiterals = field(init=False)
    examples: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rules = [_resolve(self.session, rule) for rule in self.rules_given]
        probe = self.blank_session()
        trees: list[exp.Expr] = []
        plans: list[PlanNode] = []
        schemas: list[Schema] = []
        for rule in self.rules:
            for statement in rule.setup:
                probe.sql(statement)
            planned = probe.sql(rule.sql)
            if not isinstance(planned, QueryResult) or planned.plan is None:
                raise ValidationError(f"{rule.name} is not a SELECT query", sql=rule.sql)
            plans.append(planned.plan)
            schemas.append(planned.schema)
            trees.extend(_trees(probe.catalog, rule.sql))
        self._first_schema = schemas[0]
        self.tables = {}
        for plan in plans:
            for name in _scanned(plan):
                entry = probe.catalog.lookup(name)
                if isinstance(entry, TableDef):
                    self.tables[entry.name] = entry
        if not self.tables:
            raise ValidationError(
                "the rule reads no table to fuzz",
                hint="fuzz a query over a table made with CREATE TABLE or Session.from_pandas",
            )
        self._check_named_columns()
        self.literals = rule_literals(trees)
        self._given_columns = _given_columns(self.given) if self.given else set()

    # Sessions ---------------------------------------------------------------------------

    def blank_session(self) -> Session:
        """Return a session with a copy of the user's catalog, functions and settings."""
        settings = {key: value for key, value in self.session.settings.items()}
        settings["workbench.replay.progress"] = "false"
        settings["workbench.replay.speed"] = "max"
        if self.options.batch_rows is not None:
            settings["workbench.replay.batch-rows"] = str(self.options.batch_rows)
        scratch = Session(base_dir=self.session.base_dir, settings=settings, progress=False)
        scratch.catalog = Catalog()
        scratch.catalog.entries = dict(self.session.catalog.entries)
        scratch.functions = self.session.functions
        scratch.user_aggregates = dict(self.session.user_aggregates)
        return scratch

    def output_types(self) -> dict[str, str | DataType]:
        """Return the SQL types of the first rule's output columns, for reading the output back."""
        return dict(zip(self._first_schema.names, _plain_types(self._first_schema), strict=True))

    def output_schema_frame(self) -> pd.DataFrame:
        """Return an empty frame with the first rule's output columns."""
        return self._first_schema.empty_frame()

    # Streams ----------------------------------------------------------------------------

    def streams(self) -> st.SearchStrategy[dict[str, pd.DataFrame]]:
        """Streams of every input table, with the ``given`` condition applied to their rows."""
        per_table = {
            name: table_streams(table, self.options, self.literals)
            for name, table in self.tables.items()
        }
        return st.fixed_dictionaries(per_table).map(self._apply_given)

    def _apply_given(self, frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        if not self.given:
            return frames
        kept: dict[str, pd.DataFrame] = {}
        for name, frame in frames.items():
            table = self.tables[name]
            names = {column.lower() for column in table.physical.names}
            if not self._given_columns <= names or len(frame) == 0:
                kept[name] = frame
                continue
            kept[name] = self._rows_where(table, frame, self.given)
        return kept

    def _rows_where(self, table: TableDef, frame: pd.DataFrame, condition: str) -> pd.DataFrame:
        checker = self.blank_session()
        numbered = frame.assign(**{_ARRIVAL: range(len(frame))})
        types: dict[str, str | DataType] = dict(
            zip(table.physical.names, _plain_types(table.physical), strict=True)
        )
        types[_ARRIVAL] = "BIGINT"
        checker.from_pandas("rows", numbered, schema=types)
        try:
            result = checker.sql(f"SELECT {_ARRIVAL} FROM rows WHERE {condition}")
        except WorkbenchError as error:
            raise ValidationError(f"invalid given condition {condition!r}: {error}") from None
        assert isinstance(result, QueryResult)
        positions = result.to_pandas()[_ARRIVAL].astype(int).tolist()
        return frame.iloc[positions].reset_index(drop=True)

    def check_given(self) -> None:
        """Fail early when ``given`` names a column no input table has, or does not parse."""
        if not self.given:
            return
        for table in self.tables.values():
            names = {column.lower() for column in table.physical.names}
            if self._given_columns <= names:
                self._rows_where(table, table.physical.empty_frame(), self.given)
                return
        raise ValidationError(
            f"no input table has every column that given= names: {sorted(self._given_columns)}",
            hint="input tables: "
            + "; ".join(
                f"{name}({', '.join(table.physical.names)})" for name, table in self.tables.items()
            ),
        )

    # Runs -------------------------------------------------------------------------------

    def run(self, frames: Mapping[str, pd.DataFrame]) -> list[RuleRun]:
        """Run every rule over ``frames``, together in one replay of a scratch session."""
        self.examples += 1
        scratch = self.blank_session()
        for name, frame in frames.items():
            table = self.tables[name]
            scratch.catalog.add(replace(table, frame=frame), replace=True)
        results: list[QueryResult | None] = []
        errors: list[str | None] = []
        engine_failed = False
        for rule in self.rules:
            try:
                for statement in rule.setup:
                    scratch.sql(statement)
                planned = scratch.sql(rule.sql)
            except WorkbenchError as error:
                results.append(None)
                errors.append(str(error))
                continue
            assert isinstance(planned, QueryResult)
            results.append(planned)
            errors.append(None)
        runnable = [result for result in results if result is not None]
        try:
            scratch.run(runnable)
        except WorkbenchError as error:
            errors = [error_text or str(error) for error_text in errors]
            engine_failed = is_engine_failure(error)
        except Exception as error:
            # An engine defect on a generated stream is a finding, reported with the stream.
            logger.exception("the engine failed on a generated stream")
            errors = [error_text or f"internal error: {error!r}" for error_text in errors]
            engine_failed = True
        return [
            _rule_run(rule.sql, result, error, dict(frames), engine_failed)
            for rule, result, error in zip(self.rules, results, errors, strict=True)
        ]

    def _check(
        self, condition: Callable[[list[RuleRun]], bool], frames: Mapping[str, pd.DataFrame]
    ) -> bool:
        """Run the rules over ``frames`` and test ``condition``, or raise EngineError if the engine failed."""
        runs = self.run(frames)
        if any(run.engine_failed for run in runs):
            raise EngineError(runs)
        return condition(runs)

    def find(
        self,
        mode: Mode,
        condition: Callable[[list[RuleRun]], bool],
        holds: str | PropertyFunction | None,
    ) -> FuzzResult:
        """Search for the smallest streams meeting ``condition`` and report them."""
        self.check_given()
        search_settings = _quiet_settings(self.options.max_examples, self.options.seed is None)
        random = Random(self.options.seed) if self.options.seed is not None else None
        try:
            found = find(
                self.streams(),
                lambda frames: self._check(condition, frames),
                settings=search_settings,
                random=random,
            )
            found = self.polish(found, condition)
        except NoSuchExample:
            return FuzzResult(
                mode=mode,
                rules=tuple(rule.sql for rule in self.rules),
                found=False,
                runs=(),
                examples=self.examples,
                options=self.options,
                holds=holds,
                given=self.given,
                tables=dict(self.tables),
            )
        except EngineError as failure:
            # hypothesis shrinks a stream on which the engine fails like any
            # other finding, then raises the failure again on the smallest one.
            return FuzzResult(
                mode=mode,
                rules=tuple(rule.sql for rule in self.rules),
                found=False,
                runs=tuple(failure.runs),
                examples=self.examples,
                options=self.options,
                holds=holds,
                given=self.given,
                tables=dict(self.tables),
                engine_error=failure.message,
            )
        tried = self.examples
        runs = self.run(found)
        violations = None
        if mode == "property" and holds is not None and not callable(holds):
            output = runs[0].output
            if output is not None:
                violations = PropertyCheck(holds, self).violations(output)
        return FuzzResult(
            mode=mode,
            rules=tuple(rule.sql for rule in self.rules),
            found=True,
            runs=tuple(runs),
            examples=tried,
            options=self.options,
            holds=holds,
            given=self.given,
            tables=dict(self.tables),
            violations=violations,
        )

    def polish(
        self, frames: dict[str, pd.DataFrame], condition: Callable[[list[RuleRun]], bool]
    ) -> dict[str, pd.DataFrame]:
        """Shrink a found stream further: delete rows, replace NULLs, space event times evenly.

        hypothesis's shrinker works on the choices behind a stream and can
        stop where deleting one row means deleting several choices of
        different kinds. These passes work on the rows themselves and keep
        each change under which ``condition`` still holds. A change on which
        the engine fails raises EngineError, so the defect is reported.
        """
        current = {name: frame.reset_index(drop=True) for name, frame in frames.items()}
        changed = True
        while changed:
            changed = False
            for name in list(current):
                position = len(current[name]) - 1
                while position >= 0:
                    shorter = current[name].drop(index=position).reset_index(drop=True)
                    candidate = {**current, name: shorter}
                    if self._check(condition, candidate):
                        current = candidate
                        changed = True
                    position -= 1
        for name, frame in current.items():
            current = self._fill_nulls(current, name, frame, condition)
        for name in current:
            current = self._space_times(current, name, condition)
        return current

    def _space_times(
        self,
        current: dict[str, pd.DataFrame],
        name: str,
        condition: Callable[[list[RuleRun]], bool],
    ) -> dict[str, pd.DataFrame]:
        """Sort rows by event time, then put event times one second apart, if the condition holds.

        The times start at BASE, or else at the earliest event time of the stream.
        """
        table = self.tables[name]
        frame = current[name]
        column = table.watermark.column if table.watermark else None
        if column is None or column not in frame.columns or frame[column].isna().any():
            return current
        if len(frame) == 0:
            return current
        ordered = frame.sort_values(column, kind="stable").reset_index(drop=True)
        if not ordered.equals(frame):
            candidate = {**current, name: ordered}
            if self._check(condition, candidate):
                current, frame = candidate, ordered
        # Rank rows by event time (ties by arrival), so spacing keeps their event-time order.
        ranks = frame[column].rank(method="first").to_numpy(dtype=np.int64) - 1
        steps = pd.to_timedelta(ranks * STEP_MS, unit="ms")
        first = frame[column].min()
        base = BASE.tz_localize("UTC") if getattr(first, "tzinfo", None) is not None else BASE
        for start in (base, first):
            spaced = frame.copy()
            spaced[column] = (start + steps).astype(frame[column].dtype)
            if spaced[column].equals(frame[column]):
                return current
            candidate = {**current, name: spaced}
            if self._check(condition, candidate):
                return candidate
        return current

    def _fill_nulls(
        self,
        current: dict[str, pd.DataFrame],
        name: str,
        frame: pd.DataFrame,
        condition: Callable[[list[RuleRun]], bool],
    ) -> dict[str, pd.DataFrame]:
        """Replace NULLs by the column's plainest value: a whole column first, then cell by cell."""
        table = self.tables[name]
        for column in table.physical.names:
            missing = frame[column].isna().to_numpy()
            if not missing.any() or column == (table.watermark.column if table.watermark else None):
                continue
            plain = self._plainest(table, column)
            if plain is None:
                continue
            masks = [missing] + [
                np.arange(len(frame)) == index for index in np.flatnonzero(missing)
            ]
            for mask in masks:
                candidate_frame = frame.copy()
                candidate_frame.loc[mask & candidate_frame[column].isna().to_numpy(), column] = (
                    plain
                )
                candidate = {**current, name: candidate_frame}
                if self._check(condition, candidate):
                    current, frame = candidate, candidate_frame
        return current

    def _plainest(self, table: TableDef, column: str) -> Any:
        """Return the value shrinking prefers for a column (None when it has none but NULL)."""
        found = table.physical.find(column)
        assert found is not None
        model = time_model(table, self.options, self.literals)
        strategy = typed_values(column, found.type, self.options, self.literals, model)
        chosen = self.options.values_for(column)
        if chosen is not None:
            return chosen[0]
        value = find(strategy, lambda _: True, settings=_quiet_settings(1))
        return None if isinstance(value, (dict, list)) else value

    def _check_named_columns(self) -> None:
        known = {name.lower() for table in self.tables.values() for name in table.physical.names}
        unknown = sorted(self.options.named_columns() - known)
        if unknown:
            raise ValidationError(
                f"fuzz options name columns that no input table has: {', '.join(unknown)}",
                hint="input columns: " + ", ".join(sorted(known)),
            )


def _quiet_settings(max_examples: int, derandomize: bool = True) -> settings:
    """Return settings for a search that stores nothing and prints nothing."""
    return settings(
        database=None,
        derandomize=derandomize,
        max_examples=max_examples,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        verbosity=Verbosity.quiet,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


class EngineError(Exception):
    """A failure of the engine on a generated stream, which is a defect and no finding about the rule."""

    def __init__(self, runs: list[RuleRun]) -> None:
        failed = next(run for run in runs if run.engine_failed)
        self.message = failed.error or "the engine failed"
        super().__init__(self.message)
        self.runs = runs


def is_engine_failure(error: BaseException) -> bool:
    """Return whether ``error`` comes from the engine rather than from the rule.

    A SourceError means reading an input failed. The tables a fuzzed rule
    scans are generated DataFrames, so the rule's logic cannot cause it. A
    QueryRuntimeError caused directly by a non-workbench exception comes from
    an operator. A function that raises while evaluating the rule (a user's
    UDF, or a built-in function on a bad argument) is wrapped twice, once at
    the call and once at the operator, so it stays a failure of the rule.
    """
    if isinstance(error, SourceError):
        return True
    cause = error.__cause__
    return isinstance(error, QueryRuntimeError) and (
        cause is not None and not isinstance(cause, WorkbenchError)
    )


def _rule_run(
    sql: str,
    result: QueryResult | None,
    error: str | None,
    inputs: dict[str, pd.DataFrame],
    engine_failed: bool = False,
) -> RuleRun:
    if result is not None and error is None and result.error is not None:
        error = str(result.error)
        engine_failed = is_engine_failure(result.error)
    output = None
    late = rejected = 0
    if result is not None and error is None:
        output = result.to_pandas()
        late = len(result.late_rows())
        rejected = len(result.rejected_rows())
    return RuleRun(
        sql=sql,
        inputs=inputs,
        output=output,
        error=error,
        late=late,
        rejected=rejected,
        result=result,
        engine_failed=engine_failed,
    )


def _resolve(session: Session, rule: str | QueryResult) -> _Rule:
    """Return the rule a name or SQL text stands for."""
    if isinstance(rule, QueryResult):
        return _Rule([], rule.sql, rule.name)
    text = rule.strip()
    if text in session.queries:
        return _Rule([], session.queries[text].sql, text)
    entry = session.catalog.lookup(text) if text.replace("_", "").isalnum() else None
    if isinstance(entry, ViewDef):
        return _Rule([], f"SELECT * FROM {entry.name}", entry.name)
    if isinstance(entry, TableDef):
        return _Rule([], f"SELECT * FROM {entry.name}", entry.name)
    statements = parse_script(text)
    if not statements:
        raise ValidationError(
            f"nothing to fuzz in {rule!r}", hint="give a query name or a SELECT statement"
        )
    last = statements[-1]
    if last.kind != "query":
        raise ValidationError(
            f"the rule to fuzz must end with a SELECT, not a {last.kind} statement",
            sql=text,
            hint="for an INSERT INTO, fuzz its SELECT part",
        )
    return _Rule([statement.text for statement in statements[:-1]], last.text, "the rule")


def _trees(catalog: Catalog, sql: str) -> list[exp.Expr]:
    """Return the parsed rule and every view it reads, directly or through other views."""
    statements = parse_script(sql)
    trees = [statement.node for statement in statements if statement.node is not None]
    seen: set[str] = set()
    pending = list(trees)
    while pending:
        tree = pending.pop()
        for table in tree.find_all(exp.Table):
            entry = catalog.lookup(table.name)
            if isinstance(entry, ViewDef) and entry.name not in seen:
                seen.add(entry.name)
                trees.append(entry.query)
                pending.append(entry.query)
    return trees


def _scanned(plan: PlanNode) -> list[str]:
    """Return the tables a plan scans, in plan order."""
    found: list[str] = []
    pending = [plan]
    while pending:
        node = pending.pop(0)
        if isinstance(node, Scan) and node.table not in found:
            found.append(node.table)
        pending.extend(node.inputs())
    return found


def _plain_types(schema: Schema) -> list[DataType]:
    """Return the column types without time attributes, for registering frames of them."""
    return [column.type.with_time_attribute(None) for column in schema.columns]


def _given_columns(condition: str) -> set[str]:
    """Return the lower-case column names a ``given`` condition reads."""
    try:
        statements = parse_script(f"SELECT * FROM rows WHERE {condition}")
    except WorkbenchError as error:
        raise ValidationError(f"invalid given condition {condition!r}: {error}") from None
    node = statements[-1].node
    assert node is not None
    where = node.args.get("where")
    if where is None:
        return set()
    return {column.name.lower() for column in where.find_all(exp.Column)}

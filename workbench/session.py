"""The Session: the public entry point that ties catalog, plans, queries and replay together.

>>> from workbench import Session
>>> import pandas as pd
>>> session = Session()
>>> session.from_pandas("readings", pd.DataFrame({"v": [1, 2, 3]}))
>>> session.sql("SELECT SUM(v) AS total FROM readings").to_pandas()
   total
0      6
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import pandas as pd
from sqlglot import exp

from workbench.errors import (
    Position,
    SinkError,
    SourceError,
    SqlSyntaxError,
    UnknownTableError,
    ValidationError,
    WorkbenchError,
)
from workbench.events.infer import schema_from_frame
from workbench.events.schema import Column, Schema
from workbench.events.time import parse_duration
from workbench.events.types import DataType, TimeAttribute
from workbench.live import LiveJob, LiveRun
from workbench.results import FailedStatement, QueryResult, StatementResult, TableResult
from workbench.retain import Retention, check_retain
from workbench.runner import Job, Replay, check_speed
from workbench.runtime.match.automaton import Automaton
from workbench.runtime.match_recognize import pattern_automaton
from workbench.settings import SettingError, Settings
from workbench.sinks import known_sink_connectors, validate_sink_options
from workbench.sources import known_connectors, validate_source_options
from workbench.sources.live import live_options
from workbench.sql.aggregates import BUILTIN_AGGREGATES, UserAggregate, UserAggregateDef
from workbench.sql.catalog import Catalog, TableDef, ViewDef
from workbench.sql.functions import FunctionRegistry
from workbench.sql.parser import (
    Statement,
    node_position,
    parse_script,
    parse_statements,
    span,
)
from workbench.sql.plan import PlanNode, Scan, WatermarkSpec, walk
from workbench.sql.planner import PlanContext, explain, plan_insert, plan_query_statement
from workbench.sql.planner.ddl import option_position, table_from_ddl, view_from_ddl
from workbench.sql.sqltypes import parse_type

if TYPE_CHECKING:
    from workbench.testing.fuzz import FuzzResult

logger = logging.getLogger(__name__)

Result = QueryResult | StatementResult | TableResult

_JobT = TypeVar("_JobT", bound=Job)


class Session:
    """A catalog of tables and views, settings, and the queries run against them.

    ``base_dir`` is where relative file paths in table options resolve
    (default: the current directory). ``settings`` are initial SET values.
    """

    def __init__(
        self,
        *,
        base_dir: str | Path | None = None,
        settings: Mapping[str, str] | None = None,
        progress: bool | None = None,
    ) -> None:
        self.catalog = Catalog()
        self.functions = FunctionRegistry()
        self.user_aggregates: dict[str, UserAggregateDef] = {}
        self.settings = Settings(settings)
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        self.progress = progress
        self.queries: dict[str, QueryResult] = {}
        self._plans: dict[str, PlanNode] = {}
        self._counter = 0
        #: Python iterables of tables registered with from_iterable, by table name.
        self._objects: dict[str, Any] = {}
        #: Runs of queries on live tables, newest last.
        self.live_runs: list[LiveRun] = []
        #: Rows of tables with the 'retain' option, kept from every run for adhoc().
        self.retention = Retention(self.catalog)

    # Statements ----------------------------------------------------------------------

    @overload
    def sql(
        self, text: str, *, name: str | None = None, adhoc: Literal[False] = False
    ) -> Result | None: ...

    @overload
    def sql(self, text: str, *, name: str | None = None, adhoc: Literal[True]) -> pd.DataFrame: ...

    def sql(
        self, text: str, *, name: str | None = None, adhoc: bool = False
    ) -> Result | pd.DataFrame | None:
        """Run every statement of ``text``; return the result of the last one.

        DDL and SET take effect at once. A SELECT returns a :class:`QueryResult`
        that runs when its rows are asked for. INSERT INTO statements run
        together, in one replay, after the last statement; the first one that
        failed raises its error once all have run. With ``adhoc``, ``text`` is
        one SELECT run now over the rows its tables retain, as
        :meth:`adhoc` does.
        """
        if adhoc:
            return self.adhoc(text)
        results = self.execute(text, name=name)
        for result in results:
            if (
                isinstance(result, QueryResult)
                and result.sink is not None
                and result.error is not None
            ):
                raise result.error
        return results[-1] if results else None

    def execute(
        self,
        text: str,
        *,
        name: str | None = None,
        run_queries: bool = False,
        defer: bool = False,
    ) -> list[Result]:
        """Run every statement of ``text`` and return all their results, in order.

        INSERT INTO statements (and, with ``run_queries``, every SELECT too)
        run together in one replay after the last statement. Errors of those
        queries are kept on their results rather than raised. With ``defer``
        no query runs: INSERT INTO results are returned planned as SELECT
        results are, for a caller that adds them to a replay of its own.
        """
        statements = parse_script(text)
        results: list[Result] = []
        for index, statement in enumerate(statements):
            last = index == len(statements) - 1
            result = self._execute(statement, name if last else None)
            if result is not None:
                results.append(result)
        if not defer:
            self._run_together(results, run_queries)
        return results

    def drop_query(self, name: str) -> QueryResult:
        """Remove query ``name`` from :attr:`queries`; a replay it is part of is not changed."""
        result = self.queries.pop(name, None)
        if result is None:
            known = ", ".join(repr(query) for query in self.queries) or "none"
            raise ValidationError(f"query {name!r} not found", hint=f"known queries: {known}")
        self._plans.pop(name, None)
        return result

    def execute_script(
        self,
        text: str,
        *,
        run_queries: bool = False,
        table_options: Mapping[str, Mapping[str, str]] | None = None,
    ) -> list[Result | FailedStatement]:
        """Run every statement of ``text``, going on after a statement that fails.

        A statement that cannot be parsed or planned is returned, in its place,
        as a :class:`FailedStatement`, and the statements after it still run (a
        statement that reads a table the failed one would have created fails
        in turn). Queries run as :meth:`execute` runs them.

        ``table_options`` replaces or adds WITH options of tables that the
        script creates, so a script runs on other files unchanged:
        ``{"packets": {"path": "/data/x.pcap"}}`` sets ``'path'`` of
        ``CREATE TABLE packets``. Relative paths resolve from ``base_dir`` as
        the script's own do. A name that no CREATE TABLE of the script uses
        raises :class:`ValidationError` before any statement runs.
        """
        try:
            items = parse_statements(text)
        except SqlSyntaxError as error:
            # The text cannot even be split into statements (an unterminated string).
            return [FailedStatement(error, error.line)]
        if table_options:
            _override_table_options(items, table_options)
        outcomes: list[Result | FailedStatement] = []
        for item in items:
            if isinstance(item, SqlSyntaxError):
                outcomes.append(FailedStatement(item, item.line))
                continue
            try:
                result = self._execute(item, None)
            except WorkbenchError as error:
                outcomes.append(FailedStatement(error, item.line))
                continue
            if result is not None:
                outcomes.append(result)
        self._run_together(outcomes, run_queries)
        return outcomes

    def _run_together(self, results: Sequence[object], run_queries: bool) -> None:
        """Run the INSERT INTO results (and, with ``run_queries``, the SELECTs) in one replay."""
        jobs = [
            result
            for result in results
            if isinstance(result, QueryResult) and (result.sink is not None or run_queries)
        ]
        if jobs:
            self.run(jobs)

    def _execute(self, statement: Statement, name: str | None) -> Result | None:
        kind = statement.kind
        if kind == "query":
            return self._query(statement, name)
        if kind == "insert":
            return self._insert(statement, name)
        if kind == "create_table":
            return self._create_table(statement)
        if kind == "create_view":
            return self._create_view(statement)
        if kind == "drop":
            return self._drop(statement)
        if kind == "set":
            return self._set(statement)
        if kind == "reset":
            return self._reset(statement)
        title = " ".join(statement.text.split())
        if kind == "show":
            return replace(self._show(statement), title=title)
        if kind == "describe":
            return replace(self.describe(statement.words[0], statement), title=title)
        if kind == "explain":
            assert statement.inner is not None
            plan = self._explain(statement.inner)
            return TableResult(pd.DataFrame({"plan": [plan]}), text=plan, title=title)
        raise ValidationError(f"cannot run a {kind} statement")

    def _context(self, statement: Statement) -> PlanContext:
        return PlanContext(
            self.catalog,
            statement.script,
            self.functions,
            self.user_aggregates,
            self.settings.time_zone,
            state_ttl_ns=self.settings.state_ttl_ns,
            base_dir=self.base_dir,
        )

    def _next_name(self, name: str | None) -> str:
        if name:
            return name
        self._counter += 1
        return f"query-{self._counter}"

    def _query(self, statement: Statement, name: str | None) -> QueryResult:
        assert statement.node is not None
        planned = plan_query_statement(self._context(statement), statement.node)
        query_name = self._next_name(name)
        schema = Schema(tuple(Column(c.name, c.type) for c in planned.scope.columns))
        result = QueryResult(
            name=query_name,
            sql=statement.text,
            schema=schema,
            explain_text=explain(planned),
            updating=planned.node.updating,
            presentation=planned.presentation,
            runner=self.run,
            plan=planned.node,
        )
        if planned.node.schema.names != schema.names:
            # Output names may repeat visible names of the plan; the plan's own
            # names are unique, so the collector uses them.
            result.schema = planned.node.schema
        self._plans[query_name] = planned.node
        result.unbounded = self._live_tables(planned.node)
        self.queries[query_name] = result
        return result

    def _insert(self, statement: Statement, name: str | None) -> QueryResult:
        assert statement.node is not None
        planned = plan_insert(self._context(statement), statement.node)  # type: ignore[arg-type]
        if planned.node.updating and not _takes_updates(planned.sink):
            raise ValidationError(
                f"the query updates its results, but sink {planned.sink.name!r} only takes appended rows",
                sql=statement.script,
                hint=_append_only_hint(planned.sink),
            )
        query_name = self._next_name(name)
        result = QueryResult(
            name=query_name,
            sql=statement.text,
            schema=planned.node.schema,
            explain_text=explain(planned),
            updating=planned.node.updating,
            presentation=None,
            runner=self.run,
            sink=planned.sink.name,
            plan=planned.node,
        )
        self._plans[query_name] = planned.node
        result.unbounded = self._live_tables(planned.node)
        self.queries[query_name] = result
        return result

    def _create_table(self, statement: Statement) -> StatementResult:
        assert statement.node is not None
        table = table_from_ddl(self._context(statement), statement.node, statement.text)  # type: ignore[arg-type]
        self._validate_options(table, statement)
        exists = statement.node.args.get("exists")
        if self.catalog.lookup(table.name) is not None:
            if exists:
                return StatementResult(f"table {table.name!r} already exists")
            schema_node = statement.node.this
            name_node = schema_node.this if isinstance(schema_node, exp.Schema) else schema_node
            raise ValidationError(
                f"table {table.name!r} already exists",
                sql=statement.script,
                position=node_position(statement.script, name_node),
                hint=f"DROP TABLE {table.name} first, or write CREATE TABLE IF NOT EXISTS",
            )
        self.catalog.add(table)
        return StatementResult(f"created table {table.name!r}")

    def _validate_options(self, table: TableDef, statement: Statement) -> None:
        """Check a new table's WITH options; an error points at the option it concerns."""
        assert isinstance(statement.node, exp.Create)
        connector = table.options.get("connector")
        known = sorted({*known_connectors(), *known_sink_connectors()})
        if connector is None:
            raise ValidationError(
                f"table {table.name!r} has no 'connector' option",
                sql=statement.script,
                position=option_position(statement.script, statement.node, None),
                hint="add WITH ('connector' = 'filesystem', 'path' = '...', 'format' = 'csv')",
            )
        if connector not in known:
            close = difflib.get_close_matches(connector, known, n=1, cutoff=0.6)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise ValidationError(
                f"unknown connector {connector!r}",
                sql=statement.script,
                position=option_position(statement.script, statement.node, "connector", value=True),
                hint=guess + "known connectors: " + ", ".join(known),
            )
        try:
            _check_source_or_sink_options(table)
            check_retain(table)
        except (SourceError, SinkError) as error:
            raise ValidationError(
                str(error),
                sql=statement.script,
                position=_option_error_position(statement, table.options, str(error)),
            ) from None

    def _create_view(self, statement: Statement) -> StatementResult:
        assert statement.node is not None
        view = view_from_ddl(self._context(statement), statement.node, statement.text)  # type: ignore[arg-type]
        replace = bool(statement.node.args.get("replace"))
        existing = self.catalog.lookup(view.name)
        if existing is not None and not replace:
            if statement.node.args.get("exists"):
                return StatementResult(f"view {view.name!r} already exists")
            target = statement.node.this
            name_node = target.this if isinstance(target, exp.Schema) else target
            raise ValidationError(
                f"{view.name!r} already exists",
                sql=statement.script,
                position=node_position(statement.script, name_node),
                hint=f"write CREATE OR REPLACE VIEW {view.name} or drop it first",
            )
        self.catalog.add(view, replace=True)
        return StatementResult(f"created view {view.name!r}")

    def _drop(self, statement: Statement) -> StatementResult:
        node = statement.node
        assert node is not None
        kind = str(node.args.get("kind") or "TABLE").upper()
        targets = node.args.get("tables") or ([node.this] if node.this is not None else [])
        messages = []
        for table in targets:
            position = node_position(statement.script, table)
            entry = self.catalog.lookup(table.name)
            if entry is None:
                if node.args.get("exists"):
                    messages.append(f"{table.name!r} does not exist")
                    continue
                raise UnknownTableError(
                    f"{kind.lower()} {table.name!r} not found",
                    sql=statement.script,
                    position=position,
                    hint=self.catalog.suggestion(table.name),
                )
            is_view = isinstance(entry, ViewDef)
            if (kind == "VIEW") != is_view:
                actual = "view" if is_view else "table"
                raise ValidationError(
                    f"{table.name!r} is a {actual}",
                    sql=statement.script,
                    position=position,
                    hint=f"DROP {actual.upper()} {table.name}",
                )
            self.catalog.drop(entry.name)
            messages.append(f"dropped {kind.lower()} {entry.name!r}")
        return StatementResult("; ".join(messages))

    def _set(self, statement: Statement) -> Result:
        if not statement.words:
            frame = pd.DataFrame(
                {"key": list(self.settings), "value": [self.settings[k] for k in self.settings]}
            )
            return TableResult(frame, title="SET")
        key, value = statement.words
        try:
            self.settings.set(key, value)
        except SettingError as error:
            raise _positioned(error, statement) from None
        return StatementResult(f"set '{key}' = '{value}'")

    def _reset(self, statement: Statement) -> StatementResult:
        if not statement.words:
            self.settings.reset()
            return StatementResult("settings reset")
        key = statement.words[0]
        try:
            self.settings.reset(key)
        except SettingError as error:
            raise _positioned(error, statement) from None
        return StatementResult(f"reset '{key}'")

    def _show(self, statement: Statement) -> TableResult:
        what = statement.words[0]
        if what == "TABLES":
            return TableResult(
                pd.DataFrame({"table name": [t.name for t in self.catalog.tables()]})
            )
        if what == "VIEWS":
            return TableResult(pd.DataFrame({"view name": [v.name for v in self.catalog.views()]}))
        if what == "FUNCTIONS":
            names = sorted(
                {
                    *self.functions.names(),
                    *self.functions.table_function_names(),
                    *BUILTIN_AGGREGATES,
                    *self.user_aggregates,
                }
            )
            return TableResult(pd.DataFrame({"function name": names}))
        if what == "QUERIES":
            rows = [
                {"name": q.name, "status": q.status, "sql": q.sql} for q in self.queries.values()
            ]
            return TableResult(pd.DataFrame(rows, columns=["name", "status", "sql"]))
        name = statement.words[1]
        entry = self.catalog.lookup(name)
        if entry is None:
            raise UnknownTableError(
                f"{name!r} not found", sql=statement.script, hint=self.catalog.suggestion(name)
            )
        text = (
            entry.ddl
            if isinstance(entry, TableDef) and entry.ddl
            else entry.text
            if isinstance(entry, ViewDef)
            else f"-- {name} was registered from a pandas DataFrame"
        )
        return TableResult(pd.DataFrame({"statement": [text]}), text=text)

    def describe(self, name: str, statement: Statement | None = None) -> TableResult:
        """Return the columns of a table or view: name, type, nullability, time attribute, watermark."""
        entry = self.catalog.lookup(name)
        if entry is None:
            raise UnknownTableError(
                f"{name!r} not found",
                sql=statement.script if statement else None,
                hint=self.catalog.suggestion(name),
            )
        frame = entry.schema.describe()
        watermark = entry.watermark if isinstance(entry, TableDef) else None
        # An object column keeps None for "no watermark", as time_attribute does,
        # where inferred string columns would show NaN.
        frame["watermark"] = pd.Series(
            [
                watermark.text if watermark and c == watermark.column else None
                for c in frame["name"]
            ],
            dtype=object,
        )
        return TableResult(frame)

    def execute_statement(self, statement: Statement) -> Result | None:
        """Run one parsed statement (INSERT INTO runs at once, alone)."""
        result = self._execute(statement, None)
        if isinstance(result, QueryResult) and result.sink is not None:
            self.run([result])
        return result

    def explain_statement(self, statement: Statement) -> str:
        """Return the plan of one parsed SELECT or INSERT INTO statement."""
        return self._explain(statement)

    def _explain(self, statement: Statement) -> str:
        context = self._context(statement)
        if statement.kind == "query":
            assert statement.node is not None
            return explain(plan_query_statement(context, statement.node))
        if statement.kind == "insert":
            assert statement.node is not None
            return explain(plan_insert(context, statement.node))  # type: ignore[arg-type]
        raise ValidationError(
            "EXPLAIN works on SELECT and INSERT INTO statements", sql=statement.script
        )

    def explain(self, text: str) -> str:
        """Return the plan of the last statement of ``text``."""
        statements = parse_script(text)
        if not statements:
            raise ValidationError("nothing to explain")
        statement = statements[-1]
        return self._explain(
            statement.inner if statement.kind == "explain" and statement.inner else statement
        )

    def automaton(self, query: str | QueryResult) -> Automaton:
        """Return the automaton of a query's MATCH_RECOGNIZE pattern, as data and as a drawing.

        ``query`` is SQL text (planned, not run) or a result of :meth:`sql`,
        whose automaton highlights the states of partial matches open now.
        """
        if isinstance(query, QueryResult):
            return query.automaton()
        statements = parse_script(query)
        if not statements or statements[-1].kind != "query":
            raise ValidationError("automaton() needs a SELECT with MATCH_RECOGNIZE", sql=query)
        statement = statements[-1]
        assert statement.node is not None
        planned = plan_query_statement(self._context(statement), statement.node)
        found = pattern_automaton(planned.node)
        if found is None:
            raise ValidationError("the query has no MATCH_RECOGNIZE", sql=query)
        return found

    def fuzz(
        self,
        rule: str | QueryResult,
        *,
        mode: str | None = None,
        holds: str | Callable[..., bool] | None = None,
        given: str | None = None,
        against: str | QueryResult | None = None,
        **options: Any,
    ) -> FuzzResult:
        """Search with hypothesis for the smallest input stream that shows something about a rule.

        'fire' (the default) finds a stream on which ``rule`` emits a row;
        'property' (the default with ``holds``) one on which the output breaks
        ``holds``; 'compare' (the default with ``against``) one on which the
        two rules emit different rows. ``rule`` is a query name, a view name
        or SELECT text over this session's tables. Those keep their columns
        and watermark but get generated rows, and this session is not changed.
        ``options`` are the fields of
        :class:`~workbench.testing.fuzz.FuzzOptions` (max_rows, max_examples,
        keys, values, ranges, time_span, out_of_order, nulls, seed, ...).
        """
        # The testing layer builds on the session, so it is imported here, on use.
        from workbench.testing.fuzz import FuzzOptions, fuzz  # noqa: PLC0415

        return fuzz(
            self,
            rule,
            mode=mode,  # type: ignore[arg-type]
            holds=holds,
            given=given,
            against=against,
            options=FuzzOptions(**options),
        )

    # Running -------------------------------------------------------------------------

    def run(self, results: list[QueryResult], *, speed: str | float | None = None) -> None:
        """Replay the inputs of ``results`` once, running all of them together.

        Queries that read live tables are started in the background instead,
        together, as :meth:`start` starts them.
        """
        pending = [result for result in results if result.status == "planned"]
        live = [result for result in pending if result.unbounded]
        if live:
            self.start(live)
            pending = [result for result in pending if not result.unbounded]
        if not pending:
            return
        setting = str(speed if speed is not None else self.settings["workbench.replay.speed"])
        mode, factor = ("max", 1.0) if setting in ("max", "step") else ("realtime", float(setting))
        progress = self.progress
        if progress is None and self.settings["workbench.replay.progress"] != "auto":
            progress = self.settings["workbench.replay.progress"] == "true"
        job = self._new_job(Job, pending)
        job.run(pending, mode=mode, speed=factor, progress=progress)

    def start(self, results: list[QueryResult] | None = None) -> LiveRun:
        """Run queries on live tables in the background; return the run that controls them.

        ``results`` defaults to every planned query that reads a live table.
        The call returns once the sources listen (``LiveRun.address`` gives a
        server's port). Results then show the rows so far; ``LiveRun.stop``
        or ``QueryResult.stop`` ends the run.
        """
        chosen = (
            [result for result in results if result.status == "planned"]
            if results is not None
            else [q for q in self.queries.values() if q.status == "planned" and q.unbounded]
        )
        job = self._new_job(LiveJob, chosen, objects=dict(self._objects))
        run = LiveRun(job, chosen)
        self.live_runs.append(run)
        return run.start()

    def _new_job(self, job_class: type[_JobT], results: list[QueryResult], **fields: Any) -> _JobT:
        """Create a ``job_class`` job of ``results`` whose rows the session's retention receives.

        ``fields`` are the fields that ``job_class`` adds to :class:`Job`.
        """
        job = job_class(
            catalog=self.catalog,
            settings=self.settings,
            base_dir=self.base_dir,
            user_aggregates=self.user_aggregates,
            plans={result.name: self._plans[result.name] for result in results},
            **fields,
        )
        job.row_listeners.append(self.retention.deliver)
        return job

    def stop(self, *, drain: bool = False) -> None:
        """Stop every live run of the session (see :meth:`LiveRun.stop`)."""
        for run in self.live_runs:
            run.stop(drain=drain)

    def _live_tables(self, plan: PlanNode) -> tuple[str, ...]:
        """Return the live tables a plan reads, which have no end."""
        names = {node.table for node in walk(plan) if isinstance(node, Scan)}
        live = []
        for name in sorted(names):
            table = self.catalog.lookup(name)
            if isinstance(table, TableDef) and table.frame is None and not table.bounded:
                live.append(table.name)
        return tuple(live)

    def replay(
        self,
        results: list[QueryResult] | None = None,
        *,
        mode: str = "step",
        speed: float = 1.0,
        progress: bool = False,
    ) -> Replay:
        """Start a controllable replay of ``results`` (default: every query not run yet).

        ``mode`` is 'step' (rows move on :meth:`Replay.step`), 'max' or
        'realtime' (paced at ``speed`` times real time). Nothing moves until
        the returned :class:`Replay` is stepped or run. ``progress`` shows a
        progress bar while it runs. Queries can join, be replaced or leave
        while it runs: see :meth:`Replay.add`.
        """
        if mode not in ("step", "max", "realtime"):
            raise ValidationError(f"invalid replay mode {mode!r}: use 'step', 'max' or 'realtime'")
        check_speed(speed)
        chosen = (
            results
            if results is not None
            else [q for q in self.queries.values() if q.status == "planned"]
        )
        job = self._new_job(Job, chosen)
        job.prepare(chosen, mode=mode, speed=speed, progress=progress)
        return Replay(job)

    def adhoc(self, sql: str) -> pd.DataFrame:
        """Run a one-off SELECT over the rows that the tables it names retain now.

        Each table needs the 'retain' option ('1000 rows' or '10 minutes').
        DuckDB runs the query, so its SQL dialect applies, and ROW columns are
        STRUCTs. Raises ValidationError for a table without the option.
        """
        return self.retention.query(sql)

    # Python registration ------------------------------------------------------------

    def from_pandas(
        self,
        name: str,
        frame: pd.DataFrame,
        rowtime: str | None = None,
        watermark_delay: str | float | pd.Timedelta | None = None,
        *,
        schema: Mapping[str, str | DataType] | None = None,
    ) -> None:
        """Register a DataFrame as a bounded table, replacing any table of that name.

        ``rowtime`` names the event-time column: it becomes a time attribute of
        type TIMESTAMP(3) (millisecond precision, as in Flink), with a bounded
        out-of-orderness of ``watermark_delay`` (a duration such as '5 s';
        default 0). ``schema`` overrides inferred column types.
        """
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError(
                f"from_pandas needs a pandas DataFrame, got {type(frame).__name__}",
                hint="build one with pd.DataFrame(...) first",
            )
        types = schema_from_frame(frame)
        for column_name, kind in (schema or {}).items():
            types[column_name] = parse_type(kind) if isinstance(kind, str) else kind
        if rowtime is not None and rowtime not in types:
            raise ValidationError(
                f"rowtime column {rowtime!r} is not a column of the DataFrame: {list(types)}"
            )
        watermark = None
        if rowtime is not None:
            if not types[rowtime].is_timestamp:
                raise ValidationError(
                    f"rowtime column {rowtime!r} has type {types[rowtime].sql()}; it needs timestamps",
                    hint="convert it with pd.to_datetime first",
                )
            # Event time has Flink's time-attribute precision, milliseconds, unless
            # the schema argument says otherwise.
            if schema is None or rowtime not in schema:
                types[rowtime] = types[rowtime].with_precision(3)
            watermark = _watermark_spec(rowtime, watermark_delay)
        elif watermark_delay is not None:
            raise ValidationError("watermark_delay needs a rowtime column")
        physical, full = _table_schemas(types, rowtime)
        existing = self.catalog.lookup(name)
        if isinstance(existing, ViewDef):
            raise ValidationError(f"{name!r} is a view; choose another name for the DataFrame")
        self.catalog.add(
            TableDef(
                name=name,
                physical=physical,
                schema=full,
                watermark=watermark,
                frame=frame,
                options={"connector": "pandas"},
            ),
            replace=True,
        )

    def from_iterable(
        self,
        name: str,
        items: Iterable[Any] | AsyncIterable[Any],
        schema: Mapping[str, str | DataType],
        rowtime: str | None = None,
        watermark_delay: str | float | pd.Timedelta | None = None,
        *,
        options: Mapping[str, str] | None = None,
    ) -> None:
        """Register an iterable, iterator, async iterable or async generator as a live table.

        Items are dicts, tuples in the order of ``schema`` (column name to SQL
        type), or DataFrames. Queries on the table start with
        ``QueryResult.start()``; the table ends when ``items`` is exhausted,
        so a generator feeds one run. ``rowtime`` and ``watermark_delay``
        are as in :meth:`from_pandas`; ``options`` are live source options
        such as 'scan.batch.interval' or 'scan.watermark.idle-timeout'.
        """
        if not isinstance(items, Iterable | AsyncIterable) or isinstance(
            items, str | bytes | pd.DataFrame
        ):
            raise ValidationError(
                f"from_iterable needs an iterable or an async iterable of rows, got {type(items).__name__}",
                hint="for a DataFrame use from_pandas",
            )
        if not schema:
            raise ValidationError(
                "from_iterable needs a schema: a mapping of column names to SQL types",
                hint="for example schema={'ts': 'TIMESTAMP(3)', 'host': 'STRING'}",
            )
        types = {
            column_name: parse_type(kind) if isinstance(kind, str) else kind
            for column_name, kind in schema.items()
        }
        watermark = None
        if rowtime is not None:
            if rowtime not in types or not types[rowtime].is_timestamp:
                raise ValidationError(
                    f"rowtime column {rowtime!r} needs a TIMESTAMP column in the schema: {list(types)}"
                )
            watermark = _watermark_spec(rowtime, watermark_delay)
        elif watermark_delay is not None:
            raise ValidationError("watermark_delay needs a rowtime column")
        table_options = {**(options or {}), "connector": "python"}
        try:
            live_options(table_options)
        except SourceError as error:
            raise ValidationError(str(error)) from None
        physical, full = _table_schemas(types, rowtime)
        if isinstance(self.catalog.lookup(name), ViewDef):
            raise ValidationError(f"{name!r} is a view; choose another name for the table")
        self.catalog.add(
            TableDef(
                name=name,
                physical=physical,
                schema=full,
                watermark=watermark,
                options=table_options,
            ),
            replace=True,
        )
        self._objects[name] = items

    def register_function(
        self,
        name: str,
        func: Callable[..., Any],
        result_type: str | DataType,
        *,
        vectorized: bool = True,
    ) -> None:
        """Add a scalar function implemented in Python (vectorized over pandas Series by default)."""
        kind = parse_type(result_type) if isinstance(result_type, str) else result_type
        self.functions.register_scalar(name, func, kind, vectorized=vectorized)

    def register_aggregate(
        self,
        name: str,
        factory: Callable[[], UserAggregate],
        result_type: str | DataType,
        *,
        arity: int = 1,
    ) -> None:
        """Add an aggregate function: ``factory()`` makes one accumulator object per group."""
        kind = parse_type(result_type) if isinstance(result_type, str) else result_type
        self.user_aggregates[name.upper()] = UserAggregateDef(name.upper(), factory, kind, arity)

    def register_table_function(
        self,
        name: str,
        func: Callable[..., Iterable[Any] | None],
        *,
        returns: str | DataType | Mapping[str, str | DataType],
    ) -> None:
        """Add a table function for ``LATERAL TABLE(name(...))``.

        ``func`` is called once per input row with that row's argument values
        (None for NULL) and returns an iterable of output rows: tuples or
        lists in column order, dicts by column name, or plain values when
        there is one column. ``returns`` declares the output columns, as
        ``'ROW<word STRING, length INT>'``, a mapping of names to types, or
        one type for a single column named ``f0``. Raises ValueError for an
        invalid name or declaration.
        """
        self.functions.register_table_function(name, func, returns)

    def tables(self) -> pd.DataFrame:
        rows = [
            {"name": entry.name, "kind": "view" if isinstance(entry, ViewDef) else "table"}
            for entry in self.catalog.entries.values()
        ]
        return pd.DataFrame(rows, columns=["name", "kind"])


def _watermark_spec(
    rowtime: str, watermark_delay: str | float | pd.Timedelta | None
) -> WatermarkSpec:
    """Return the watermark ``rowtime - watermark_delay`` of a table registered from Python."""
    delay = _watermark_delay(watermark_delay)
    text = f"{rowtime} - INTERVAL '{delay / 1e9:g}' SECOND" if delay else rowtime
    return WatermarkSpec(rowtime, delay, text)


def _table_schemas(types: Mapping[str, DataType], rowtime: str | None) -> tuple[Schema, Schema]:
    """Return the physical schema of ``types`` and the schema with ``rowtime`` as event time."""
    physical = Schema(tuple(Column(column_name, kind) for column_name, kind in types.items()))
    full = Schema(
        tuple(
            Column(
                c.name,
                c.type.with_time_attribute(TimeAttribute.ROWTIME) if c.name == rowtime else c.type,
            )
            for c in physical.columns
        )
    )
    return physical, full


def _watermark_delay(value: str | float | pd.Timedelta | None) -> int:
    """Return the ``watermark_delay`` of from_pandas in nanoseconds (0 for None)."""
    if value is None:
        return 0
    try:
        delay = parse_duration(value)
    except (ValueError, TypeError, OverflowError) as error:
        raise ValidationError(
            f"invalid watermark_delay {value!r}: {error}",
            hint="give a duration such as '5 s', a number of seconds, or a pd.Timedelta",
        ) from None
    if delay < 0:
        raise ValidationError(
            f"invalid watermark_delay {value!r}: the delay cannot be negative",
            hint="give 0 or a positive duration, such as '5 s'",
        )
    return delay


def _override_table_options(
    items: Sequence[Statement | SqlSyntaxError], table_options: Mapping[str, Mapping[str, str]]
) -> None:
    """Replace or add WITH options in the CREATE TABLE statements of ``items``, in place.

    Table names match exactly first, then ignoring case, as identifiers do. The
    statement's text gains a comment with the new options, which SHOW CREATE
    TABLE shows.
    """
    created: dict[str, Statement] = {}
    for item in items:
        if isinstance(item, Statement) and item.kind == "create_table":
            assert isinstance(item.node, exp.Create)
            schema_node = item.node.this
            name_node = schema_node.this if isinstance(schema_node, exp.Schema) else schema_node
            created.setdefault(name_node.name, item)
    for table, options in table_options.items():
        statement = created.get(table)
        if statement is None:
            matches = [name for name in created if name.lower() == table.lower()]
            statement = created[matches[0]] if len(matches) == 1 else None
        if statement is None:
            names = ", ".join(repr(name) for name in created) or "none"
            close = difflib.get_close_matches(table, list(created), n=1, cutoff=0.6)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise ValidationError(
                f"cannot override options of table {table!r}: the script creates no such table",
                hint=f"{guess}tables the script creates: {names}",
            )
        node = statement.node
        assert isinstance(node, exp.Create)
        properties = node.args.get("properties")
        if properties is None:
            properties = exp.Properties(expressions=[])
            node.set("properties", properties)
        existing = {
            item.this.name: item
            for item in properties.expressions
            if isinstance(item, exp.Property)
            and isinstance(item.this, (exp.Literal, exp.Identifier, exp.Var))
        }
        for key, value in options.items():
            if key in existing:
                existing[key].set("value", exp.Literal.string(value))
            else:
                properties.append(
                    "expressions",
                    exp.Property(this=exp.Literal.string(key), value=exp.Literal.string(value)),
                )
        changed = ", ".join(f"'{key}' = '{value}'" for key, value in options.items())
        statement.text += f"\n-- options replaced when run: {changed}"


def _positioned(error: SettingError, statement: Statement) -> SettingError:
    """Return a setting error that marks the whole SET or RESET statement."""
    end = statement.start + len(statement.text)
    return SettingError(
        error.message,
        sql=statement.script,
        position=span(statement.script, statement.start, end),
        hint=error.hint,
    )


def _check_source_or_sink_options(table: TableDef) -> None:
    """Raise SourceError or SinkError unless the options suit a source or a sink.

    A table may be read from or written to. A 'sink.*' option shows that it
    is meant as a sink, so the sink's error is the one raised then.
    """
    if table.options["connector"] not in known_connectors():
        validate_sink_options(table.options)
        return
    try:
        validate_source_options(table.options, table.physical)
    except SourceError as source_error:
        try:
            validate_sink_options(table.options)
        except SinkError as sink_error:
            # The sink's complaint is the relevant one when the table uses sink
            # options, or when the source does not even know one of its options.
            is_sink = table.options["connector"] in known_sink_connectors()
            sink_takes_options = is_sink and not str(sink_error).startswith("unknown option")
            source_lacks_option = str(source_error).startswith("unknown option")
            if any(key.startswith("sink.") for key in table.options) or (
                source_lacks_option and sink_takes_options
            ):
                raise sink_error from None
            raise source_error from None


def _option_error_position(
    statement: Statement, options: Mapping[str, str], message: str
) -> Position | None:
    """Return the position of the option an option error names: its key or its value."""
    assert isinstance(statement.node, exp.Create)
    if message.startswith("missing option"):
        return option_position(statement.script, statement.node, None)
    for key, value in options.items():
        if f"invalid value {value!r} for option '{key}'" in message:
            return option_position(statement.script, statement.node, key, value=True)
    for key in options:
        if f"'{key}'" in message:
            return option_position(statement.script, statement.node, key)
    for key, value in options.items():
        if repr(value) in message:
            return option_position(statement.script, statement.node, key, value=True)
    return option_position(statement.script, statement.node, None)


__all__ = ["FailedStatement", "Result", "Session", "WorkbenchError"]


#: Sinks that take an updating query's changelog: printing and discarding take
#: any row, and a database table with a primary key upserts by that key.
_CHANGELOG_SINKS = frozenset({"print", "blackhole"})
_UPSERT_SINKS = frozenset({"duckdb", "sqlite"})


def _takes_updates(sink: TableDef) -> bool:
    if sink.connector in _CHANGELOG_SINKS:
        return True
    return sink.connector in _UPSERT_SINKS and bool(sink.primary_key)


def _append_only_hint(sink: TableDef) -> str:
    windows = "aggregate per window (TUMBLE, HOP, CUMULATE, SESSION) so each result is final"
    if sink.connector in _UPSERT_SINKS:
        return (
            f"declare the key of the results as PRIMARY KEY (...) NOT ENFORCED in the "
            f"CREATE TABLE of {sink.name!r} to upsert rows by it, or {windows}"
        )
    return windows

"""The notebook's session: one Session per kernel, its current replay, and the live views.

The magics call :class:`NotebookSession`; it keeps no IPython state, so the
same steps can be driven from Python and tested without a kernel.

Queries of a ``%%cep`` cell join the current replay at its current
position when one is under way (see :meth:`workbench.runner.Replay.add`),
and otherwise wait for the next ``%cep replay``. A realtime replay runs as a
task on the kernel's asyncio loop, so the kernel stays free for the next
cell (``%cep pause``) while rows flow.

A query on a live table starts at once in the background: it joins the
session's running live run (see :meth:`workbench.live.LiveRun.add`) or
starts a new one. The live run's thread schedules each view refresh on the
kernel's loop, so widgets are only touched on the kernel's thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, MutableMapping
from html import escape
from typing import Any

import pandas as pd

from workbench.errors import WorkbenchError
from workbench.live import LiveRun
from workbench.notebook.arguments import COMMANDS, CellOptions, Command, FuzzRequest
from workbench.notebook.display import Message
from workbench.notebook.literals import substitute
from workbench.notebook.views import (
    LiveView,
    RefreshPacer,
    ViewContext,
    view_kinds,
    watermark_text,
)
from workbench.results import QueryResult
from workbench.runner import Replay
from workbench.session import Session
from workbench.sources import ReplayStatus

__all__ = ["CommandError", "NotebookSession", "help_text", "run_command"]

logger = logging.getLogger(__name__)


class CommandError(Exception):
    """A ``%cep`` command cannot run in the current state; the message names the next step."""


class NotebookSession:
    """The Session of a kernel with its current replay, live views and display settings."""

    def __init__(self, session: Session | None = None) -> None:
        self._reset(session if session is not None else Session())

    def _reset(self, session: Session) -> None:
        self.session = session
        self.replay: Replay | None = None
        self.task: asyncio.Task[None] | None = None
        self.display_rows = 10
        self.refresh_rate = 2.0
        self.pacer = RefreshPacer(lambda: self.refresh_rate)
        self.views: dict[str, list[LiveView]] = {}
        #: The query each notebook cell defined, so that running a cell again replaces it.
        self.cell_queries: dict[str, str] = {}
        self.context = ViewContext(lambda: self.display_rows, self.replay_status)
        #: The live run that the notebook's live queries joined, once one started.
        self.live_run: LiveRun | None = None
        self._live_refresh: LiveRefresh | None = None

    # Cells -------------------------------------------------------------------------------

    def run_cell(
        self,
        text: str,
        options: CellOptions,
        namespace: MutableMapping[str, Any],
        cell_id: str | None = None,
    ) -> Any:
        """Run the SQL statements of a cell; return what the cell displays.

        The last query of the cell is displayed as a :class:`LiveView`; other
        queries of the cell run too and are listed by ``%cep queries``.
        """
        sql = substitute(text, namespace, time_zone=self.session.settings.time_zone)
        if not sql.strip():
            raise CommandError("the cell has no SQL statements")
        if options.adhoc:
            frame = self.session.adhoc(sql)
            if options.output is not None:
                namespace[options.output] = frame
            return frame
        name = options.name or (self.cell_queries.get(cell_id) if cell_id else None)
        if not options.execute:
            # The query is planned only, so it must not replace a query of that name.
            name = None
        kinds = ("table", *(kind for kind in options.views if kind != "table"))
        unknown = [kind for kind in kinds if kind not in view_kinds()]
        if unknown:
            raise CommandError(
                f"unknown view kind {unknown[0]!r}; available: {', '.join(view_kinds())}"
            )
        before = dict(self.session.queries)
        try:
            results = self.session.execute(sql, name=name, defer=True)
            shown = self._start(results, options, kinds, before)
        except BaseException:
            for added in set(self.session.queries) - set(before):
                self.session.drop_query(added)
            raise
        last = results[-1] if results else None
        if options.output is not None:
            namespace[options.output] = last
        if cell_id and isinstance(last, QueryResult):
            self.cell_queries[cell_id] = last.name
        return shown

    def _start(
        self,
        results: list[Any],
        options: CellOptions,
        kinds: tuple[str, ...],
        before: dict[str, QueryResult],
    ) -> Any:
        """Add the cell's queries to the replay (or leave them waiting); return the display."""
        queries = [result for result in results if isinstance(result, QueryResult)]
        last = results[-1] if results else None
        notes: list[str] = []
        if options.save is not None:
            notes.append(self._save(last, options.save))
        if not options.execute:
            if isinstance(last, QueryResult):
                self.session.drop_query(last.name)
                queries.remove(last)
                notes.append("not run (--no-execute); its plan:\n" + last.explain())
            return Message("\n".join(notes) or "nothing to run (--no-execute)")
        message = ""
        for query in queries:
            message = self._join(query, before.get(query.name))
        if isinstance(last, QueryResult):
            return self._view(last, kinds, " ".join([*notes, message]).strip())
        if notes:
            return Message("\n".join(notes))
        return last

    def _save(self, last: Any, view: str) -> str:
        if not isinstance(last, QueryResult) or last.sink is not None:
            raise CommandError("--save needs a cell whose last statement is a SELECT")
        self.session.sql(f"CREATE OR REPLACE VIEW `{view}` AS {last.sql}")
        return f"saved the query as view {view!r}."

    def _join(self, query: QueryResult, old: QueryResult | None) -> str:
        """Put a new query into the replay or the live run; return a message on how it joined."""
        replay = self.replay
        active = replay is not None and not replay.ended
        if old is not None:
            self._close_views(old.name)
        if query.unbounded:
            if old is not None and active and replay is not None and old in replay.results:
                replay.drop(old.name)
            return self._join_live(query, old)
        if old is not None and old.live_run is not None:
            old.live_run.drop(old.name)
        if old is not None and active and replay is not None and old in replay.results:
            kept = replay.replace(query.name, query)
            if kept:
                return f"replaced query {query.name}: state kept, because the plan is unchanged."
            return (
                f"replaced query {query.name}: state discarded, because the plan changed; "
                "it starts at the current position."
            )
        if old is not None and old.status in ("running", "planned"):
            old.status = "stopped"
        prefix = f"replaced query {query.name}. " if old is not None else ""
        if active and replay is not None:
            replay.add(query)
            status = replay.status()
            position = sum(status.rows.values()) if status is not None else 0
            return (
                prefix + f"added at the current position ({position:,} rows replayed): "
                "it sees the rows from now on."
            )
        return prefix.strip()

    def _join_live(self, query: QueryResult, old: QueryResult | None) -> str:
        """Start a query on live tables, joining the running live run; return how it joined."""
        run = old.live_run if old is not None and old.live_run is not None else self._running_live()
        if old is not None and run is not None and old in run.results and run.running:
            kept = run.replace(query.name, query)
            if kept:
                return f"replaced query {query.name}: state kept, because the plan is unchanged."
            return (
                f"replaced query {query.name}: state discarded, because the plan changed; "
                "it starts at the current position of the live feed."
            )
        if old is not None and old.status in ("running", "planned"):
            old.status = "stopped"
        prefix = f"replaced query {query.name}. " if old is not None else ""
        if run is not None:
            run.add(query)
            self._watch(run)
            return prefix + (
                "joined the running live feed: it sees the messages from now on. "
                f"%cep stop {query.name} ends it."
            )
        run = self.session.start([query])
        self._watch(run)
        return (
            prefix + f"started on the live feed in the background: %cep stop {query.name} ends it."
        )

    def _running_live(self) -> LiveRun | None:
        """Return the running live run to join: the notebook's own, else the session's newest."""
        if self.live_run is not None and self.live_run.running:
            return self.live_run
        for run in reversed(self.session.live_runs):
            if run.running:
                return run
        return None

    def _watch(self, run: LiveRun) -> None:
        """Refresh the views after the deliveries of ``run``, on the kernel's asyncio loop."""
        self.live_run = run
        refresh = self._live_refresh
        if refresh is None or refresh.run is not run:
            if refresh is not None:
                refresh.detach()
            self._live_refresh = LiveRefresh(run, self.pacer.touch)

    def _view(self, result: QueryResult, kinds: tuple[str, ...], message: str) -> LiveView:
        view = LiveView(result, self.context, kinds, message)
        self.views.setdefault(result.name, []).append(view)
        self.pacer.add(view)
        return view

    def _close_views(self, name: str) -> None:
        for view in self.views.pop(name, []):
            view.close()
            self.pacer.remove(view)

    # Replay control ---------------------------------------------------------------------

    def replay_status(self) -> ReplayStatus | None:
        return self.replay.status() if self.replay is not None else None

    def _active(self) -> Replay:
        if self.replay is None:
            raise CommandError("no replay yet: start one with %cep replay")
        return self.replay

    def _task_running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start_replay(self, mode: str | None, speed: float | None) -> Message:
        """Start a replay of the waiting queries, or switch the current one to ``mode``."""
        if mode is None:
            setting = self.session.settings["workbench.replay.speed"]
            mode, speed = (
                (setting, None) if setting in ("max", "step") else ("realtime", float(setting))
            )
        replay = self.replay
        if replay is None or replay.ended:
            pending = [q for q in self.session.queries.values() if q.status == "planned"]
            if not pending:
                raise CommandError(
                    "no queries wait for a replay: define one in a %%cep cell, "
                    "or replay the last one again with %cep restart"
                )
            replay = self.session.replay(
                pending, mode=mode, speed=speed or 1.0, progress=mode == "max"
            )
            replay.add_listener(self.pacer.touch)
            self.replay = replay
        if mode == "step":
            self._halt()
            replay.set_mode("step")
            self.pacer.flush()
            return self._status_message("the replay moves with %cep step N.")
        if mode == "max":
            return self._run_to_end(replay)
        assert speed is not None
        replay.set_speed(speed)
        return self._play(replay, f"replaying at {speed:g} times real time.")

    def _run_to_end(self, replay: Replay) -> Message:
        """Run the rest of the replay synchronously, as fast as possible."""
        self._halt()
        replay.set_mode("max")
        replay.run()
        self.pacer.flush()
        return self._status_message("replayed to the end.")

    def _play(self, replay: Replay, text: str) -> Message:
        """Run a realtime replay as a task on the running loop, so the kernel stays free."""
        if self._task_running():
            replay.resume()
            return self._status_message(text)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise CommandError(
                "a realtime replay needs the asyncio loop of a Jupyter kernel; "
                "use %cep replay --max or %cep step N here"
            ) from None
        self.task = loop.create_task(self._run_async(replay))
        self.task.add_done_callback(self._task_done)
        return self._status_message(text + " %cep pause stops it.")

    async def _run_async(self, replay: Replay) -> None:
        try:
            await replay.run_async()
        finally:
            self.pacer.flush()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error("the replay failed", exc_info=error)

    def _halt(self) -> None:
        """Stop the background task of a realtime replay, if one runs."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None
        if self.replay is not None:
            self.replay.pause()

    def pause(self) -> Message:
        replay = self._active()
        replay.pause()
        self.pacer.flush()
        return self._status_message("paused: %cep resume, %cep step N or %cep replay go on.")

    def resume(self) -> Message:
        replay = self._active()
        status = replay.status()
        if replay.ended or status is None:
            raise CommandError("the replay has ended: %cep restart replays it again")
        if status.mode == "step":
            raise CommandError(
                "a stepped replay moves with %cep step N; %cep replay --speed X or --max runs it"
            )
        if status.mode == "max":
            return self._run_to_end(replay)
        return self._play(replay, "resumed.")

    def step(self, rows: int) -> Message:
        replay = self.replay
        if replay is None or replay.ended:
            self.start_replay("step", None)
            replay = self._active()
        status = replay.status()
        if status is not None and status.state == "running":
            raise CommandError("the replay is running: %cep pause it first")
        delivered = replay.step(rows)
        self.pacer.flush()
        return self._status_message(f"delivered {delivered:,} rows.")

    def restart(self) -> Message:
        replay = self._active()
        status = replay.status()
        playing = self._task_running() and status is not None and status.state == "running"
        self._halt()
        replay.restart()
        self.pacer.flush()
        if playing and status is not None and status.mode == "realtime":
            return self._play(replay, "restarted from the start.")
        return self._status_message(
            "restarted from the start: %cep step N, %cep resume or %cep replay go on."
        )

    # Queries ----------------------------------------------------------------------------

    def query(self, name: str) -> QueryResult:
        found = self.session.queries.get(name)
        if found is None:
            known = ", ".join(self.session.queries) or "none"
            raise CommandError(f"query {name!r} not found; queries: {known}")
        return found

    def stop(self, name: str) -> Message:
        """Stop query ``name``; the other queries go on and its rows stay readable."""
        result = self.query(name)
        if self.replay is not None and result in self.replay.results:
            self.replay.drop(name)
        elif result.live_run is not None:
            result.live_run.drop(name)
        elif result.status in ("planned", "running"):
            result.status = "stopped"
        self.pacer.flush()
        return Message(f"stopped query {name}.")

    def drop(self, name: str) -> Message:
        """Stop query ``name`` and remove it from the session."""
        self.stop(name)
        self.session.drop_query(name)
        self._close_views(name)
        for cell, query in list(self.cell_queries.items()):
            if query == name:
                del self.cell_queries[cell]
        return Message(f"dropped query {name}.")

    def queries(self) -> pd.DataFrame:
        """Return one row per query: name, status, rows out, late rows, watermark, SQL."""
        rows = []
        for result in self.session.queries.values():
            collector = result.collector
            late = (
                sum(operator.metrics.late for operator in result.pipeline.operators)
                if result.pipeline is not None
                else 0
            )
            rows.append(
                {
                    "name": result.name,
                    "status": result.status,
                    "rows_out": collector.rows if collector is not None else 0,
                    "late": late,
                    "watermark": watermark_text(result),
                    "sql": " ".join(result.sql.split()),
                }
            )
        columns = ["name", "status", "rows_out", "late", "watermark", "sql"]
        return pd.DataFrame(rows, columns=columns)

    def dashboard(self, name: str | None) -> Any:
        """Show every registered view of a query (the last one defined by default)."""
        charts = [kind for kind in view_kinds() if kind != "table"]
        if not charts:
            return Message(
                "no charts are available: workbench.viz registers no notebook views yet, "
                "so a query shows its table only."
            )
        if name is None:
            if not self.session.queries:
                raise CommandError("no queries yet: define one in a %%cep cell")
            name = list(self.session.queries)[-1]
        return self._view(self.query(name), tuple(view_kinds()), "")

    def status(self) -> Message:
        return self._status_message("")

    def _status_message(self, text: str) -> Message:
        lines = [text] if text else []
        status = self.replay_status()
        live = self._live_status()
        if status is None:
            if live is None:
                lines.append("no replay yet.")
                return Message("\n".join(lines))
            summary, sources = live
            lines.append(summary)
            html = "".join(f"<div>{escape(line)}</div>" for line in lines)
            return Message(
                "\n".join([*lines, sources.to_string(index=False)]),
                html=html + sources.to_html(index=False, border=0),
            )
        ended = set(status.ended)
        frame = pd.DataFrame(
            {
                "table": list(status.rows),
                "rows": list(status.rows.values()),
                "event_time": [status.event_time[name] for name in status.rows],
                "ended": [name in ended for name in status.rows],
            }
        )
        summary = (
            f"replay {status.state} · mode {status.mode}"
            + (f" at {status.speed:g}x" if status.mode == "realtime" else "")
            + f" · {sum(status.rows.values()):,} rows · {status.elapsed:.1f} s"
        )
        lines.append(summary)
        html = "".join(f"<div>{escape(line)}</div>" for line in lines)
        texts = [*lines, frame.to_string(index=False)]
        html += frame.to_html(index=False, border=0)
        if live is not None:
            summary, sources = live
            texts.extend([summary, sources.to_string(index=False)])
            html += f"<div>{escape(summary)}</div>" + sources.to_html(index=False, border=0)
        return Message("\n".join(texts), html=html)

    def _live_status(self) -> tuple[str, pd.DataFrame] | None:
        """Return a summary line and the sources' counters of the notebook's live run."""
        run = self.live_run
        if run is None:
            return None
        metrics = run.source_metrics()
        columns = ["source", "connector", "messages", "rows", "rejected", "backlog", "dropped"]
        sources = metrics[columns] if len(metrics) else pd.DataFrame(columns=columns)
        state = "running" if run.running else "stopped"
        names = ", ".join(result.name for result in run.results) or "none"
        return f"live run {state} · queries {names}", sources

    # Lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the replay task and the notebook's live run, and close every view."""
        self._halt()
        if self._live_refresh is not None:
            self._live_refresh.detach()
            self._live_refresh = None
        if self.live_run is not None:
            self.live_run.stop()
        for name in list(self.views):
            self._close_views(name)

    def use(self, session: Session) -> None:
        """Close the replay and the views, then run cells in ``session``."""
        self.close()
        self._reset(session)


class LiveRefresh:
    """Forwards the deliveries of a live run's thread to ``touch`` on the kernel's asyncio loop.

    At most one call waits on the loop at a time, so a fast feed does not
    flood it. Without a running loop (a terminal, a test) nothing is
    forwarded, and the views refresh after each command.
    """

    def __init__(self, run: LiveRun, touch: Callable[[], None]) -> None:
        self.run = run
        self.touch = touch
        self._pending = False
        self._guard = threading.Lock()
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        if self.loop is not None:
            run.job.listeners.append(self.notify)

    def notify(self) -> None:
        """Ask the loop to refresh the views; called on the live run's thread."""
        assert self.loop is not None
        with self._guard:
            if self._pending:
                return
            self._pending = True
        try:
            self.loop.call_soon_threadsafe(self._refresh)
        except RuntimeError:  # the kernel's loop has closed
            self.detach()

    def _refresh(self) -> None:
        with self._guard:
            self._pending = False
        self.touch()

    def detach(self) -> None:
        """Stop forwarding the run's deliveries."""
        if self.notify in self.run.job.listeners:
            self.run.job.listeners.remove(self.notify)


def help_text() -> str:
    lines = [
        "%%cep [NAME] [--save VIEW] [--no-execute] [-o VAR] [--view KIND]",
        "    run the SQL statements of the cell; the last query is shown live.",
        "    {variable} substitutes a Python value as an SQL literal; {{ is a brace.",
        "",
        "%cep COMMAND:",
    ]
    lines.extend(f"  {name:<10} {text}" for name, text in COMMANDS.items())
    lines.append("")
    lines.append("Settings: %config CepMagic.display_rows = 20, %config CepMagic.refresh_rate = 2")
    return "\n".join(lines)


def run_command(controller: NotebookSession, command: Command) -> Any:
    """Run a parsed ``%cep`` line command; return what to display."""
    action = command.action
    if action == "replay":
        return controller.start_replay(command.mode, command.speed)
    if action == "step":
        return controller.step(command.rows)
    if action in ("pause", "resume", "restart", "status"):
        return getattr(controller, action)()
    if action == "queries":
        return controller.queries()
    if action == "dashboard":
        return controller.dashboard(command.name)
    if action == "help":
        return Message(help_text())
    assert command.name is not None
    if action == "stop":
        return controller.stop(command.name)
    if action == "drop":
        return controller.drop(command.name)
    result = controller.query(command.name)
    if action == "explain":
        return Message(f"plan of query {command.name}:\n{result.explain()}")
    if action == "automaton":
        return result.automaton()
    if action == "fuzz":
        return fuzz_query(controller, result, command.fuzz)
    raise CommandError(f"unknown command {action!r}")


def fuzz_query(
    controller: NotebookSession, result: QueryResult, request: FuzzRequest | None
) -> Any:
    """Run ``%cep fuzz``: Session.fuzz on a query of the notebook's session.

    Returns the FuzzResult, which displays as the stream found, the query and its output.
    """
    request = request or FuzzRequest()
    against = controller.query(request.against) if request.against else None
    try:
        return controller.session.fuzz(
            result,
            mode=request.mode,
            holds=request.holds,
            given=request.given,
            against=against,
            max_examples=request.max_examples,
            max_rows=request.max_rows,
            seed=request.seed,
        )
    except WorkbenchError as error:
        raise CommandError(f"%cep fuzz {result.name}: {error}") from None

"""Replay controls: play, pause, step, speed, restart and a watermark-delay slider (ipywidgets).

The controls drive either the notebook's session (``workbench.notebook.
controller()``, so the live views of ``%%cep`` cells refresh as usual) or a
:class:`~workbench.runner.Replay` from ``Session.replay``. Moving the
watermark-delay slider plans the replay's queries again with the new
delay and replays from the start. The replay then returns to the position
it had (or runs to the end, or plays on), so the same rows are shown under
the new watermark: with a shorter delay some of them become late.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any, Protocol

import ipywidgets as widgets
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.events.time import NS_PER_SECOND, interval_literal, parse_duration
from workbench.runner import Replay
from workbench.sql import plan as p
from workbench.viz.base import LiveChart

__all__ = ["ReplayControls", "ReplayTarget", "watermark_delay", "with_watermark_delay"]

logger = logging.getLogger(__name__)


class ReplayTarget(Protocol):
    """The replay commands the controls call, as the notebook's session controller provides them."""

    @property
    def replay(self) -> Replay | None: ...

    def start_replay(self, mode: str | None, speed: float | None) -> Any: ...

    def pause(self) -> Any: ...

    def step(self, rows: int) -> Any: ...

    def restart(self) -> Any: ...


class DirectTarget:
    """Drives a :class:`Replay` from ``Session.replay`` without the notebook's magics.

    A realtime replay runs as a task on the running asyncio loop (a Jupyter
    kernel has one). ``charts`` are refreshed after every command.
    """

    def __init__(self, replay: Replay, charts: Sequence[LiveChart] = ()) -> None:
        self._replay = replay
        self.charts = list(charts)
        self.task: asyncio.Task[None] | None = None
        replay.add_listener(self._refresh)

    @property
    def replay(self) -> Replay | None:
        return self._replay

    def _refresh(self) -> None:
        for chart in self.charts:
            chart.update()

    def _halt(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None
        self._replay.pause()

    def start_replay(self, mode: str | None, speed: float | None) -> str:
        replay = self._replay
        if mode == "max":
            self._halt()
            replay.set_mode("max")
            replay.run()
            self._refresh()
            return "replayed to the end."
        if mode == "step":
            self._halt()
            replay.set_mode("step")
            return "the replay moves with step."
        replay.set_speed(speed or 1.0)
        if self.task is not None and not self.task.done():
            replay.resume()
            return f"replaying at {speed or 1.0:g} times real time."
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(replay.run_async())
        return f"replaying at {speed or 1.0:g} times real time."

    def pause(self) -> str:
        self._replay.pause()
        self._refresh()
        return "paused."

    def step(self, rows: int) -> str:
        delivered = self._replay.step(rows)
        self._refresh()
        return f"delivered {delivered:,} rows."

    def restart(self) -> str:
        status = self._replay.status()
        playing = status is not None and status.state == "running" and status.mode == "realtime"
        self._halt()
        self._replay.restart()
        self._refresh()
        if playing and status is not None:
            return str(self.start_replay("realtime", status.speed))
        return "restarted from the start."


# Watermark delay -------------------------------------------------------------------------


def watermark_delay(replay: Replay) -> int | None:
    """Return the watermark delay (ns) of the first table with a watermark that the replay reads."""
    for result in replay.results:
        plan = replay.job.plans.get(result.name, result.plan)
        if plan is None:
            continue
        for node in p.walk(plan):
            if isinstance(node, p.Scan) and node.watermark is not None:
                return node.watermark.delay_ns
    return None


def with_watermark_delay(
    replay: Replay,
    delay: str | float | pd.Timedelta,
    tables: Iterable[str] | None = None,
    *,
    restart: bool = True,
) -> int:
    """Plan the replay's queries again with a new watermark delay; return it in nanoseconds.

    ``delay`` is a duration ('5 s', a number of seconds, a Timedelta).
    ``tables`` limits the change to those tables (default: every table with
    a watermark). With ``restart`` the replay then starts again from the
    first row with empty state, as :meth:`Replay.restart` does.
    """
    delay_ns = parse_duration(delay)
    if delay_ns < 0:
        raise ValueError(f"invalid watermark delay {delay!r}: the delay cannot be negative")
    names = set(tables) if tables is not None else None
    job = replay.job
    for result in replay.results:
        plan = job.plans.get(result.name, result.plan)
        if plan is None:
            continue
        changed = _with_delay(plan, delay_ns, names)
        job.plans[result.name] = changed
        result.plan = changed
    if restart:
        replay.restart()
    return delay_ns


def _with_delay(node: p.PlanNode, delay_ns: int, tables: set[str] | None) -> p.PlanNode:
    """Return ``node`` with the watermark delay of its scans replaced (plan nodes are frozen)."""
    if isinstance(node, p.Scan):
        spec = node.watermark
        if spec is None or (tables is not None and node.table not in tables):
            return node
        text = f"{spec.column} - {interval_literal(delay_ns)}"
        return dataclasses.replace(
            node, watermark=dataclasses.replace(spec, delay_ns=delay_ns, text=text)
        )
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(value, p.PlanNode):
            changes[field.name] = _with_delay(value, delay_ns, tables)
        elif isinstance(value, tuple) and value and all(isinstance(v, p.PlanNode) for v in value):
            changes[field.name] = tuple(_with_delay(v, delay_ns, tables) for v in value)
    return dataclasses.replace(node, **changes) if changes else node


# The widget ---------------------------------------------------------------------------------


class ReplayControls:
    """Play, pause, step, speed, restart and watermark-delay widgets for a replay.

    ``target`` is the notebook's controller (``workbench.notebook.controller()``)
    or a :class:`Replay`; ``charts`` are refreshed after each command when
    ``target`` is a Replay. ``max_delay`` is the slider's upper end in seconds.
    """

    def __init__(
        self,
        target: ReplayTarget | Replay,
        charts: Sequence[LiveChart] = (),
        *,
        speed: float = 60.0,
        step_rows: int = 100,
        max_delay: float = 120.0,
    ) -> None:
        self.target: ReplayTarget = (
            DirectTarget(target, charts) if isinstance(target, Replay) else target
        )
        self.play_button = widgets.Button(description="play", icon="play", tooltip="play")
        self.pause_button = widgets.Button(description="pause", icon="pause", tooltip="pause")
        self.step_button = widgets.Button(description="step", icon="step-forward")
        self.restart_button = widgets.Button(description="restart", icon="refresh")
        self.step_rows = widgets.BoundedIntText(
            value=step_rows, min=1, max=10_000_000, description="rows", layout={"width": "150px"}
        )
        self.speed = widgets.FloatLogSlider(
            value=speed,
            base=10,
            min=-1,
            max=4,
            step=0.1,
            description="speed ×",
            continuous_update=False,
        )
        current = self._current_delay()
        self.delay = widgets.FloatSlider(
            value=min(current, max_delay) if current is not None else 0.0,
            min=0.0,
            max=max(max_delay, current or 0.0),
            step=1.0,
            description="watermark delay (s)",
            continuous_update=False,
            style={"description_width": "initial"},
            layout={"width": "420px"},
        )
        self._applied_delay = self.delay.value
        self.status = widgets.HTML()
        self.play_button.on_click(self._on_play)
        self.pause_button.on_click(self._on_pause)
        self.step_button.on_click(self._on_step)
        self.restart_button.on_click(self._on_restart)
        self.speed.observe(self._on_speed, names="value")
        self.delay.observe(self._on_delay, names="value")
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [
                        self.play_button,
                        self.pause_button,
                        self.step_button,
                        self.step_rows,
                        self.restart_button,
                    ]
                ),
                widgets.HBox([self.speed, self.delay]),
                self.status,
            ]
        )
        self.show("")

    def _current_delay(self) -> float | None:
        replay = self.target.replay
        delay = watermark_delay(replay) if replay is not None else None
        return delay / NS_PER_SECOND if delay is not None else None

    # Commands --------------------------------------------------------------------------

    def play(self) -> None:
        self._run(lambda: self.target.start_replay("realtime", float(self.speed.value)))

    def pause(self) -> None:
        self._run(self.target.pause)

    def step(self, rows: int | None = None) -> None:
        count = int(rows if rows is not None else self.step_rows.value)
        self._run(lambda: self.target.step(count))

    def restart(self) -> None:
        self._run(self.target.restart)

    def set_speed(self, speed: float) -> None:
        """Change the pace; a replay that plays goes on at the new speed."""
        replay = self.target.replay
        status = replay.status() if replay is not None else None
        if status is not None and status.state == "running" and status.mode == "realtime":
            self._run(lambda: self.target.start_replay("realtime", speed))

    def set_watermark_delay(self, seconds: float) -> None:
        """Replay again with a new watermark delay, back to the position the replay had."""
        if seconds == self._applied_delay:
            # ipywidgets may report one change more than once.
            return
        replay = self.target.replay
        if replay is None:
            self.show("no replay yet: start one first")
            return
        self._applied_delay = seconds
        status = replay.status()
        position = sum(status.rows.values()) if status is not None else 0
        state = status.state if status is not None else "ready"
        playing = state == "running" and status is not None and status.mode == "realtime"

        def rerun() -> Any:
            with_watermark_delay(replay, seconds, restart=False)
            message = self.target.restart()
            if playing:
                return message
            if state == "ended":
                return self.target.start_replay("max", None)
            if position:
                return self.target.step(position)
            return message

        self._run(rerun, f"watermark delay {seconds:g} s: ")

    def _run(self, command: Any, prefix: str = "") -> None:
        try:
            message = command()
        except (WorkbenchError, ValueError, RuntimeError) as error:
            self.show(prefix + str(error), error=True)
            return
        except Exception as error:
            # A failing command must not break the widget; a CommandError lands here too.
            logger.debug("replay command failed", exc_info=True)
            self.show(prefix + str(error), error=True)
            return
        self.show(prefix + _text(message))

    def show(self, text: str, *, error: bool = False) -> None:
        replay = self.target.replay
        status = replay.status() if replay is not None else None
        line = "no replay yet"
        if status is not None:
            line = (
                f"replay {status.state} · mode {status.mode} · "
                f"{sum(status.rows.values()):,} rows · {status.elapsed:.1f} s"
            )
        colour = "#c62828" if error else "#555"
        first = text.splitlines()[0] if text else ""
        self.status.value = f"<div style='font-size:smaller;color:#555'>{escape(line)}</div>" + (
            f"<div style='color:{colour}'>{escape(first)}</div>" if first else ""
        )

    # Widget callbacks --------------------------------------------------------------------

    def _on_play(self, _button: Any) -> None:
        self.play()

    def _on_pause(self, _button: Any) -> None:
        self.pause()

    def _on_step(self, _button: Any) -> None:
        self.step()

    def _on_restart(self, _button: Any) -> None:
        self.restart()

    def _on_speed(self, change: Any) -> None:
        self.set_speed(float(change["new"]))

    def _on_delay(self, change: Any) -> None:
        self.set_watermark_delay(float(change["new"]))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": "<ReplayControls>"}
        bundle.update(self.widget._repr_mimebundle_(**kwargs) or {})
        return bundle


def _text(message: Any) -> str:
    if message is None:
        return ""
    return str(getattr(message, "text", message))

"""Record what a chart's widget would send to the browser, without a browser."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from workbench.viz.base import LiveChart


@dataclass
class Sent:
    """The document patches a widget sent: one entry per patch, with its events."""

    messages: int = 0
    patches: list[list[dict[str, Any]]] = field(default_factory=list)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        found = [event for patch in self.patches for event in patch]
        return [event for event in found if kind is None or event["kind"] == kind]

    def clear(self) -> None:
        self.messages = 0
        self.patches.clear()


def spy(chart: LiveChart) -> Sent:
    """Replace the widget's ``send`` with a recorder; return the record.

    jupyter_bokeh sends each document patch as a header, metadata and
    content message (then two messages per binary buffer); the content holds
    the events (ColumnsStreamed, ColumnsPatched, ModelChanged, ...).
    """
    sent = Sent()
    widget = chart.widget
    original = widget.send
    pending: list[str] = []

    def record(content: dict[str, Any], buffers: Any = None) -> None:
        sent.messages += 1
        payload = content.get("payload")
        if isinstance(payload, str):
            pending.append(payload)
            if len(pending) >= 3 and '"msgtype": "PATCH-DOC"' in pending[-3]:
                body = json.loads(pending[-1])
                sent.patches.append(body.get("events", []))
        original(content, buffers)

    widget.send = record
    return sent

"""The automaton of a pattern as data and as a drawing (SVG or Graphviz DOT text)."""

from __future__ import annotations

import html
import math
from collections import deque
from dataclasses import dataclass

import pandas as pd

from workbench.runtime.match.program import (
    AutomatonState,
    AutomatonTransition,
    Program,
    automaton,
)

_RADIUS = 22
_COLUMN = 130
_ROW = 80
_MARGIN = 40


@dataclass
class Automaton:
    """States and transitions of a MATCH_RECOGNIZE pattern.

    State ``start`` is before any row; every other state is named after the
    variable of the row just mapped (``B#2`` for the second place B appears in
    the pattern). A transition maps the next row to its variable; transitions
    out of a state are numbered in preferment order (1 is tried first).
    ``active`` names states that partial matches are in, to highlight them.
    """

    pattern: str
    state_list: list[AutomatonState]
    transition_list: list[AutomatonTransition]
    active: frozenset[str] = frozenset()

    @classmethod
    def of(cls, program: Program, pattern: str) -> Automaton:
        states, transitions = automaton(program)
        return cls(pattern, states, transitions)

    @property
    def states(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "state": state.name,
                    "variable": state.variable,
                    "accepting": state.accepting,
                    "accepting_at_end": state.accepting_at_end,
                    "excluded": state.excluded,
                    "active": state.name in self.active,
                }
                for state in self.state_list
            ],
            columns=["state", "variable", "accepting", "accepting_at_end", "excluded", "active"],
        )

    @property
    def transitions(self) -> pd.DataFrame:
        names = {state.id: state.name for state in self.state_list}
        return pd.DataFrame(
            [
                {
                    "source": names[transition.source],
                    "target": names[transition.target],
                    "variable": transition.variable,
                    "preference": transition.preference,
                }
                for transition in self.transition_list
            ],
            columns=["source", "target", "variable", "preference"],
        )

    def with_active(self, names: set[str]) -> Automaton:
        """Return the same automaton with the named states highlighted."""
        return Automaton(self.pattern, self.state_list, self.transition_list, frozenset(names))

    def to_dot(self) -> str:
        """Return the automaton in Graphviz DOT syntax."""
        lines = [
            "digraph pattern {",
            "  rankdir=LR;",
            f'  label="{_dot_escape(self.pattern)}";',
        ]
        for state in self.state_list:
            shape = "doublecircle" if state.accepting else "circle"
            style = ', style=filled, fillcolor="#ffd54f"' if state.name in self.active else ""
            lines.append(f'  "{_dot_escape(state.name)}" [shape={shape}{style}];')
        names = {state.id: state.name for state in self.state_list}
        for transition in self.transition_list:
            label = f"{transition.variable} ({transition.preference})"
            lines.append(
                f'  "{_dot_escape(names[transition.source])}" -> '
                f'"{_dot_escape(names[transition.target])}" [label="{_dot_escape(label)}"];'
            )
        lines.append("}")
        return "\n".join(lines)

    def svg(self) -> str:
        """Return a standalone SVG drawing: states left to right by distance from the start."""
        positions = self._layout()
        width = max(x for x, _ in positions.values()) + _MARGIN + _RADIUS
        height = max(y for _, y in positions.values()) + _MARGIN + _RADIUS + 20
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
            "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
            "markerHeight='7' orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' "
            "fill='#455a64'/></marker></defs>",
            f'<text x="{_MARGIN - 20}" y="18" fill="#37474f">PATTERN ({html.escape(self.pattern)})'
            "</text>",
        ]
        for transition in self.transition_list:
            parts.append(self._edge(transition, positions))
        for state in self.state_list:
            parts.append(self._node(state, positions[state.id]))
        parts.append("</svg>")
        return "\n".join(parts)

    def _repr_svg_(self) -> str:
        return self.svg()

    # Drawing -------------------------------------------------------------------------

    def _layout(self) -> dict[int, tuple[float, float]]:
        depth = {0: 0}
        queue = deque([0])
        outgoing: dict[int, list[int]] = {}
        for transition in self.transition_list:
            outgoing.setdefault(transition.source, []).append(transition.target)
        while queue:
            current = queue.popleft()
            for target in outgoing.get(current, []):
                if target not in depth:
                    depth[target] = depth[current] + 1
                    queue.append(target)
        for state in self.state_list:
            depth.setdefault(state.id, max(depth.values()) + 1)
        columns: dict[int, list[int]] = {}
        for state in self.state_list:
            columns.setdefault(depth[state.id], []).append(state.id)
        positions: dict[int, tuple[float, float]] = {}
        for column, members in columns.items():
            for row, state_id in enumerate(members):
                positions[state_id] = (
                    _MARGIN + column * _COLUMN,
                    _MARGIN + 20 + row * _ROW,
                )
        return positions

    def _node(self, state: AutomatonState, position: tuple[float, float]) -> str:
        x, y = position
        fill = (
            "#ffd54f" if state.name in self.active else ("#eceff1" if state.excluded else "white")
        )
        shapes = [
            f'<circle cx="{x}" cy="{y}" r="{_RADIUS}" fill="{fill}" stroke="#263238" '
            'stroke-width="1.5"/>'
        ]
        if state.accepting or state.accepting_at_end:
            dash = ' stroke-dasharray="3 2"' if state.accepting_at_end else ""
            shapes.append(
                f'<circle cx="{x}" cy="{y}" r="{_RADIUS - 4}" fill="none" stroke="#263238"{dash}/>'
            )
        shapes.append(
            f'<text x="{x}" y="{y + 4}" text-anchor="middle">{html.escape(state.name)}</text>'
        )
        return "<g>" + "".join(shapes) + "</g>"

    def _edge(
        self, transition: AutomatonTransition, positions: dict[int, tuple[float, float]]
    ) -> str:
        label = html.escape(f"{transition.variable} ({transition.preference})")
        x1, y1 = positions[transition.source]
        x2, y2 = positions[transition.target]
        stroke = 'stroke="#455a64" fill="none" marker-end="url(#arrow)"'
        if transition.source == transition.target:
            path = (
                f"M {x1 - 8} {y1 - _RADIUS + 2} C {x1 - 30} {y1 - 70}, {x1 + 30} {y1 - 70}, "
                f"{x1 + 8} {y1 - _RADIUS + 2}"
            )
            return (
                f'<path d="{path}" {stroke}/>'
                f'<text x="{x1}" y="{y1 - 58}" text-anchor="middle">{label}</text>'
            )
        angle = math.atan2(y2 - y1, x2 - x1)
        sx, sy = x1 + _RADIUS * math.cos(angle), y1 + _RADIUS * math.sin(angle)
        ex, ey = x2 - _RADIUS * math.cos(angle), y2 - _RADIUS * math.sin(angle)
        # Edges that go back (or stay in a column) bend, so they do not hide forward edges.
        bend = 0.0 if x2 > x1 else 40.0
        mx, my = (sx + ex) / 2, (sy + ey) / 2 - bend
        path = f"M {sx:.1f} {sy:.1f} Q {mx:.1f} {my - bend:.1f} {ex:.1f} {ey:.1f}"
        return (
            f'<path d="{path}" {stroke}/>'
            f'<text x="{mx:.1f}" y="{my - bend / 2 - 4:.1f}" text-anchor="middle">{label}</text>'
        )


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')

"""The ``%%cep`` cell magic and the ``%cep`` line commands."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Float, Integer, observe

from workbench.notebook.arguments import ArgumentError, parse_cell_line, parse_command
from workbench.notebook.controller import CommandError, NotebookSession, run_command

__all__ = ["CepMagic"]


@magics_class
class CepMagic(Magics):
    """Streaming SQL cells and replay control. ``%cep help`` lists the commands.

    Set defaults with ``%config CepMagic.display_rows = 20``.
    """

    display_rows = Integer(10, help="Rows the table view of a query shows.").tag(config=True)
    refresh_rate = Float(
        2.0, help="Maximum refreshes per second of the live views while a replay runs."
    ).tag(config=True)

    def __init__(self, shell: Any, controller: NotebookSession) -> None:
        super().__init__(shell)
        self.controller = controller
        self._cell_id: str | None = None
        self._apply_settings()
        if shell is not None:
            shell.events.register("pre_run_cell", self._pre_run_cell)

    @observe("display_rows", "refresh_rate")
    def _settings_changed(self, change: Any) -> None:
        del change
        self._apply_settings()

    def _apply_settings(self) -> None:
        if self.display_rows < 1:
            raise UsageError("CepMagic.display_rows must be at least 1")
        if not self.refresh_rate > 0:
            raise UsageError("CepMagic.refresh_rate must be above 0 refreshes per second")
        self.controller.display_rows = self.display_rows
        self.controller.refresh_rate = self.refresh_rate

    def _pre_run_cell(self, info: Any) -> None:
        # JupyterLab and Notebook 7 send the id of the cell. nbclient and the
        # terminal send none, so there every run of a cell defines a new query.
        self._cell_id = getattr(info, "cell_id", None)

    @no_var_expand
    @line_cell_magic
    def cep(self, line: str, cell: str | None = None) -> Any:
        """Run streaming SQL (``%%cep``) or control the replay (``%cep COMMAND``)."""
        try:
            if cell is None:
                return run_command(self.controller, parse_command(line))
            options = parse_cell_line(line)
            assert self.shell is not None
            return self.controller.run_cell(cell, options, self.shell.user_ns, self._cell_id)
        except (ArgumentError, CommandError) as error:
            raise UsageError(str(error)) from None

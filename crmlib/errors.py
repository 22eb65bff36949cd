"""The one error type for user mistakes, and the failure of a stage notebook.

Anything wrong with what a user supplied (a params file, a data file) raises
:class:`InputError`. The command line turns it into a one-line message and
exit code 2; a stage notebook that fails otherwise raises :class:`StageFailure`
(one line naming the stage and cell, exit code 1); everything else is a bug in
crmlib and keeps its traceback.
"""
from __future__ import annotations

__all__ = ["InputError", "StageFailure"]


class InputError(Exception):
    """A mistake in a params or data file, located as precisely as possible.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    file : str or path-like, optional
        The file the mistake is in.
    key : str, optional
        Dotted key inside a params file (``cleaning.winsorize``).
    sheet : str, optional
        Sheet of an Excel workbook.
    column : str, optional
        Column header inside a data file.
    row : int, optional
        1-based line (CSV) or row (Excel) number of the data file, as the user
        sees it in a spreadsheet or text editor.
    """

    def __init__(self, message: str, *, file=None, key=None, sheet=None, column=None, row=None):
        self.message = message
        self.file = None if file is None else str(file)
        self.key = key
        self.sheet = sheet
        self.column = column
        self.row = row
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.key:
            where.append(f"key '{self.key}'")
        if self.sheet is not None:
            where.append(f"sheet '{self.sheet}'")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class StageFailure(RuntimeError):
    """A stage notebook failed for a reason other than a user's input."""

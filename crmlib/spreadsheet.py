"""Reading Excel workbooks: cell values with calamine, and what the values alone cannot tell with openpyxl.

python-calamine reads ``.xlsx``, ``.xlsm``, ``.xls`` and ``.ods`` files several times faster than openpyxl, but
gives an empty value for three kinds of cell that must not be read as missing: an Excel error value (``#VALUE!``,
``#DIV/0!``), a formula whose result was never saved (a workbook written by a program, not by Excel) and a
formula whose saved result is an error. It also gives a percent-formatted cell as its stored fraction (0.867 for a
cell that shows 86.7%). :func:`cell_facts` reads those facts from the cells' types and number formats with
openpyxl (``.xlsx``/``.xlsm`` only; the old ``.xls`` format has no reader for them here, so an ``.xls`` file's
error cells read as empty).

An uncached formula is told apart from an empty cell by the cell's type: openpyxl reports a formula cell as type
``f`` (its formula text) whether or not a result was saved; calamine gives its saved result, which is empty when
there is none.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import python_calamine

from .errors import InputError

__all__ = ["CellFacts", "cell_facts", "sheet_names", "read_sheet", "column_letter"]

#: Workbook suffixes read by :func:`read_sheet`; :func:`cell_facts` applies to the first two.
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def column_letter(position: int) -> str:
    """Excel's letter of a 0-based column position (0 -> A, 27 -> AB)."""
    return openpyxl.utils.get_column_letter(position + 1)


def _text(value) -> str:
    """A cell value as the text a CSV export would hold. Whole numbers lose their ``.0``; from 1e15 on they keep
    the exponent (``1.2345678901234568e+17``), since Excel stores 15 significant digits and the integer printed
    from the float would show digits that were never in the file."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return np.format_float_scientific(value) if value.is_integer() else repr(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _workbook(path: Path) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except (python_calamine.CalamineError, python_calamine.ZipError, python_calamine.XmlError, OSError,
            ValueError) as exc:
        raise InputError(f"not a readable Excel workbook ({type(exc).__name__}: {exc}); save it again from Excel "
                         "as .xlsx, or export the sheet as CSV", file=path) from None


def sheet_names(path: Path) -> list[str]:
    """The names of a workbook's sheets, in order."""
    return _workbook(path).sheet_names


def read_sheet(path: Path, sheet: str | int, *, key: str = "data") -> tuple[str, list[list[str]]]:
    """The cells of one sheet as text, row by row from the sheet's first row (row 1), and the sheet's name.

    Raises
    ------
    InputError
        When the file is not a workbook calamine can read, or has no such sheet (the message lists the sheets).
    """
    workbook = _workbook(path)
    names = workbook.sheet_names
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise InputError(f"the workbook has {len(names)} sheet(s) ({', '.join(names)}); sheet {sheet} does not "
                             "exist: give the sheet's name or its 0-based position", file=path, key=f"{key}.sheet")
        name = names[sheet]
    elif sheet not in names:
        raise InputError(f"no sheet named '{sheet}' (the workbook has: {', '.join(names)}): write one of these "
                         "names, or the sheet's 0-based position", file=path,
                         key=f"{key}.sheet")
    else:
        name = sheet
    rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return name, [[_text(value) for value in row] for row in rows]


@dataclass(frozen=True)
class CellFacts:
    """Facts about a sheet's cells that their values do not show; keys are ``(file row, 0-based column)``.

    Attributes
    ----------
    errors : dict
        Cells holding an Excel error value, and the value (``#VALUE!``).
    formulas : set
        Cells holding a formula (its saved result, if any, is what calamine reads).
    percent : set
        Numeric cells with a percent number format (shown as 86.7% for a stored 0.867).
    """

    errors: dict = field(default_factory=dict)
    formulas: set = field(default_factory=set)
    percent: set = field(default_factory=set)


def cell_facts(path: Path, sheet_name: str) -> CellFacts:
    """The error, formula and percent-formatted cells of a ``.xlsx``/``.xlsm`` sheet (empty facts for other
    formats), read with openpyxl in read-only mode without cached values, so a formula cell is seen as one."""
    facts = CellFacts()
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm"):
        return facts
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for row in workbook[sheet_name].iter_rows():
            for cell in row:
                kind = getattr(cell, "data_type", None)
                if kind == "e":
                    facts.errors[(cell.row, cell.column - 1)] = str(cell.value)
                elif kind == "f":
                    facts.formulas.add((cell.row, cell.column - 1))
                elif kind == "n" and cell.value is not None and "%" in (cell.number_format or ""):
                    facts.percent.add((cell.row, cell.column - 1))
    finally:
        workbook.close()
    return facts

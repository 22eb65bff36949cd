"""Result tables for a thesis: number formats, and an Excel workbook with one formatted sheet per table.

The number format of a column follows from its name and values
(:func:`number_format`); the HTML report prints numbers with the same formats,
so a figure reads the same in the report and in the workbook. The workbook is
written with XlsxWriter (several times faster than openpyxl for a per-customer sheet of many rows), in memory,
which dates every archive entry 1980-01-01, and with a fixed document date, so the same tables give the same
bytes.
"""
from __future__ import annotations

import datetime
import io as _io
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from . import io

__all__ = ["number_format", "format_value", "write_workbook"]

#: Excel number format -> Python format of the same number.
PYTHON_FORMATS = {"#,##0": "{:,.0f}", "#,##0.00": "{:,.2f}", "0.000": "{:.3f}", "0.00": "{:.2f}",
                  "0.0%": "{:.1%}", "0.00E+00": "{:.2e}"}
_SHARE_WORDS = ("share", "rate", "proportion", "retention", "cumulative_var", "loss_rate")
HEADER_FILL = "#1F3B57"


def number_format(column: str, values: pd.Series) -> str | None:
    """Excel number format of a column: shares and rates ``0.0%``; p values ``0.00E+00``; percentages already
    in % (``*_pct``) ``0.00``; counts and other whole numbers ``#,##0``; large amounts ``#,##0.00``; other
    numbers ``0.000``; ``None`` for text and booleans."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    if column == "p_value":
        return "0.00E+00"
    if column.endswith("_pct"):
        return "0.00"
    if any(word in column for word in _SHARE_WORDS):
        return "0.0%"
    finite = values[np.isfinite(values)]
    if len(finite) and (finite == finite.round()).all():
        return "#,##0"
    if values.abs().max() >= 1000:
        return "#,##0.00"
    return "0.000"


def format_value(value, excel_format: str | None) -> str:
    """A cell as the report prints it: ``excel_format`` applied, empty for missing values, ∞ for infinity."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and np.isinf(value):
        return "∞" if value > 0 else "-∞"
    if excel_format is None:
        return str(value)
    return PYTHON_FORMATS[excel_format].format(value)


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _cell(value):
    """A value Excel can hold: missing and infinite numbers become empty cells (Excel has no infinity)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _sheet(workbook: xlsxwriter.Workbook, name: str, frame: pd.DataFrame, formats: dict[str, str | None],
           styles: dict) -> None:
    sheet = workbook.add_worksheet(name[:31])
    for position, column in enumerate(frame.columns):
        sheet.write_string(0, position, str(column), styles["header"])
        code = formats.get(column)
        style = styles.setdefault(code, workbook.add_format({"num_format": code})) if code is not None else None
        for row, value in enumerate(frame[column].tolist(), start=1):
            value = _cell(value)
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row, position, value)
            elif isinstance(value, (int, float)):
                sheet.write_number(row, position, value, style)
            else:  # text stays text, even when it starts with "=" like a formula
                sheet.write_string(row, position, str(value))
        longest = max([_display_width(str(column))] + [_display_width(format_value(v, code))
                                                        for v in frame[column].head(200)])
        sheet.set_column(position, position, min(max(8, longest + 2), 60))
    sheet.freeze_panes(1, 0)


def write_workbook(sheets: dict[str, tuple[pd.DataFrame, dict[str, str | None]]], path) -> Path:
    """Write ``{sheet name: (table, {column: number format})}`` to an .xlsx file (bold white header row on dark
    blue, frozen, columns sized to their contents) atomically."""
    buffer = _io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"created": datetime.datetime(2000, 1, 1)})
    styles = {"header": workbook.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL,
                                             "text_wrap": True, "valign": "vcenter"})}
    for name, (frame, formats) in sheets.items():
        _sheet(workbook, name, frame, formats, styles)
    workbook.close()
    return io.write_bytes(buffer.getvalue(), path)

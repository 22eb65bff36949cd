"""Numeric comparison of stage tables: the check that a run reproduces published results on any machine.

Two runs of the same case on different machines agree in every id, label, grade,
class, tier and count, but their floating-point numbers may differ in the last
digits (a different CPU, BLAS or SIMD width sums in another order). A table is
therefore compared cell by cell:

- the same columns in the same order and the same number of rows;
- text columns (ids, labels, grades, classes, tiers) and integer columns
  (counts) exactly;
- float columns within the table's tolerance: ``|new - old| <= atol + rtol *
  |old|`` (:func:`numpy.isclose`), so an exact zero is compared against
  ``atol`` and not against rounding noise; missing values must be missing in
  both, infinities equal.

Tolerances are declared with each table (:mod:`crmlib.tables`); a table without
one uses :data:`DEFAULT_TOLERANCE`. Closed-form statistics meet the default (rtol 1e-9,
atol 1e-12); iterative fits that stop at an optimizer's convergence tolerance
(minres factor analysis, omega, the churn models) get rtol 1e-6 and atol 1e-6.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .io import read_parquet_table

__all__ = ["Tolerance", "DEFAULT_TOLERANCE", "Difference", "read_csv", "compare_tables", "table_files",
           "compare_directories"]


@dataclass(frozen=True)
class Tolerance:
    """``|new - old| <= atol + rtol * |old|`` for float cells."""

    rtol: float
    atol: float


#: Closed forms: eigen-decompositions, sums, quantiles, bootstrap statistics with a seeded generator.
DEFAULT_TOLERANCE = Tolerance(rtol=1e-9, atol=1e-12)

@dataclass(frozen=True)
class Difference:
    """One way a new table differs from the committed one."""

    table: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.table, None if self.row is None else f"row {self.row}",
                                            None if self.column is None else f"column '{self.column}'") if part)
        return f"{where}: {self.message}"


def read_csv(path) -> pd.DataFrame:
    """A CSV table as :func:`compare_tables` compares it: empty cells missing, every other text kept as text
    (``NA`` is a label), floats read back exactly; a Parquet table as it is."""
    if Path(path).suffix == ".parquet":
        return read_parquet_table(path)
    return pd.read_csv(path, encoding="utf-8", keep_default_na=False, na_values=[""], float_precision="round_trip")


def _is_float(values: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(values)


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _row_label(frame: pd.DataFrame, position: int) -> str:
    first = frame.columns[0]
    return f"{position + 2} ({first} {frame.iloc[position, 0]!s})"  # +2: header is file line 1


def compare_tables(old: pd.DataFrame, new: pd.DataFrame, table: str, tolerance: Tolerance = DEFAULT_TOLERANCE,
                   *, limit: int = 5) -> list[Difference]:
    """Differences between a committed table ``old`` and a new one, at most ``limit`` per column.

    Rows are compared in order (every stage table has a deterministic row order). Each difference names the
    table, the file line and first cell of the row, the column, both values and the difference.
    """
    if list(old.columns) != list(new.columns):
        return [Difference(table, f"columns differ: committed {list(old.columns)}, new {list(new.columns)}")]
    if len(old) != len(new):
        return [Difference(table, f"{len(old)} rows committed, {len(new)} new")]
    found: list[Difference] = []
    for column in old.columns:
        a, b = old[column], new[column]
        if (_is_float(a) or _is_float(b)) and _is_number(a) and _is_number(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            close = np.isclose(y, x, rtol=tolerance.rtol, atol=tolerance.atol, equal_nan=True)
            bad = np.flatnonzero(~close)
            for position in bad[:limit]:
                found.append(Difference(
                    table, f"committed {float(x[position])!r}, new {float(y[position])!r}, difference {y[position] - x[position]:.3g}"
                    f" (rtol {tolerance.rtol:g}, atol {tolerance.atol:g})", _row_label(old, position), column))
        else:
            x, y = a.astype(str).to_numpy(), b.astype(str).to_numpy()
            for position in np.flatnonzero(x != y)[:limit]:
                found.append(Difference(table, f"committed {x[position]!r}, new {y[position]!r} (compared exactly)",
                                        _row_label(old, position), column))
    return found


def table_files(directory) -> dict[str, Path]:
    """The stage tables (CSV or Parquet files) of a directory, by table name."""
    return {p.stem: p for pattern in ("*.csv", "*.parquet") for p in Path(directory).glob(pattern)}


def compare_directories(committed, new, tolerances: dict[str, Tolerance] | None = None, *,
                        limit: int = 5) -> list[Difference]:
    """Compare every table (CSV or Parquet) of a committed stage-table directory with a new run's
    (:func:`compare_tables`), each within its tolerance in ``tolerances`` (:func:`crmlib.tables.tolerances`) or the
    default.

    A table present in only one of the directories is a difference too.
    """
    old_files, new_files = table_files(committed), table_files(new)
    old_names, new_names = set(old_files), set(new_files)
    found = [Difference(name, "committed, but the new run did not write it") for name in sorted(old_names - new_names)]
    found += [Difference(name, "written by the new run, but not committed") for name in sorted(new_names - old_names)]
    for name in sorted(old_names & new_names):
        found += compare_tables(read_csv(old_files[name]), read_csv(new_files[name]), name,
                                (tolerances or {}).get(name, DEFAULT_TOLERANCE), limit=limit)
    return found

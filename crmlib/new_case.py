"""``crmlib new-case NAME --from FILE``: a draft params file for a data file nobody has described yet.

The draft is guessed from the file: the sheet with the most filled cells, the header row (the first row, among
the first 30, filled at least 60% as wide as the widest row and mostly text), the id column (unique values under
a header such as 客户编号, 账号, ID), every numeric column as an indicator, with its unit read from the header's
brackets or the cells, and its direction (cost when the header names a risk or a burden: 逾期, 欠息, 不良, 负债,
投诉, overdue, ...). When most numeric columns hold whole numbers on one short scale (1-5, 1-7, 0-10) the file is
taken for a questionnaire and the draft uses the survey family; otherwise factor grading with four quantile
grades. Every guessed key is listed under ``proposed:``; the report lists them as unconfirmed until the user
removes them.
"""
from __future__ import annotations

import csv
import io as text_io
import json
import os
import re
from pathlib import Path

import pandas as pd

from . import io, spreadsheet
from .errors import InputError
from .params import load_params
from .schema import UNITS, DataSource

__all__ = ["propose_source", "propose_columns", "draft_params", "new_case"]

_ID_HEADER = re.compile(r"编号|编码|代码|客户号|账号|卡号|证件|(^|[^a-z])(id|no|number|code)([^a-z]|$)", re.IGNORECASE)
_COST_HEADER = re.compile(r"逾期|欠息|不良|负债|投诉|风险|违约|成本|损失|overdue|arrear|complain|risk|default|debt|"
                          r"cost|loss", re.IGNORECASE)
_UNIT_IN_HEADER = re.compile(r"[（(]([^()（）]{1,6})[)）]\s*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _text_rows(path: Path, source: DataSource) -> tuple[str | None, list[list[str]]]:
    """The cells of the file's first 30 rows (the guessed sheet's, for a workbook), for sniffing."""
    if path.suffix.lower() in spreadsheet.EXCEL_SUFFIXES:
        return spreadsheet.read_sheet(path, source.sheet)
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("text is neither UTF-8 nor GB18030: save it as UTF-8 CSV", file=path)
    return None, [row for _, row in zip(range(30), csv.reader(text_io.StringIO(text)))]


def _numeric(cell: str) -> bool:
    try:
        io.parse_numbers(pd.Series([cell]), "%")
        return True
    except InputError:
        return False


def propose_source(path: Path) -> DataSource:
    """The data section guessed for ``path``: the sheet with the most filled cells and the header row."""
    path = Path(path)
    if not path.is_file():
        raise InputError("data file does not exist: check the path after --from", file=path)
    sheet: str | int = 0
    if path.suffix.lower() in spreadsheet.EXCEL_SUFFIXES:
        names = spreadsheet.sheet_names(path)
        filled = {name: sum(cell != "" for row in spreadsheet.read_sheet(path, name)[1] for cell in row)
                  for name in names}
        sheet = max(names, key=lambda name: filled[name])
    source = DataSource(path=path, kind="private", provenance="", sheet=sheet)
    _, rows = _text_rows(path, source)
    widths = [sum(cell.strip() != "" for cell in row) for row in rows[:30]]
    if not widths or max(widths) == 0:
        raise InputError("the file has no filled cells in its first 30 rows: check that it is the export meant",
                         file=path)
    for number, (row, width) in enumerate(zip(rows, widths), start=1):
        cells = [cell for cell in row if cell.strip()]
        if width >= 0.6 * max(widths) and sum(map(_numeric, cells)) <= 0.2 * len(cells):
            return source.model_copy(update={"header_row": number})
    raise InputError("no header row found in the first 30 rows (a row of column names above the data): delete the "
                     "rows above the header, or add a header row", file=path)


def _unit(header: str, cells: pd.Series) -> str:
    inside = _UNIT_IN_HEADER.search(header)
    if inside:
        return inside.group(1).strip()
    text = cells.astype(str).str.strip()
    if text.str.endswith("%").mean() > 0.5:
        return "%"
    for unit in sorted(UNITS, key=len, reverse=True):
        if text.str.endswith(unit).mean() > 0.5:
            return unit
    return "value"


def propose_columns(table: pd.DataFrame) -> tuple[str | None, list[dict], dict | None]:
    """The id column, the numeric columns (``column``, ``unit``, ``direction``, ``values``) and a Likert scale
    (``{"min", "max"}``) when most numeric columns look like questionnaire answers."""
    kept = table[io.rows_to_drop(table) == ""]
    id_column, numeric = None, []
    for column in kept.columns:
        cells = kept[column].astype(str).str.strip()
        filled = cells[cells != ""]
        if filled.empty:
            continue
        unique = filled.is_unique and len(filled) == len(cells)
        if id_column is None and unique and _ID_HEADER.search(column):
            id_column = column
            continue
        unit = _unit(column, filled)
        try:
            values = io.parse_numbers(filled, unit if unit in UNITS or unit == "%" else "value")
        except InputError:
            if id_column is None and unique:
                id_column = column
            continue
        numeric.append({"column": column, "unit": unit, "values": values,
                        "direction": "cost" if _COST_HEADER.search(column) else "benefit"})
    likert = [c for c in numeric if (c["values"] % 1 == 0).all() and c["values"].min() >= 0
              and c["values"].max() <= 10 and c["values"].nunique() >= 3]
    scale = None
    if len(likert) >= 4 and len(likert) >= 0.6 * len(numeric):
        scale = {"min": float(min(c["values"].min() for c in likert)),
                 "max": float(max(c["values"].max() for c in likert))}
        numeric = likert
    return id_column, numeric, scale


def _q(value) -> str:
    """A YAML scalar: JSON's double-quoted string is valid YAML and keeps Chinese as it is."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else json.dumps(value)


def draft_params(name: str, data_path: str, source: DataSource, id_column, columns: list[dict], scale,
                 kind: str = "private") -> str:
    """The text of a draft params file, with a comment on every key and the guessed keys under ``proposed:``."""
    chinese = any(_CJK.search(c["column"]) for c in columns)
    proposed = ["data.header_row", "data.id_column"] + (["data.sheet"] if isinstance(source.sheet, str) else [])
    lines = [f"# Draft written by `crmlib new-case {name}`: check every key marked proposed below, then remove it",
             "# from `proposed:`; the report lists the remaining ones as unconfirmed.",
             f"case: {name}",
             f"title_en: {_q(f'{name} (describe the case in a line)')}",
             f"title_zh: {_q(name)}" if chinese else "title_zh: \"\"",
             ""] + (["data:"] if scale is None else ["survey:", "  data:"])
    pad = "  " if scale is None else "    "
    data_lines = [f"{pad}path: {_q(data_path)}  # relative to this file",
                  f"{pad}kind: {kind}  # synthetic | public (needs citation and licence) | private (a bank's own "
                  "records; never committed)",
                  f"{pad}provenance: {_q('where the data come from (system, date of the export)')}"]
    if isinstance(source.sheet, str):
        data_lines.append(f"{pad}sheet: {_q(source.sheet)}  # the sheet with the most filled cells")
    data_lines.append(f"{pad}header_row: {source.header_row}  # 1-based row of the column headers")
    if id_column is not None:
        data_lines.append(f"{pad}id_column: {_q(id_column)}  # one unique id per customer")
    if scale is None:
        lines += data_lines + ["", "# The index system: one entry per numeric column. direction: benefit (larger is "
                               "better for the bank) or cost", "# (smaller is better; reversed in the scores).",
                               "indicators:"]
        for number, column in enumerate(columns, start=1):
            label = _UNIT_IN_HEADER.sub("", column["column"]).strip() or column["column"]
            lines.append(f"  - {{id: indicator_{number:02d}, label_en: {_q(label)}, label_zh: {_q(label)}, "
                         f"unit: {_q(column['unit'])}, direction: {column['direction']}, dimension: all, "
                         f"column: {_q(column['column'])}}}")
        lines += ["", "cleaning:",
                  "  missing: median  # drop (listwise) | median | mean",
                  "  winsorize: [0.01, 0.99]  # quantiles at which each indicator is clipped; null for none",
                  "", "factor_grading:", "  factor_analysis:",
                  "    n_factors: {rule: kaiser}  # kaiser (eigenvalue > 1) | fixed (give n) | parallel",
                  "    rotation: varimax",
                  "  grading:",
                  "    method: quantile  # lower bounds are quantiles of the composite score",
                  "    grades:  # best first; the shares (10/20/40/30%) are an assumption to confirm",
                  "      - {id: AAA, label_en: AAA customers, label_zh: AAA级客户, lower: 0.90}",
                  "      - {id: AA, label_en: AA customers, label_zh: AA级客户, lower: 0.70}",
                  "      - {id: A, label_en: A customers, label_zh: A级客户, lower: 0.30}",
                  "      - {id: A-, label_en: A- customers, label_zh: A-级客户}"]
        proposed += ["indicators.*.label_en", "indicators.*.unit", "indicators.*.direction", "indicators.*.dimension",
                     "factor_grading", "factor_grading.grading.grades"]
    else:
        lines += data_lines + [f"  scale: {{min: {scale['min']:g}, max: {scale['max']:g}}}  # the answers' scale",
                               "  missing: drop  # drop the respondent | median | mean",
                               "  # The items: one per answer column, all in one dimension until you group them.",
                               "  items:"]
        for number, column in enumerate(columns, start=1):
            lines.append(f"    - {{id: item_{number:02d}, wording_en: {_q(column['column'])}, "
                         f"wording_zh: {_q(column['column'])}, dimension: general, column: {_q(column['column'])}}}")
        lines += ["  dimensions:", "    - {id: general, label_en: General, label_zh: 总体评价}"]
        proposed = [key.replace("data.", "survey.data.") for key in proposed] + [
            "survey", "survey.scale", "survey.items.*.wording_en", "survey.dimensions"]
    lines += ["", "report:", f"  lang: {'zh' if chinese else 'en'}  # en | zh", "",
              "# Keys crmlib new-case guessed from the file; remove each one once you have checked it.",
              "proposed:"] + [f"  - {key}" for key in proposed]
    return "\n".join(lines) + "\n"


def _ignore(lines: list[str], gitignore: Path) -> list[str]:
    """Append ``lines`` not yet in ``gitignore``; return the ones added."""
    present = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.is_file() else []
    added = [line for line in lines if line not in present]
    if added:
        text = "\n".join(present + ["# private case (crmlib new-case): data, params and outputs stay local"] + added)
        gitignore.write_text(text + "\n", encoding="utf-8")
    return added


def new_case(name: str, data_file: Path, params_dir: Path, *, kind: str = "private", root: Path = Path(".")) -> list[str]:
    """Write ``<params_dir>/<name>.yaml`` for ``data_file``; for a private case add the params file, the data file
    and the case's outputs to ``<root>/.gitignore``. Returns lines to print.

    Raises
    ------
    InputError
        When the params file exists, the file cannot be read, or no header row or numeric column is found.
    """
    params_dir, data_file = Path(params_dir), Path(data_file)
    target = params_dir / f"{name}.yaml"
    if target.exists():
        raise InputError("params file exists already: choose another case name, or delete the file", file=target)
    source = propose_source(data_file)
    table = io.read_customer_file(source, data_file).table
    id_column, columns, scale = propose_columns(table)
    if len(columns) < 2:
        raise InputError(f"found {len(columns)} numeric column(s) below header row {source.header_row}: a case "
                         "needs at least two indicators: check the sheet and the header row", file=data_file)
    relative = Path(os.path.relpath(data_file.resolve(), params_dir.resolve())).as_posix()
    params_dir.mkdir(parents=True, exist_ok=True)
    draft = params_dir / f".{name}.draft.yaml"  # checked before it takes the case's name: never a broken file
    try:
        io.write_bytes(draft_params(name, relative, source, id_column, columns, scale, kind).encode("utf-8"), draft)
        load_params(draft)
        draft.replace(target)
    finally:
        draft.unlink(missing_ok=True)
    lines = [f"wrote {target}: {len(columns)} {'items' if scale else 'indicators'}, id column {id_column!r}, header "
             f"row {source.header_row}" + (f", sheet {source.sheet!r}" if isinstance(source.sheet, str) else "")]
    if kind == "private":
        root = Path(root).resolve()
        local = [path for path in (target, data_file) if path.resolve().is_relative_to(root)]
        added = _ignore([path.resolve().relative_to(root).as_posix() for path in local]
                        + [f"data/processed/{name}/", f"reports/{name}/"], root / ".gitignore")
        if added:
            lines.append(f"private case: added {', '.join(added)} to .gitignore")
    lines.append(f"next: check the keys under `proposed:` in {target}, then `crmlib check {name}` and "
                 f"`crmlib run {name}`")
    return lines

"""The catalogue of bad and messy inputs: files, encodings, sheets and headers, cells, YAML and environment.

Each entry starts from a small case (Shaoxing's params and a synthetic customer file of 60 customers, or a
questionnaire or churn case) and changes one thing. An entry is either read correctly (the test checks the values
read) or stopped by ``crmlib check`` with exit code 2 and one line on standard error that matches the entry's
pattern (file, sheet, column and row, what is wrong, what to write instead); the raw data file is never changed.
The few that need a run (output directory, Ctrl-C) are at the end.
"""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from crmlib import load_params
from crmlib.cli import main
from crmlib.io import read_measures

DEPOSIT, LOAN, YEARS, PRODUCTS, RATIO = "日均存款余额(万元)", "贷款余额(万元)", "合作年限(年)", "持有产品数", "资产负债率(%)"


def cell(row: int, column: str, value: str):
    """An ``edit_data`` that writes ``value`` into data row ``row`` (file row ``row + 2``)."""
    def edit(table):
        table.loc[row, column] = value
        return table
    return edit


def add_row(values: dict, at: int | None = None):
    """An ``edit_data`` that inserts a row (cells from ``values``, the rest empty) before data row ``at`` (end)."""
    def edit(table):
        row = pd.DataFrame([{c: values.get(c, "") for c in table.columns}])
        at_ = len(table) if at is None else at
        return pd.concat([table.iloc[:at_], row, table.iloc[at_:]], ignore_index=True)
    return edit


def params_edit(**changes):
    """An ``edit_params`` setting dotted keys (``data.decimal``)."""
    def edit(raw):
        for key, value in changes.items():
            node = raw
            *parents, last = key.split("__")
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            node[last] = value
    return edit


def to_excel(percent_column=None, sheet="客户", title=False, extra=None, declared=None):
    """A ``files`` step: rewrite customers.csv as customers.xlsx (all cells as numbers where they read as numbers),
    point the params at it; ``extra(worksheet)`` changes cells afterwards."""
    def convert(directory: Path, params_path: Path):
        table = pd.read_csv(directory / "customers.csv", dtype=str, keep_default_na=False)
        workbook = openpyxl.Workbook()
        sheet_ = workbook.active
        sheet_.title = sheet
        if title:
            sheet_.append(["对公客户指标导出"])
        sheet_.append(list(table.columns))
        for _, row in table.iterrows():
            values = []
            for column, value in row.items():
                try:
                    values.append(float(value.replace(",", "")) if column != "客户编号" and value else (value or None))
                except ValueError:
                    values.append(value)
            sheet_.append(values)
        if percent_column is not None:
            position = list(table.columns).index(percent_column) + 1
            for number in range(2 + title, sheet_.max_row + 1):
                value = sheet_.cell(number, position).value
                if isinstance(value, float):
                    sheet_.cell(number, position).value = value / 100
                    sheet_.cell(number, position).number_format = "0.0%"
        if extra is not None:
            extra(sheet_)
        workbook.save(directory / "customers.xlsx")
        text = params_path.read_text(encoding="utf-8").replace("path: customers.csv",
                                                              f"path: customers.xlsx\n  sheet: {declared if declared is not None else sheet}"
                                                              + ("\n  header_row: 2" if title else ""))
        params_path.write_text(text, encoding="utf-8")
    return convert


def raw_bytes(content: bytes):
    def write(directory: Path, params_path: Path):
        (directory / "customers.csv").write_bytes(content)
    return write


def recode(encoding: str):
    def write(directory: Path, params_path: Path):
        path = directory / "customers.csv"
        path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    return write


def replace_text(old: str, new: str, target: str = "customers.csv", count: int = 1):
    def write(directory: Path, params_path: Path):
        path = directory / target if target != "params" else params_path
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, count), encoding="utf-8")
    return write


@dataclass(frozen=True)
class Entry:
    """One input of the catalogue: what is changed, and either the error line expected or a check of the values."""

    name: str
    error: str | None = None
    data: Callable | None = None
    params: Callable | None = None
    files: Callable | None = None
    values: Callable | None = None
    base: str = "shaoxing"
    n: int = 60


def same_as_clean(read, clean):
    pd.testing.assert_frame_equal(read.values, clean.values, check_exact=False, rtol=1e-12)


def dropped(reason: str, count: int = 1):
    def check(read, clean):
        assert (read.dropped["reason"] == reason).sum() == count, read.dropped
        pd.testing.assert_frame_equal(read.values, clean.values)
    return check


def value(row: int, column: str, expected: float, converted: int | None = None):
    def check(read, clean):
        indicator = _ids[column]
        assert read.values[indicator].iloc[row] == pytest.approx(expected)
        if converted is not None:
            assert read.converted[indicator] == converted
    return check


_ids = {DEPOSIT: "deposit_balance", LOAN: "loan_balance", YEARS: "relationship_years", PRODUCTS: "products_held",
        RATIO: "debt_asset_ratio"}


def shown_percent(read, clean):
    """A percent-formatted 0.593 in a % column reads as 59.3, as Excel shows it; each such cell counts as converted."""
    ratio = "debt_asset_ratio"
    np.testing.assert_allclose(read.values[ratio], clean.values[ratio], rtol=1e-12)
    assert read.converted[ratio] == clean.values[ratio].notna().sum()


def _decimal_commas(table):
    swap = str.maketrans(",.", ".,")
    return table.apply(lambda column: column if column.name == "客户编号" else column.str.translate(swap))


def _long_id(sheet):
    sheet.cell(2, 1).value = 123456789012345678.0


def _error_value(code):
    def put(sheet):
        sheet.cell(5, 3).value = code  # openpyxl writes '#VALUE!' and the like as error cells
    return put


def _formula(sheet):
    sheet.cell(7, 3).value = "=B7*2"


def _formula_elsewhere(sheet):
    sheet.cell(1, sheet.max_column + 1).value = "备注"
    sheet.cell(4, sheet.max_column).value = "=1/0"


def _duplicate_header(table):
    table["日均存款余额(万元) "] = table[DEPOSIT]
    return table


def _ids_exponent(table):
    table.loc[3, "客户编号"] = "1.23457E+17"
    return table


def _text_ids(table):
    table["客户编号"] = [f"6222{n:014d}" for n in range(len(table))]
    return table


def _all_missing_but_one(table):
    table.loc[1:, LOAN] = ""
    return table


def _constant(table):
    table[PRODUCTS] = "3"
    return table


def _empty_column(table):
    table[YEARS] = ""
    return table


def _sum_row(table):
    numbers = table.drop(columns="客户编号").apply(lambda c: pd.to_numeric(c.str.replace(",", ""), errors="coerce"))
    total = {c: repr(float(numbers[c].sum())) for c in numbers.columns}
    return pd.concat([table, pd.DataFrame([total | {"客户编号": "ALL"}])], ignore_index=True)


def _header_again(table):
    header = pd.DataFrame([dict(zip(table.columns, table.columns))])
    return pd.concat([table.iloc[:20], header, table.iloc[20:]], ignore_index=True)


def _blank_header(table):
    return table.assign(**{"": "x"})


CATALOGUE = [
    # files and encodings
    Entry("empty CSV file", r"customers\.csv: the file is empty", files=raw_bytes(b"")),
    Entry("header only", r"customers\.csv: the file has no data rows below its header \(row 1\)",
          data=lambda t: t.iloc[:0]),
    Entry("GB18030 CSV", values=same_as_clean, files=recode("gb18030")),
    Entry("GBK CSV", values=same_as_clean, files=recode("gbk")),
    Entry("UTF-8 with BOM", values=same_as_clean, files=recode("utf-8-sig")),
    Entry("declared UTF-8, file GBK", r"text is not valid utf-8, the encoding declared in data\.encoding",
          params=params_edit(data__encoding="utf-8"), files=recode("gbk")),
    Entry("unsupported file type", r"customers\.json: unsupported file type '\.json': use \.csv, \.xlsx",
          params=params_edit(data__path="customers.json"),
          files=lambda d, p: (d / "customers.json").write_text("{}", encoding="utf-8")),
    Entry("data path is a directory", r"key 'data\.path': is a directory",
          params=params_edit(data__path="folder"), files=lambda d, p: (d / "folder").mkdir()),
    Entry("data file missing", r"nothere\.csv, key 'data\.path': data file does not exist",
          params=params_edit(data__path="nothere.csv")),
    Entry("unquoted comma splits a row", r"customers\.csv, row 6: the row has 16 cells where the header has 15: a cell "
          r"probably holds an unquoted comma.*put such cells in quotes",
          files=replace_text("\nSX05,", "\nSX05,1,")),
    Entry("blank line keeps row numbers", r"column '合作年限\(年\)', row 9: cell '十年' is not a number",
          data=cell(6, YEARS, "十年"), files=replace_text("\nSX04,", "\n\nSX04,")),
    Entry("semicolon-separated file", r"column '客户编号': column not found \(the file's headers are: 客户编号;",
          files=lambda d, p: (d / "customers.csv").write_text(
              (d / "customers.csv").read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")),
    Entry("title row above the header", values=same_as_clean, params=params_edit(data__header_row=2),
          files=lambda d, p: (d / "customers.csv").write_text(
              "某银行对公客户导出\n" + (d / "customers.csv").read_text(encoding="utf-8"), encoding="utf-8")),
    Entry("title row, header_row not set", r"column not found .*set data\.header_row to the row that holds",
          files=lambda d, p: (d / "customers.csv").write_text(
              "某银行对公客户导出\n" + (d / "customers.csv").read_text(encoding="utf-8"), encoding="utf-8")),
    Entry("header row below the end", r"the file has no rows at or below its header row \(data\.header_row = 500\)",
          params=params_edit(data__header_row=500)),
    # Excel workbooks
    Entry("xlsx", values=same_as_clean, files=to_excel()),
    Entry("xlsx with a title row", values=same_as_clean, files=to_excel(title=True)),
    Entry("xlsx percent-formatted % column", values=shown_percent, files=to_excel(RATIO)),
    Entry("xlsx sheet missing", r"customers\.xlsx, key 'data\.sheet': no sheet named '客户表' \(the workbook has: 客户\)",
          files=to_excel(declared="客户表")),
    Entry("xlsx sheet position out of range", r"the workbook has 1 sheet\(s\) \(客户\); sheet 3 does not exist",
          files=to_excel(declared=3)),
    Entry("xlsx #VALUE!", r"customers\.xlsx, sheet '客户', column '贷款余额\(万元\)', row 5: the cell holds the Excel "
          r"error #VALUE!: correct it", files=to_excel(extra=_error_value("#VALUE!"))),
    Entry("xlsx #DIV/0!", r"sheet '客户', column '贷款余额\(万元\)', row 5: the cell holds the Excel error #DIV/0!",
          files=to_excel(extra=_error_value("#DIV/0!"))),
    Entry("xlsx #N/A", r"row 5: the cell holds the Excel error #N/A", files=to_excel(extra=_error_value("#N/A"))),
    Entry("xlsx formula without a saved result", r"sheet '客户', column '贷款余额\(万元\)', row 7: the cell holds a "
          r"formula with no saved result.*let it calculate and save it", files=to_excel(extra=_formula)),
    Entry("xlsx error in a column not used", values=same_as_clean, files=to_excel(extra=_formula_elsewhere)),
    Entry("xlsx id with 18 digits as a number", r"column '客户编号', row 2: customer id '1\.234567890123457e\+17' was "
          r"stored as a number.*export the id column as text", files=to_excel(extra=_long_id)),
    Entry("not a workbook", r"customers\.xlsx: not a readable Excel workbook .*save it again from Excel",
          files=lambda d, p: (to_excel()(d, p), (d / "customers.xlsx").write_text("not a zip", encoding="utf-8"))),
    Entry("xlsx empty sheet", r"sheet '客户': the sheet has 0 row\(s\), none at the header row",
          files=lambda d, p: (to_excel()(d, p), _empty_workbook(d / "customers.xlsx"))),
    # headers
    Entry("duplicated header of an indicator", r"column '日均存款余额\(万元\)': 2 columns have this header \(columns B, "
          r"P\): rename all but the one meant", data=_duplicate_header),
    Entry("duplicated header of a column not used", values=same_as_clean,
          data=lambda t: t.assign(**{"备注": "a", "备注 ": "b"})),  # one header once stripped
    Entry("blank header of a column not used", values=same_as_clean, data=_blank_header),
    Entry("header with spaces around it", values=same_as_clean, data=lambda t: t.rename(columns={LOAN: f"  {LOAN} "})),
    Entry("indicator column missing", r"column '贷款余额\(万元\)': column not found", data=lambda t: t.drop(columns=LOAN)),
    Entry("id column missing", r"column '客户编号': column not found", data=lambda t: t.drop(columns="客户编号")),
    # rows that are not customers
    Entry("合计 row", values=dropped("total or subtotal row"), data=add_row({"客户编号": "合计", DEPOSIT: "99999"})),
    Entry("总计 row", values=dropped("total or subtotal row"), data=add_row({"客户编号": "总计"})),
    Entry("branch 小计 row", values=dropped("total or subtotal row"), data=add_row({"客户编号": "城区支行 小计"}, at=30)),
    Entry("Total row", values=dropped("total or subtotal row"), data=add_row({"客户编号": "Total"})),
    Entry("平均 row", values=dropped("total or subtotal row"), data=add_row({"客户编号": "平均"})),
    Entry("unlabelled sum row", values=dropped("row equals the sum of the others"), data=_sum_row),
    Entry("repeated header row", values=dropped("repeated header row"), data=_header_again),
    Entry("blank row", values=dropped("blank row", 2), data=lambda t: add_row({})(add_row({}, at=10)(t))),
    # cells
    Entry("thousands separators", values=value(0, DEPOSIT, 1234567.5), data=cell(0, DEPOSIT, "1,234,567.5")),
    Entry("full-width digits", values=value(1, LOAN, 1234.5), data=cell(1, LOAN, "１２３４．５")),
    Entry("amount unit in a cell", values=value(2, DEPOSIT, 3.0, converted=1), data=cell(2, DEPOSIT, "30000元")),
    Entry("亿元 in a cell", values=value(2, DEPOSIT, 5000.0, converted=1), data=cell(2, DEPOSIT, "0.5亿元")),
    Entry("percent sign in a % cell", values=value(3, RATIO, 12.5), data=cell(3, RATIO, "12.5%")),
    Entry("spaces inside a number", values=value(4, DEPOSIT, 1234.5), data=cell(4, DEPOSIT, " 1 234.5 ")),
    Entry("decimal comma, ambiguous", r"column '合作年限\(年\)', row 5: cell '4,5': ',' does not separate groups of "
          r"three digits; .*set data\.decimal: ','", data=cell(3, YEARS, "4,5")),
    Entry("European thousands", r"row 4: cell '7\.658,45'.*data\.decimal", data=cell(2, DEPOSIT, "7.658,45")),
    Entry("decimal commas declared", values=same_as_clean, data=_decimal_commas, params=params_edit(data__decimal=",")),
    Entry("text in a numeric column", r"column '合作年限\(年\)', row 8: cell '十年' is not a number: write a number",
          data=cell(6, YEARS, "十年")),
    Entry("N/A text", r"row 3: cell 'N/A' is not a number.*leave the cell empty", data=cell(1, LOAN, "N/A")),
    Entry("dash for nothing", r"row 3: cell '—' is not a number", data=cell(1, LOAN, "—")),
    Entry("inf", r"row 4: cell 'inf' is not a finite number", data=cell(2, LOAN, "inf")),
    Entry("1e308, winsorizing off", r"column '贷款余额\(万元\)': indicator 'loan_balance''s values are too large to compute a variance",
          data=cell(2, LOAN, "1e308"), params=params_edit(cleaning__winsorize=None)),
    Entry("negative balance outside valid_range", r"column '日均存款余额\(万元\)', row 6: value -5 \(cell '-5'\) is "
          r"outside the plausible range \[0, inf\]", data=cell(4, DEPOSIT, "-5"),
          params=params_edit(indicators__0__valid_range=[0, None])),
    Entry("amount unit on a count", r"column '持有产品数', row 2: cell '3万元' carries an amount unit.*write the number "
          "alone", data=cell(0, PRODUCTS, "3万元")),
    Entry("empty id", r"column '客户编号', row 5: customer id is empty", data=cell(3, "客户编号", "")),
    Entry("duplicated id", r"column '客户编号', row 11: customer id 'SX03' appears more than once",
          data=cell(9, "客户编号", "SX03")),
    Entry("id with exponent in CSV", r"row 5: customer id '1\.23457E\+17' was stored as a number", data=_ids_exponent),
    Entry("18-digit ids as text", values=lambda read, clean: (
        read.values.index[0] == "622200000000000000") or pytest.fail(str(read.values.index[:3])), data=_text_ids),
    Entry("indicator 98% missing", r"column '贷款余额\(万元\)': indicator 'loan_balance' is missing for 98% of the customers \(59 of 60\)"
          r".*max_missing_share", data=_all_missing_but_one),
    Entry("column empty", r"indicator 'relationship_years' is missing for 100% of the customers", data=_empty_column),
    Entry("constant indicator", r"column '持有产品数': indicator 'products_held' is constant", data=_constant),
    Entry("fewer customers than indicators", r"10 customers with complete data but 14 indicators", n=10),
    # the params file (YAML)
    Entry("YAML key given twice", r"case\.yaml, row \d+: not valid YAML: key 'title_en' is given twice",
          files=replace_text("title_en:", "title_en: first\ntitle_en:", target="params")),
    Entry("GBK-encoded YAML", r"case\.yaml, row \d+: the file is not UTF-8 text \(saved as GBK\?\)",
          files=lambda d, p: p.write_bytes(p.read_text(encoding="utf-8").encode("gbk"))),
    Entry("invalid YAML", r"case\.yaml, row \d+: not valid YAML", files=replace_text("case: tiny", "case: [tiny",
                                                                                     target="params")),
    Entry("YAML not a mapping", r"a params file must be a mapping", files=lambda d, p: p.write_text("- a\n- b\n")),
    Entry("unknown key", r"key 'cleaning\.winsorise': unknown key", params=params_edit(cleaning__winsorise=[0, 1])),
    Entry("kind real", r"key 'data\.kind': kind 'real' does not say who may see the data: write 'public'",
          params=params_edit(data__kind="real")),
    Entry("public data without licence", r"public data needs `citation` and `licence`",
          params=params_edit(data__kind="public")),
    Entry("winsorize not a pair", r"key 'cleaning\.winsorize'", params=params_edit(cleaning__winsorize="yes")),
    Entry("winsorize reversed", r"winsorize quantiles must satisfy 0 <= lower < upper <= 1",
          params=params_edit(cleaning__winsorize=[0.99, 0.01])),
    Entry("key that moved", r"key 'factor_analysis': this key moved: write it as 'factor_grading\.factor_analysis'",
          params=lambda raw: raw.update(factor_analysis=raw["factor_grading"].pop("factor_analysis"))),
    Entry("indicator id with a space", r"indicator id 'deposit balance' must be letters, digits and _",
          params=params_edit(indicators__0__id="deposit balance")),
    Entry("direction misspelt", r"key 'indicators\.0\.direction': Input should be 'benefit' or 'cost'",
          params=params_edit(indicators__0__direction="good")),
    Entry("grade bounds not descending", r"lower bounds must decrease strictly",
          params=params_edit(factor_grading__grading__grades__1__lower=0.95)),
    Entry("more factors than indicators", r"cannot retain 20 factors from 14 indicators",
          params=params_edit(factor_grading__factor_analysis__n_factors={"rule": "fixed", "n": 20})),
    Entry("unknown missing policy", r"key 'cleaning\.missing': Input should be 'drop', 'median', 'mean' or 'pairwise'",
          params=params_edit(cleaning__missing="zero")),
    # codes and questionnaires
    Entry("churn value in another case", r"column 'Attrition_Flag', row \d+: 'attrited customer' is neither a lost "
          r"value nor a retained value .*case included", base="bank_churners",
          data=lambda t: cell(4, "Attrition_Flag", "attrited customer")(t)),
    Entry("Likert answer out of scale", r"column 'imag1', row 6: answer 11 is outside the item's scale \[0, 10\]",
          base="satisfaction", data=cell(4, "imag1", "11")),
    Entry("item nobody answered", r"column 'imag2': item 'imag2': no respondent answered it.*remove the item",
          base="satisfaction", data=lambda t: t.assign(imag2="")),
    Entry("item everybody answered alike", r"item 'imag3': every respondent gave the same answer \(7\)",
          base="satisfaction", data=lambda t: t.assign(imag3="7")),
    Entry("blank attribute, left out of the comparison", base="satisfaction", data=cell(3, "gender", "")),
    Entry("a dimension named overall", r"key 'survey': dimension id 'overall' names all the items together",
          base="satisfaction", params=params_edit(survey__dimensions__0__id="overall",
                                                  **{f"survey__items__{k}__dimension": "overall" for k in range(5)})),
    Entry("coded answer not declared", r"column '持有产品数', row 4: answer '三' is not one of the declared codes "
          r"\(一, 二\): correct the answer, or add it", data=lambda t: cell(2, PRODUCTS, "三")(t.assign(**{PRODUCTS: "一"})),
          params=params_edit(indicators__7__codes={"一": 1, "二": 2})),
]


def _empty_workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "客户"
    workbook.save(path)


#: Cases on real data: their data section and the number of rows of the real file a catalogue entry starts from.
REAL = {"bank_churners": ("data", 300), "satisfaction": ("survey.data", 250)}


def _real_case(case: str, directory: Path, root: Path) -> Path:
    """A shipped case on real data, on the first rows of its file copied to customers.csv."""
    raw = yaml.safe_load((root / "params" / f"{case}.yaml").read_text(encoding="utf-8"))
    key, rows = REAL[case]
    section = raw
    for part in key.split("."):
        section = section[part]
    source = (root / "params" / section["path"]).resolve()
    section["path"] = "customers.csv"
    pd.read_csv(source, dtype=str, keep_default_na=False, nrows=rows).to_csv(directory / "customers.csv", index=False)
    path = directory / "case.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _digest(directory: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()
            if p.is_file() and p.suffix != ".yaml"}


_CLEAN: dict = {}


@pytest.mark.parametrize("entry", CATALOGUE, ids=[e.name for e in CATALOGUE])
def test_catalogue(entry, make_case, tmp_path, root, capsys):
    """Read correctly (values checked) or one line with exit code 2; the data files are never changed."""
    clean = None
    if entry.values is not None:
        if (entry.base, entry.n) not in _CLEAN:  # the unchanged case, read once per worker
            params = load_params(_real_case(entry.base, tmp_path, root) if entry.base in REAL
                                 else make_case(n=entry.n, base=entry.base))
            _CLEAN[entry.base, entry.n] = read_measures(params.data, params.data_path, params.indicators)
        clean = _CLEAN[entry.base, entry.n]
    if entry.base in REAL:
        path = _real_case(entry.base, tmp_path, root)
        if entry.data is not None:
            entry.data(pd.read_csv(tmp_path / "customers.csv", dtype=str, keep_default_na=False)).to_csv(
                tmp_path / "customers.csv", index=False)
    else:
        path = make_case(n=entry.n, base=entry.base, edit_data=entry.data)
    if entry.params is not None:  # after the data are made: the edit may break the params on purpose
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        entry.params(raw)
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if entry.files is not None:
        entry.files(tmp_path, path)
    before = _digest(tmp_path)
    if entry.values is not None:
        params = load_params(path)
        entry.values(read_measures(params.data, params.data_path, params.indicators), clean)
    else:
        code = main(["check", "--params", str(path)])
        out, err = capsys.readouterr()
        if entry.error is None:
            assert code == 0, err
        else:
            assert code == 2, out + err
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in err, err
            assert re.search(entry.error, lines[0]), lines[0]
    assert _digest(tmp_path) == before


def test_catalogue_is_large_enough():
    assert len(CATALOGUE) + len(ENVIRONMENT) >= 80


#: The environment: (name, command-line arguments after ``crmlib``, expected error line); ``{case}`` is the
#: params file of a small case, ``{file}`` a plain file, ``{dir}`` a directory.
ENVIRONMENT = [
    ("output directory is a file", ["run", "--params", "{case}", "--output-dir", "{file}"],
     r"out\.txt: the output directory is a file: give --output-dir a directory"),
    ("output directory below a file", ["run", "--params", "{case}", "--output-dir", "{file}/sub"],
     r"cannot write the outputs here \(Not a directory\): give --output-dir a directory you may write in"),
    ("params path is a directory", ["check", "--params", "{dir}"], r"is a directory: give the case's YAML file"),
    ("params file missing", ["check", "--params", "{dir}/none.yaml"], r"none\.yaml: params file does not exist"),
    ("case name unknown", ["--params-dir", "{dir}", "check", "nosuchcase"], r"no case named 'nosuchcase'"),
    ("unknown stage", ["run", "--params", "{case}", "--stage", "09", "--output-dir", "{dir}"],
     r"unknown stage '09' for this case"),
]


@pytest.mark.parametrize("name, arguments, expected", ENVIRONMENT, ids=[e[0] for e in ENVIRONMENT])
def test_environment(name, arguments, expected, make_case, tmp_path, capsys):
    places = {"case": str(make_case(n=30)), "file": str(tmp_path / "out.txt"), "dir": str(tmp_path / "folder")}
    (tmp_path / "out.txt").write_text("x", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    code = main([argument.format(**places) for argument in arguments])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(expected, err), err


def test_ctrl_c_exits_130_with_one_line_and_keeps_previous_results(make_case, tmp_path):
    """Ctrl-C during stage 03: one line, exit code 130, the previous results (here stand-ins) unchanged."""
    path = make_case(n=60)
    command = [sys.executable, "-m", "crmlib.cli", "run", "--params", str(path), "--output-dir", str(tmp_path)]
    for folder in (tmp_path / "data" / "processed" / "tiny", tmp_path / "reports" / "tiny"):
        folder.mkdir(parents=True)
        (folder / "previous.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "reports" / "tiny" / "report.html").write_text("<p>previous</p>", encoding="utf-8")
    before = {p: p.read_bytes() for p in (tmp_path / "data" / "processed" / "tiny").iterdir()}
    report = (tmp_path / "reports" / "tiny" / "report.html").read_bytes()
    # As in a terminal's foreground: Ctrl-C at its default. (A shell starts a background job with SIGINT
    # ignored, and a child inherits that; then Python never raises KeyboardInterrupt.)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in process.stdout:
        if "03_factor_analysis ..." in line:
            time.sleep(0.5)
            os.killpg(process.pid, signal.SIGINT)  # as a terminal sends it: to the whole process group
            break
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    # The kernel, which gets the Ctrl-C too, sometimes logs "[IPKernelApp] ERROR | KeyboardInterrupt caught in
    # kernel." on the shared stderr (when the signal lands between cells): the kernel's own log, not crmlib's.
    lines = [line for line in err.strip().splitlines() if not line.startswith("[IPKernelApp]")]
    assert lines == ["crmlib: interrupted; the previous results are kept"]
    assert {p: p.read_bytes() for p in (tmp_path / "data" / "processed" / "tiny").iterdir()} == before
    assert (tmp_path / "reports" / "tiny" / "report.html").read_bytes() == report
    assert not list((tmp_path / "data" / "processed").glob(".staging-*"))

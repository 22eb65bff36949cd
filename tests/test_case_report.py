"""The case report: its tables are the stage tables, its headline figures are read off them, its files are
deterministic, its language is a parameter, and it reproduces from a fresh build."""
from __future__ import annotations

import filecmp
import json
import re
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import python_calamine
from matplotlib import font_manager

from crmlib import case_report, compare, figures, io, load_params, provenance, tables
from crmlib.workbook import format_value, number_format

from conftest import CASES


def build(root: Path, case: str, out: Path, lang: str | None = None) -> Path:
    params = load_params(root / "params" / f"{case}.yaml")
    figures.use_report_style()
    lang = lang or params.report.lang
    return case_report.write_case_report(params, root / "data" / "processed" / case, out, lang=lang,
                                         command=provenance.run_command(params, root / "params", lang),
                                         progress=lambda _: None)


@pytest.fixture(scope="module")
def shaoxing_report(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("shaoxing")
    build(root, "shaoxing", out)
    return out


def test_number_formats():
    assert number_format("customers", pd.Series([40, 80])) == "#,##0"
    assert number_format("share", pd.Series([0.1, 0.2])) == "0.0%"
    assert number_format("loss_rate", pd.Series([0.1])) == "0.0%"
    assert number_format("p_value", pd.Series([1e-30])) == "0.00E+00"
    assert number_format("initial_pct", pd.Series([30.52])) == "0.00"
    assert number_format("mean", pd.Series([3393.46])) == "#,##0.00"
    assert number_format("F1", pd.Series([0.91])) == "0.000"
    assert number_format("grade", pd.Series(["AAA"])) is None
    assert number_format("retained", pd.Series([True])) is None
    assert number_format("rank", pd.Series([np.nan, 13.0])) == "#,##0"  # whole numbers with a gap
    assert number_format("upper", pd.Series([50000.0, np.inf])) == "#,##0"
    assert format_value(np.inf, "#,##0") == "∞"
    assert [format_value(v, f) for v, f in [(0.1234, "0.0%"), (12345.678, "#,##0.00"), (1.5e-30, "0.00E+00"),
                                            (np.nan, "0.000"), (40, "#,##0")]] == \
        ["12.3%", "12,345.68", "1.50e-30", "", "40"]


def test_workbook_sheets_are_the_stage_tables(root, shaoxing_report):
    """Each sheet holds the stage table's numbers at full precision, with headers in the report's language
    and the column's number format."""
    book = openpyxl.load_workbook(shaoxing_report / "tables.xlsx")
    assert book.sheetnames[:4] == ["cleaning_log", "dropped_rows", "descriptives", "correlation_matrix"]
    assert "strategy" in book.sheetnames and "customer_grades" not in book.sheetnames
    sheet = book["loadings_rotated"]
    header = [c.value for c in sheet[1]]
    assert header == ["指标", "名称", "F1", "F2", "共同度"]
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    stage = pd.read_csv(root / "data" / "processed" / "shaoxing" / "loadings_rotated.csv")
    values = pd.DataFrame([[c.value for c in row] for row in sheet.iter_rows(min_row=2)], columns=header)
    np.testing.assert_allclose(values[["F1", "F2", "共同度"]].to_numpy(float),
                               stage[["F1", "F2", "communality"]].to_numpy(), rtol=0, atol=1e-15)
    assert values["名称"].iloc[0] == "日均存款余额"
    assert sheet["C2"].number_format == "0.000"
    profile = book["grade_profile"]
    share_column = [c.value for c in profile[1]].index("占比") + 1
    assert profile.cell(2, share_column).number_format == "0.0%"
    assert profile.cell(2, share_column).value == pytest.approx(0.1, abs=1e-15)


def test_workbook_holds_no_infinity(root):
    """Excel has no infinity: the open upper bound of the top tier is an empty cell (∞ in the HTML)."""
    sheet = openpyxl.load_workbook(root / "reports" / "a_branch" / "tables.xlsx", read_only=True)["tier_profile"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1][rows[0].index("上限")] is None
    assert "<td class=\"num\">∞</td>" in (root / "reports" / "a_branch" / "report.html").read_text(encoding="utf-8")


def test_csv_tables_equal_the_workbook(root, shaoxing_report):
    book = openpyxl.load_workbook(shaoxing_report / "tables.xlsx")
    csv_names = sorted(p.stem for p in (shaoxing_report / "tables").glob("*.csv"))
    assert csv_names == sorted(book.sheetnames)
    # tables for readers carry a UTF-8 byte-order mark (Excel on Windows then shows the Chinese); stage tables not
    assert (shaoxing_report / "tables" / "grade_thresholds.csv").read_bytes().startswith(b"\xef\xbb\xbf\xe7\xad\x89")
    assert (root / "data" / "processed" / "shaoxing" / "grade_thresholds.csv").read_bytes().startswith(b"grade,")
    grades = pd.read_csv(shaoxing_report / "tables" / "grade_thresholds.csv")
    assert list(grades.columns) == ["等级", "名称", "下限分位数", "下限得分"]
    assert grades["等级"].tolist() == ["AAA", "AA", "A", "A-"]


def test_report_files_are_byte_identical_across_builds(root, shaoxing_report, tmp_path):
    """Two builds in this session, on this machine, give the same bytes (committed reports, made elsewhere, are
    compared numerically: test_committed_report_tables_are_reproduced)."""
    build(root, "shaoxing", tmp_path)
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert "report.html" in files and "figures/scree.svg" in files and "figures/biplot.png" in files
    match, mismatch, errors = filecmp.cmpfiles(tmp_path, shaoxing_report, files, shallow=False)
    assert (mismatch, errors) == ([], [])


def _numbers_close(old, new, where: str) -> None:
    """JSON values: equal structure and text, numbers within the default stage-table tolerance."""
    if isinstance(old, dict):
        assert sorted(old) == sorted(new), where
        for key in old:
            _numbers_close(old[key], new[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert len(old) == len(new), where
        for position, (a, b) in enumerate(zip(old, new)):
            _numbers_close(a, b, f"{where}[{position}]")
    elif isinstance(old, float) or isinstance(new, float):
        tolerance = compare.DEFAULT_TOLERANCE
        assert new == pytest.approx(old, rel=tolerance.rtol, abs=tolerance.atol, nan_ok=True), where
    else:
        assert old == new, where


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Each sheet as a table (header row as columns; a column of numbers and empty cells as floats)."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    sheets = {}
    for name in book.sheet_names:
        rows = [[None if v == "" else v for v in row] for row in book.get_sheet_by_name(name).to_python()]
        frame = pd.DataFrame(rows[1:], columns=rows[0])
        for column in frame.columns:
            values = frame[column].dropna()
            if len(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                frame[column] = frame[column].astype(float)
        sheets[name] = frame
    return sheets


def _tolerance(name: str):
    """A sheet's tolerance: its table's; the per-customer sheet, rounded to 6 decimals from tables of several
    tolerances, within the loosest of them plus one unit of its last decimal."""
    return compare.Tolerance(rtol=1e-6, atol=2.01e-6) if name == "customers" else tables.table(name).tolerance


@pytest.mark.parametrize("case", CASES)
def test_committed_report_tables_are_reproduced(root, case, tmp_path):
    """The committed workbook, CSV tables and headline are what the code writes from the committed stage tables:
    text exactly, numbers within the stage tables' tolerance (crmlib.compare), so that a report made on another
    machine compares equal."""
    build(root, case, tmp_path)
    committed = root / "reports" / case
    names = sorted(p.stem for p in (tmp_path / "tables").glob("*.csv"))
    assert sorted(p.stem for p in (committed / "tables").glob("*.csv")) == names
    for name in names:
        differences = compare.compare_tables(compare.read_csv(committed / "tables" / f"{name}.csv"),
                                             compare.read_csv(tmp_path / "tables" / f"{name}.csv"), name,
                                             _tolerance(name))
        assert not differences, "\n".join(map(str, differences))
    old_book, new_book = _sheets(committed / "tables.xlsx"), _sheets(tmp_path / "tables.xlsx")
    assert list(old_book) == list(new_book)
    for name in old_book:
        differences = compare.compare_tables(old_book[name], new_book[name], f"tables.xlsx sheet {name}",
                                             _tolerance(name))
        assert not differences, "\n".join(map(str, differences))
    _numbers_close(json.loads((committed / "summary.json").read_text(encoding="utf-8")),
                   json.loads((tmp_path / "summary.json").read_text(encoding="utf-8")), "summary.json")


def test_headline_figures_are_read_off_the_stage_tables(root):
    shaoxing = json.loads((root / "reports" / "shaoxing" / "summary.json").read_text(encoding="utf-8"))
    kmo = pd.read_csv(root / "data" / "processed" / "shaoxing" / "kmo.csv", float_precision="round_trip").set_index("indicator")["msa"]
    assert shaoxing["kmo"] == kmo["overall"]
    assert shaoxing["factors"] == 2
    assert shaoxing["variance_explained"] == pytest.approx(0.4984365547308482, abs=1e-12)
    assert [(s["id"], s["customers"]) for s in shaoxing["segments"]] == [("AAA", 40), ("AA", 80), ("A", 160),
                                                                         ("A-", 120)]
    churners = json.loads((root / "reports" / "bank_churners" / "summary.json").read_text(encoding="utf-8"))
    discrimination = pd.read_csv(root / "data" / "processed" / "bank_churners" / "churn_discrimination.csv",
                                 float_precision="round_trip")
    assert churners["auc"] == dict(zip(discrimination["model"], discrimination["roc_auc"]))
    assert churners["kmo"] is None and churners["kind"] == "public"
    assert [s["id"] for s in churners["segments"]][0] == "top"  # best tier first (the tiers are listed lowest first in the params)
    survey = json.loads((root / "reports" / "sz" / "summary.json").read_text(encoding="utf-8"))
    efa = pd.read_csv(root / "data" / "processed" / "sz" / "efa_loadings.csv")
    assert survey["variance_explained"] == pytest.approx(efa["communality"].mean(), abs=1e-15)


def test_language_is_a_parameter(root, tmp_path):
    english = build(root, "shaoxing", tmp_path / "en", lang="en").read_text(encoding="utf-8")
    chinese = build(root, "shaoxing", tmp_path / "zh", lang="zh").read_text(encoding="utf-8")
    assert "Stage 3: factor analysis and models" in english and "第三阶段" not in english
    assert "第三阶段：因子分析与模型" in chinese and "Stage 3:" not in chinese
    assert '<html lang="zh-CN">' in chinese and "crmlib run shaoxing --lang en" in english
    header = pd.read_csv(tmp_path / "en" / "tables" / "strategy.csv").columns.tolist()
    assert "strategies" in header and "策略" not in header


def test_reproducibility_block(root):
    page = (root / "reports" / "bank_churners" / "report.html").read_text(encoding="utf-8")
    assert "43ca13694e719f0c79ce710a5989327ad448eb2c6dfe9b828dcf6c19ec7f5add" in page  # data/raw README
    assert provenance.sha256(root / "params" / "bank_churners.yaml") in page
    assert "crmlib run bank_churners --lang en" in page
    seeds = provenance.random_seeds(load_params(root / "params" / "a_branch.yaml"))
    assert {"customer_base.churn_model.seed", "customer_base.concentration.bootstrap.seed",
            "synthetic_panel.seed"} <= set(seeds["key"])
    versions = provenance.package_versions().set_index("package")["version"]
    assert versions["pandas"] == pd.__version__ and versions["openpyxl"] == openpyxl.__version__


def test_a_case_of_factor_analysis_alone(make_case, tmp_path):
    """A factor-grading case without grades runs stages 01 to 03 only, and its report shows no grade section."""
    from conftest import run_stages
    params = load_params(make_case(n=80, edit_params=lambda p: p["factor_grading"].pop("grading")))
    assert params.stages == ["01_clean", "02_indicators", "03_factor_analysis"]
    run_stages(params, tmp_path / "processed")
    page = case_report.write_case_report(params, tmp_path / "processed", tmp_path / "report", lang="en",
                                         command="crmlib run x", progress=lambda _: None).read_text(encoding="utf-8")
    assert 'id="03_factor_analysis"' in page and 'id="04_segmentation"' not in page
    assert {p.stem for p in (tmp_path / "report" / "figures").glob("*.png")} == {"scree", "loadings_heatmap"}
    assert json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))["segments"] == []


def test_a_private_case_is_never_labelled_public(make_case, tmp_path):
    from conftest import run_stages
    params = load_params(make_case(n=80, edit_params=lambda p: p["data"].update(kind="private")))
    run_stages(params, tmp_path / "processed")
    page = case_report.write_case_report(params, tmp_path / "processed", tmp_path / "report", lang="zh",
                                         command="crmlib run x", progress=lambda _: None).read_text(encoding="utf-8")
    assert '<div class="banner private">非公开数据' in page and "公开数据：" not in page.replace("非公开数据：", "")
    assert json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))["kind"] == "private"
    assert (tmp_path / "processed" / "customers_with_ids.xlsx").is_file()


def test_a_key_beyond_the_sheet_rows_is_written_whole_as_parquet(make_case, tmp_path, monkeypatch):
    """A private base of more customers than the customer sheet holds gets its whole pseudonym key, as Parquet
    (an Excel sheet would cut it at 1,048,576 rows without a word); so does the report's per-customer table above
    the Parquet size, which the workbook's note then names."""
    from conftest import run_stages
    params = load_params(make_case(n=80, edit_params=lambda p: p["data"].update(kind="private")))
    run_stages(params, tmp_path / "processed")
    case_report.write_case_report(params, tmp_path / "processed", tmp_path / "report", lang="en", command="x",
                                  progress=lambda _: None)
    assert (tmp_path / "report" / "tables" / "customers.csv").is_file()
    monkeypatch.setattr(case_report, "SHEET_ROWS", 10)
    monkeypatch.setattr(case_report, "EXCERPT_ROWS", 10)
    monkeypatch.setattr(io, "PARQUET_ROWS", 50)
    case_report.write_case_report(params, tmp_path / "processed", tmp_path / "report", lang="en", command="x",
                                  progress=lambda _: None)
    assert not (tmp_path / "processed" / "customers_with_ids.xlsx").exists()
    key = pd.read_parquet(tmp_path / "processed" / "customers_with_ids.parquet")
    clean = pd.read_csv(tmp_path / "processed" / "clean_indicators.csv", dtype=str)
    assert len(key) == len(clean) == 80 and set(key["customer_id"]) == set(clean["customer_id"])
    assert list(key["customer"][:2]) == ["C000001", "C000002"]
    assert not (tmp_path / "report" / "tables" / "customers.csv").exists()
    customers = pd.read_parquet(tmp_path / "report" / "tables" / "customers.parquet")
    assert len(customers) == 80 and list(customers.iloc[:2, 0]) == ["C000001", "C000002"]
    sheet = pd.read_excel(tmp_path / "report" / "tables.xlsx", sheet_name="customers")
    assert len(sheet) == 9 and sheet.iloc[-1, 0] == ("... 72 more customers: the workbook lists the first 8; the "
                                                     "full table is tables/customers.parquet")


def test_the_a_branch_thesis_is_one_report(root):
    """The customer base and the questionnaire of the A branch thesis are one case with one report: both data
    files in its provenance, both families' tables and figures, and the questionnaire's respondents its own."""
    page = (root / "reports" / "a_branch" / "report.html").read_text(encoding="utf-8")
    for table in ("tier_profile", "attrition_by_tier", "top_risk", "reliability", "problem_ranking", "problem_table"):
        assert f'id="table-{table}"' in page, table
    for figure in ("lorenz", "retention", "problem_ranking", "item_scree"):
        assert f'id="figure-{figure}"' in page, figure
    assert "data/raw/a_branch/customers.csv" in page and "data/raw/a_branch_survey/responses.csv" in page
    assert not (root / "reports" / "a_branch_survey").exists()
    respondents = pd.read_csv(root / "data" / "processed" / "a_branch" / "respondents.csv")
    customers = pd.read_csv(root / "data" / "processed" / "a_branch" / "clean_indicators.csv")
    assert (respondents["n_in"].iloc[0], len(customers)) == (220, 20000)


def test_the_pseudonym_salt_is_not_shown(root):
    params = load_params(root / "params" / "a_branch.yaml")
    page = (root / "reports" / "a_branch" / "report.html").read_text(encoding="utf-8")
    assert params.customer_base.pseudonym_salt not in page
    assert "pseudonym_salt: (not shown)" in page


def test_index_lists_every_case(root):
    page = (root / "reports" / "index.html").read_text(encoding="utf-8")
    for case in CASES:
        assert f'href="{case}/report.html"' in page
    assert "0.994" in page  # bank_churners' gradient boosting AUC


def test_missing_cjk_font_warns(monkeypatch):
    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name])
    monkeypatch.setattr(figures, "CJK_FONT_FILES", ())
    with pytest.warns(figures.CjkFontMissing, match="fonts-noto-cjk"):
        assert figures.use_report_style() is False


def test_cjk_font_is_used_when_installed():
    if not any(Path(p).exists() for p in ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]):
        pytest.skip("fonts-noto-cjk is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert figures.use_report_style() is True


def test_report_states_the_formula_names_the_factors_and_marks_reversed_indicators(shaoxing_report):
    page = (shaoxing_report / "report.html").read_text(encoding="utf-8")
    assert '<p class="statement">综合得分：F = ' in page and "F1 + " in page
    assert '<p class="statement">清洗所改动或剔除的数据：单位换算的单元格：0；填补的缺失值：100；截尾的数值：91' in page
    assert "因子及其含义" in page and "日均存款余额、" in page
    assert "近一年逾期天数（反向）" in page  # in the loadings, computed with the cost indicator reversed
    assert "成本型（得分中反向）" in page  # its direction in the descriptives
    assert (shaoxing_report / "figures" / "score_histogram.png").is_file()


def test_the_customer_sheet_from_parquet_stage_tables_equals_the_one_from_csv(make_case, tmp_path, monkeypatch):
    """Above the Parquet size the engine writes the per-customer stage tables and joins them into the customer
    sheet without loading them; the sheet is the same as from the CSV tables: order, pseudonyms and values."""
    from conftest import run_stages
    params = load_params(make_case(n=80, edit_params=lambda p: p["data"].update(kind="private")))
    sheets = {}
    for kind, rows in (("csv", io.PARQUET_ROWS), ("parquet", 50)):
        monkeypatch.setattr(io, "PARQUET_ROWS", rows)
        run_stages(params, tmp_path / kind)
        case_report.write_case_report(params, tmp_path / kind, tmp_path / f"report_{kind}", lang="en",
                                      command="x", progress=lambda _: None)
        sheets[kind] = pd.read_excel(tmp_path / kind / "customers_with_ids.xlsx", dtype={"customer_id": str})
    assert (tmp_path / "parquet" / "customer_grades.parquet").is_file()
    assert not (tmp_path / "parquet" / "customer_grades.csv").exists()
    assert (tmp_path / "report_parquet" / "tables" / "customers.parquet").is_file()
    assert len(sheets["csv"]) == 80 and sheets["csv"]["customer"].iloc[-1] == "C000080"
    ranked = sheets["csv"].dropna(subset=["rank"])
    assert ranked["rank"].is_monotonic_increasing and sheets["csv"]["rank"].iloc[0] == 1
    pd.testing.assert_frame_equal(sheets["parquet"], sheets["csv"])


def test_customer_sheet_has_every_customer_under_a_pseudonym(root, shaoxing_report):
    book = openpyxl.load_workbook(shaoxing_report / "tables.xlsx", read_only=True)
    rows = list(book["customers"].iter_rows(values_only=True))
    grades = pd.read_csv(root / "data" / "processed" / "shaoxing" / "customer_grades.csv", dtype={"customer_id": str})
    assert rows[0][:3] == ("客户（假名）", "F1", "F2") and len(rows) - 1 == len(grades)
    assert [r[0] for r in rows[1:4]] == ["C000001", "C000002", "C000003"]
    best = grades.sort_values("rank", kind="stable").iloc[0]
    assert rows[1][rows[0].index("排名")] == best["rank"] == 1
    ids = set(grades["customer_id"])
    assert not ids & {str(v) for row in rows for v in row}  # no raw id in the workbook
    text = (shaoxing_report / "tables" / "customers.csv").read_text(encoding="utf-8-sig")
    assert not any(customer in text for customer in ids)


def test_zh_reports_speak_chinese(root):
    """Every table header of a Chinese report is in Chinese, except factor ids and the names of statistics."""
    allowed = re.compile(r"^(F\d+|MSA|ROC AUC|PR AUC|SHA-256|z)$")
    for case in CASES:
        page = (root / "reports" / case / "report.html").read_text(encoding="utf-8")
        if 'lang="zh-CN"' not in page:
            continue
        headers = re.findall(r"<th[^>]*>([^<]*)</th>", re.sub(r"<pre>.*?</pre>", "", page, flags=re.S))
        english = [h for h in headers if not re.search(r"[\u4e00-\u9fff]", h) and not allowed.match(h)]
        assert english == [], (case, english)
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
        assert not {"True", "False", "benefit", "cost"} & set(cells), case


def test_notebook_renderings_load_nothing_from_the_network(root):
    for page in sorted((root / "reports").glob("*/0*.html")):
        html = page.read_text(encoding="utf-8")
        assert "<script src=\"http" not in html and "cdnjs" not in html, page


def test_index_is_bilingual(root):
    page = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "银行客户关系管理案例研究" in page and "Bank CRM case studies" in page
    assert "因子数" in page or "保留因子" in page


def test_a_customer_sheet_beyond_its_rows_says_where_the_full_table_is(monkeypatch):
    monkeypatch.setattr(case_report, "SHEET_ROWS", 8)
    monkeypatch.setattr(case_report, "EXCERPT_ROWS", 5)
    frame = pd.DataFrame({"customer": [f"C{n:06d}" for n in range(1, 11)], "score": range(10)})
    assert case_report._within_sheet_rows(frame.iloc[:8], 8, "en", "tables/customers.csv").equals(frame.iloc[:8])
    shown = case_report._within_sheet_rows(frame.iloc[:5], 10, "en", "tables/customers.csv")
    assert len(shown) + 1 == 5  # header, 3 customers, the note
    assert list(shown["customer"][:3]) == ["C000001", "C000002", "C000003"]
    assert shown["customer"].iloc[-1] == ("... 7 more customers: the workbook lists the first 3; the full table is "
                                          "tables/customers.csv")

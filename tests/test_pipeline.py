"""The stage functions end to end: every committed table is what the code computes, on any machine."""
from __future__ import annotations

import base64
import filecmp
import json
import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine
import pytest
import yaml

from crmlib import churn, compare, engine, io, load_params, pipeline, stages, tables
from crmlib.privacy import SALT_ENV

from conftest import CASES, ROOT, engine_or_skip, run_stages, shipped_params

#: Cases cheap enough to run a second time for the byte-determinism check (the customer-base cases fit churn
#: models for seconds; their seeding is checked in test_churn.py). holzinger_swineford and spi run the survey
#: family's code, whose confirmatory factor analysis satisfaction, sz and bfi check here already.
CHEAP_CASES = ["shaoxing", "islr_credit", "jd", "credit_value", "satisfaction", "sz", "cdnow", "harman74", "bfi",
               "ability", "credit_grading"]


@pytest.mark.parametrize("case", CASES)
def test_committed_tables_are_reproduced(case, root, fresh_tables):
    """Every committed stage table equals a new run: ids, labels, grades and counts exactly, floats within the
    table's declared tolerance (crmlib.compare), so last-digit differences between machines pass."""
    differences = compare.compare_directories(root / "data" / "processed" / case, fresh_tables(case),
                                              tables.tolerances())
    assert not differences, (f"{len(differences)} differences, run `make reproduce` and commit the new results "
                             "if they are intended:\n" + "\n".join(map(str, differences[:20])))


#: The cases whose customer base an engine computes, and the share of their customers the Spark tests run on
#: (every k-th row of the customer file: 1,000 of a_branch's 20,000, 1,013 of bank_churners' 10,127).
ENGINE_CASES = {"a_branch": 20, "bank_churners": 10}


def every_kth_customer(case: str, k: int, directory: Path):
    """The params of shipped case ``case`` on every ``k``-th customer of its customer file and, for a panel, their
    rows of it: the two cut files and the params written to ``directory``, every other path of the params made
    absolute. The cells are copied as text, as the files have them."""
    raw = shipped_params(case)

    def absolute(node):  # every `path` of the params, relative to params/
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in children:
            if key == "path" and isinstance(value, str):
                node[key] = str((ROOT / "params" / value).resolve())
            else:
                absolute(value)

    absolute(raw)
    customers = pd.read_csv(raw["data"]["path"], dtype=str, keep_default_na=False).iloc[::k]
    raw["data"]["path"] = "customers.csv"
    customers.to_csv(directory / "customers.csv", index=False)
    panel = raw.get("customer_base", {}).get("panel")
    if panel is not None:
        rows = pd.read_csv(panel["path"], dtype=str, keep_default_na=False)
        rows[rows[panel["id_column"]].isin(customers[raw["data"]["id_column"]])].to_csv(
            directory / "panel.csv.gz", index=False)
        panel["path"] = "panel.csv.gz"
    path = directory / f"{case}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_params(path)


@pytest.mark.xdist_group("spark")
@pytest.mark.parametrize("case", ENGINE_CASES)
def test_spark_gives_the_tables_of_the_default_engine(case, root, tmp_path, monkeypatch):
    """Stages 01, 02, 04 and 05 on Spark (local mode, the one session of the Spark tests) and on DuckDB, on every
    k-th customer of the case (:data:`ENGINE_CASES`), give the same tables: ids, tiers and counts exactly, floats
    within each table's tolerance; the cut keeps every tier and every life-cycle stage. Stage 02 reads the panel
    without reading the file again. The whole case on DuckDB gives the committed tables
    (test_committed_tables_are_reproduced); on Spark, `crmlib run <case> --engine spark` does (README).
    Stage 03's engine part is the churn models' sample, which Spark draws as DuckDB does; the models fitted on it
    are the same Python code on either engine, so both runs take the committed stage-03 tables."""
    engine_or_skip("spark")
    monkeypatch.delenv(SALT_ENV, raising=False)
    params = every_kth_customer(case, ENGINE_CASES[case], tmp_path)
    read = ["panel_typed", "panel_rows", "panel_spans"] if params.customer_base.panel is not None else []
    for name in ("duckdb", "spark"):
        monkeypatch.setenv(engine.ENGINE_ENV, name)
        shutil.copytree(root / "data" / "processed" / case, tmp_path / name)
        for stage in params.stages:
            if stage != "03_factor_analysis":
                pipeline.run_stage(params, tmp_path / name, stage)
            if stage == "01_clean" and name == "spark":
                panel = {table: engine._MADE[table][2] for table in read}
    differences = compare.compare_directories(tmp_path / "duckdb", tmp_path / "spark", tables.tolerances())
    assert not differences, "\n".join(map(str, differences[:20]))
    assert all(engine._MADE[name][2] is made for name, made in panel.items())  # stage 02 took stage 01's panel
    base = pd.read_csv(tmp_path / "spark" / "customer_base.csv", dtype={"customer_id": str})
    assert len(base) == len(pd.read_csv(tmp_path / "customers.csv"))  # the cut's customers, not the committed ones
    assert set(base["tier"]) == {tier.id for tier in params.customer_base.tiers.levels}
    assert set(base["lifecycle"]) == {stage.id for stage in params.customer_base.lifecycle.stages}
    assert base["lost"].sum() > 0
    settings = params.customer_base.churn_model.model_copy(update={"sample_size": 500})
    samples = []
    for run in (engine.current("spark"), engine.current("duckdb")):
        run.table("customer_base", base)
        samples.append(churn.model_sample(run, settings))
    pd.testing.assert_frame_equal(*samples, check_dtype=False)


@pytest.mark.xdist_group("spark")
@pytest.mark.parametrize("case", ["shaoxing", "credit_grading"])
def test_spark_grades_as_the_default_engine(case, root, tmp_path, monkeypatch):
    """The factor-grading stages (03 and 04) on Spark give the committed tables, which DuckDB reproduces; the
    correlation matrix, from exact sums, is the same to the last bit on both engines (credit_grading: pairwise
    sums, customers with a missing indicator left unscored and ungraded)."""
    engine_or_skip("spark")
    monkeypatch.setenv(engine.ENGINE_ENV, "spark")
    params = load_params(root / "params" / f"{case}.yaml")
    committed = root / "data" / "processed" / case
    shutil.copytree(committed, tmp_path, dirs_exist_ok=True)
    for stage in ("03_factor_analysis", "04_segmentation"):
        pipeline.run_stage(params, tmp_path, stage)
    differences = compare.compare_directories(committed, tmp_path, tables.tolerances())
    assert not differences, "\n".join(map(str, differences[:20]))
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "correlation_matrix.csv"),
                                  pd.read_csv(committed / "correlation_matrix.csv"), check_exact=True)


@pytest.mark.parametrize("case", ENGINE_CASES)
def test_two_duckdb_runs_of_a_customer_base_give_the_same_bytes(case, root, fresh_tables, tmp_path, monkeypatch):
    """DuckDB adds on several threads in no fixed order; the sums are exact (crmlib.engine.EXACT), so two runs
    write the same bytes. Stages 01, 02 and 04 (the engine's; 03 fits the churn models, seeded). Both runs are
    made here, in this test session, so their bytes must agree; the committed tables, made elsewhere, are compared
    numerically (test_committed_tables_are_reproduced)."""
    params = load_params(root / "params" / f"{case}.yaml")
    monkeypatch.delenv(SALT_ENV, raising=False)
    fresh = fresh_tables(case)
    shutil.copytree(fresh, tmp_path, dirs_exist_ok=True)
    for stage in ("01_clean", "02_indicators", "04_segmentation"):
        written = pipeline.run_stage(params, tmp_path, stage)
        names = [io.table_file(tmp_path, name).name for name in written]
        assert filecmp.cmpfiles(tmp_path, fresh, names, shallow=False)[1:] == ([], [])


@pytest.mark.parametrize("case", CHEAP_CASES)
def test_two_runs_on_one_machine_give_byte_identical_tables(case, root, fresh_tables, tmp_path):
    """Both runs are made here, so their bytes must agree; the committed tables, made elsewhere, are compared
    numerically (test_committed_tables_are_reproduced)."""
    run_stages(load_params(root / "params" / f"{case}.yaml"), tmp_path)
    names = sorted(p.name for pattern in ("*.csv", "*.parquet") for p in tmp_path.glob(pattern)) + ["stages.json"]
    assert len(names) >= 10
    match, mismatch, errors = filecmp.cmpfiles(tmp_path, fresh_tables(case), names, shallow=False)
    assert (mismatch, errors) == ([], [])


def _perturbed(table: pd.DataFrame, relative: float) -> pd.DataFrame:
    """Every float cell moved by ``relative`` of itself, and exact zeros by rounding noise: what another CPU
    may print in the last digits."""
    changed = table.copy()
    for column in changed.columns:
        if pd.api.types.is_float_dtype(changed[column]):
            values = changed[column].to_numpy()
            changed[column] = np.where(values == 0, 3e-17, values * (1 + relative))
    return changed


@pytest.mark.parametrize("case", CASES)
def test_last_digit_differences_pass_and_real_ones_fail(case, root):
    """The comparison accepts every committed table with all its floats perturbed in the 13th significant digit
    (and zeros turned into 3e-17), and rejects one cell changed in the 4th, naming table, row, column and both
    values."""
    directory = root / "data" / "processed" / case
    floats_seen = 0
    for path in sorted(directory.glob("*.csv")):
        table = compare.read_csv(path)
        assert compare.compare_tables(table, _perturbed(table, 1e-13), path.stem) == []
        columns = [c for c in table.columns if pd.api.types.is_float_dtype(table[c]) and table[c].abs().max() > 0.01]
        if columns:
            floats_seen += 1
            changed = table.copy()
            row = int(np.flatnonzero(table[columns[-1]].abs().to_numpy() > 0.01)[0])
            changed.loc[row, columns[-1]] = table.loc[row, columns[-1]] * (1 + 1e-3)
            differences = compare.compare_tables(table, changed, path.stem)
            assert len(differences) == 1
            text = str(differences[0])
            assert text.startswith(f"{path.stem}, row {row + 2} (") and f"column '{columns[-1]}'" in text
            assert repr(float(table.loc[row, columns[-1]])) in text and "difference" in text
    assert floats_seen >= 3


def test_comparison_is_exact_for_labels_and_counts():
    old = pd.DataFrame({"customer_id": ["a", "b"], "grade": ["AAA", "AA"], "customers": [40, 80],
                        "score": [0.5, 0.0]})
    assert compare.compare_tables(old, old.assign(score=[0.5 + 1e-12, 1e-13]), "t") == []
    assert [d.column for d in compare.compare_tables(old, old.assign(grade=["AAA", "A"]), "t")] == ["grade"]
    assert [d.column for d in compare.compare_tables(old, old.assign(customers=[40, 81]), "t")] == ["customers"]
    assert [d.column for d in compare.compare_tables(old, old.assign(score=[0.5, 1e-9]), "t")] == ["score"]
    assert "columns differ" in str(compare.compare_tables(old, old.drop(columns="grade"), "t")[0])
    assert "2 rows committed, 1 new" in str(compare.compare_tables(old, old.iloc[:1], "t")[0])


@pytest.mark.parametrize("case", CASES)
def test_reference_inputs_are_the_pipeline_inputs(case, root, fresh_tables):
    """The R reference was computed on exactly the matrix stage 03 receives."""
    if load_params(root / "params" / f"{case}.yaml").survey is not None:
        pytest.skip("survey inputs are checked in test_survey.py")
    if not (root / "tests" / "reference" / case / "input.csv").is_file():
        pytest.skip(f"{case} has no factor analysis of all its indicators to compare with psych")
    first = fresh_tables(case)
    ours = pd.read_csv(first / "standardized_indicators.csv")
    reference = pd.read_csv(root / "tests" / "reference" / case / "input.csv")
    pd.testing.assert_frame_equal(ours, reference, check_exact=False, rtol=0, atol=1e-12)


def test_any_identifier_works_as_an_indicator_id(make_case, tmp_path):
    """Indicators named like output columns (share, grade, customers, mean, rank) run through every stage, the
    notebook display and the report: the indicator means per grade are a long table, so no id can collide."""
    from crmlib import case_report, report
    names = ["share", "grade", "customers", "mean", "rank"]

    def rename(p):
        for indicator, name in zip(p["indicators"], names):
            p["synthetic"]["indicators"][name] = p["synthetic"]["indicators"].pop(indicator["id"])
            indicator["column"] = indicator.get("column", indicator["id"])
            indicator["id"] = name
    params = load_params(make_case(n=80, edit_params=rename))
    processed = tmp_path / "processed"
    run_stages(params, processed)
    means = pd.read_csv(processed / "grade_indicator_means.csv")
    clean = pd.read_csv(processed / "clean_indicators.csv").set_index("customer_id")
    grades = pd.read_csv(processed / "customer_grades.csv").set_index("customer_id")["grade"]
    expected = clean["share"].groupby(grades.loc[clean.index]).mean()
    share = means[means["indicator"] == "share"].set_index("grade")["mean"]
    assert share.to_dict() == pytest.approx(expected.to_dict(), rel=1e-12)
    assert list(pd.read_csv(processed / "grade_profile.csv").columns) == ["grade", "customers", "share", "mean_score",
                                                                          "min_score", "max_score"]
    shown = report.table({"grade_indicator_means": means}, "grade_indicator_means", params).set_index("indicator")
    assert shown.loc["share", "AAA"] == pytest.approx(expected["AAA"], rel=1e-12)
    case_report.write_case_report(params, processed, tmp_path / "report", lang="en", command="crmlib run x",
                                  progress=lambda _: None)
    sheet = pd.read_csv(tmp_path / "report" / "tables" / "grade_indicator_means.csv")
    assert sheet.columns[:2].tolist() == ["indicator", "label"] and "share" in sheet["indicator"].tolist()


def test_grades_follow_the_stated_shares(root):
    grades = pd.read_csv(root / "data" / "processed" / "shaoxing" / "grade_profile.csv")
    assert grades["grade"].tolist() == ["AAA", "AA", "A", "A-"]
    assert grades["customers"].tolist() == [40, 80, 160, 120]


_DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")
_TEXT_FILES = {".ipynb", ".html", ".svg", ".csv", ".json", ".md", ".txt"}


def png_text(data: bytes) -> str:
    """The text a PNG file holds: its tEXt, zTXt and iTXt chunks (keywords and values), never the compressed
    pixel bytes, in which any short token can occur by chance."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    texts, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"tEXt":
            texts.append(body.decode("latin-1").replace("\0", " "))
        elif kind == b"zTXt":
            keyword, _, rest = body.partition(b"\0")
            texts.append(keyword.decode("latin-1") + " " + zlib.decompress(rest[1:]).decode("latin-1"))
        elif kind == b"iTXt":
            keyword, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            language, _, rest = rest.partition(b"\0")
            translated, _, text = rest.partition(b"\0")
            text = zlib.decompress(text) if compressed else text
            texts.append(" ".join(part.decode("utf-8") for part in (keyword, language, translated, text)))
    return "\n".join(texts)


def _embedded_images_as_text(text: str) -> str:
    return _DATA_URI.sub(lambda match: png_text(base64.b64decode(match.group(1))), text)


def report_text(path: Path) -> str:
    """The text a report file holds, as a reader or a program extracting text would see it: text files as text
    (images embedded as base64 replaced by their PNG text chunks), a workbook's XML members, a PNG's text
    chunks. Any other kind of file is an error, so no file escapes the scan."""
    if path.suffix == ".xlsx":  # every cell value, sheet name and document property (cell addresses such as
        # A10000 are the file's structure, not text a reader sees)
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        values = [str(v) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()
                  for v in row if v != ""]
        with zipfile.ZipFile(path) as archive:
            properties = archive.read("docProps/core.xml").decode("utf-8")
        return "\n".join(book.sheet_names + [properties] + values)
    if path.suffix == ".png":
        return png_text(path.read_bytes())
    assert path.suffix in _TEXT_FILES, f"{path}: the privacy scan does not know how to read a '{path.suffix}' file"
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        notebook = json.loads(text)
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "image/png" in data:
                    data["image/png"] = png_text(base64.b64decode(data["image/png"]))
        text = json.dumps(notebook, ensure_ascii=False)
    return _embedded_images_as_text(text)


def _png_with_text(keyword: str, value: str) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    pixels = b"R177 " * 20  # the token in (uncompressed, here) pixel bytes must not count
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + value.encode("latin-1"))
            + chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"made for R178"))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def test_privacy_scan_reads_text_chunks_not_pixels(tmp_path):
    image = tmp_path / "figure.png"
    image.write_bytes(_png_with_text("Title", "customer R176"))
    tokens = set(re.findall(r"[A-Za-z0-9]+", report_text(image)))
    assert {"R176", "R178"} <= tokens and "R177" not in tokens
    page = tmp_path / "page.html"
    page.write_text(f'<img src="data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()}">', "utf-8")
    assert "R176" in report_text(page) and "R177" not in report_text(page)
    with pytest.raises(AssertionError, match="does not know"):
        report_text(tmp_path / "screenshot.jpg")


@pytest.mark.parametrize("case", CASES)
def test_reports_show_no_customer_id(root, case):
    """Reports show aggregates and pseudonyms only: no raw customer or respondent id of any input file appears,
    as a whole token, in the text of any report file (notebooks, HTML, workbook, CSV, SVG, the text chunks of PNG
    figures, the index)."""
    params = load_params(root / "params" / f"{case}.yaml")
    ids = set()
    for _, source in params.data_sources():
        if source.id_column is not None:
            blanks = source.transactions is not None and source.transactions.separator == "whitespace"
            ids |= set(pd.read_csv(params.resolve(source.path), dtype=str, sep=r"\s+" if blanks else ",")[
                source.id_column])
    if not ids:
        pytest.skip(f"{case}'s files have no id column (customers are numbered by data row)")
    if all(i.isdigit() for i in ids) and {int(i) for i in ids} <= set(range(1, len(ids) + 1)):
        pytest.skip(f"{case}'s ids are the numbers 1, 2, ... (zero-padded or not), indistinguishable from counts in "
                    "a report")
    files = [p for p in (root / "reports" / case).rglob("*") if p.is_file()] + [root / "reports" / "index.html"]
    assert any(p.name == "tables.xlsx" for p in files) and any(p.suffix == ".svg" for p in files)
    for path in files:
        tokens = set(re.findall(r"[A-Za-z0-9]+", report_text(path)))
        assert not ids & tokens, f"{path.name} shows ids {sorted(ids & tokens)[:5]}"


def test_committed_outputs_hold_no_volatile_bytes(root):
    """No absolute path, run timestamp, duration or random id in any committed text output, so that two runs of
    the same inputs write the same bytes wherever they run."""
    volatile = {
        "absolute path": re.compile(re.escape(str(root)) + r"|/tmp/|/home/|/root/|[A-Z]:\\\\"),
        "timestamp": re.compile(r"\b20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d"),
        "duration": re.compile(r"done in \d|\d(\.\d+)? ?s elapsed|\"duration\"|\"start_time\""),  # one digit
        # finds any number before "s elapsed" without backtracking through every digit of a large table
        "random id": re.compile(r"\.staging-|\.retired-|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    }
    files = [p for folder in ("reports", "data/processed") for p in (root / folder).rglob("*")
             if p.is_file() and p.suffix in {".ipynb", ".html", ".svg", ".csv", ".json"}]
    assert len(files) > 300
    for path in files:
        text = report_text(path)
        for kind, pattern in volatile.items():
            match = pattern.search(text)
            assert match is None, f"{path.relative_to(root)} holds a {kind}: {match.group(0)!r}"


@pytest.mark.parametrize("case", CASES)
def test_notebooks_hold_exactly_the_sections_of_the_case(root, case):
    """Each executed stage notebook holds its frame and the section of every family of the case that takes part
    in the stage, with only the cells whose conditions hold, and nothing of another family; no placeholder."""
    from crmlib.runner import assemble
    params = load_params(root / "params" / f"{case}.yaml")
    assert sorted(p.stem for p in (root / "reports" / case).glob("0*.ipynb")) == params.stages
    for stage in params.stages:
        path = root / "reports" / case / f"{stage}.ipynb"
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources = ["".join(c["source"]) for c in cells if c["id"] != "injected-parameters"]
        assert sources == [c.source for c in assemble(params, stage).cells]
        families = {c["id"].rsplit("-", 1)[0] for c in cells} - {"frame", "injected"}
        assert families == {f.folder for f in params.families if f.takes_part(params, stage)
                            and f.section(stage) is not None}
        text = path.read_text(encoding="utf-8") + path.with_suffix(".html").read_text(encoding="utf-8")
        assert "Not part of this case" not in text


@pytest.mark.parametrize("case", CASES)
def test_every_table_is_declared_by_a_family_of_the_case(root, case):
    """Each stage table of a case is declared once, by one of the case's families, for the stage that wrote it,
    with every column it has."""
    params = load_params(root / "params" / f"{case}.yaml")
    records = json.loads((root / "data" / "processed" / case / "stages.json").read_text(encoding="utf-8"))
    folders = {f.folder for f in params.families}
    for stage, record in records.items():
        for name in record["tables"]:
            declared = tables.table(name)
            assert (declared.family in folders, declared.stage) == (True, stage), name
            header = pd.read_csv(root / "data" / "processed" / case / f"{name}.csv", nrows=0).columns
            assert declared.undeclared(header) == [], f"{name}: columns not in its declaration"
    written = {p.stem for p in (root / "data" / "processed" / case).glob("*.csv")}
    assert written == {name for record in records.values() for name in record["tables"]}


def test_readme_lists_every_declared_table(root):
    """The column reference in README.md is the registry's (regenerate it with `crmlib tables`)."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert tables.markdown() in readme


@pytest.mark.parametrize("case, per_customer", [("islr_credit", "factor_scores"), ("bank_churners", "customer_base")])
def test_a_table_of_more_rows_than_the_parquet_bound_is_written_as_parquet(root, tmp_path, monkeypatch, case,
                                                                           per_customer):
    """A stage table of more than crmlib.io.PARQUET_ROWS rows is written as Parquet (here the bound is lowered to
    100 rows, so islr_credit's 400 and bank_churners' 10,127 customers qualify), by the engine for a per-customer
    table: the later stages register the file itself (never loaded), the stage records hash it, and it compares
    equal to the committed CSV."""
    monkeypatch.setattr(io, "PARQUET_ROWS", 100)
    monkeypatch.delenv(SALT_ENV, raising=False)
    params = load_params(root / "params" / f"{case}.yaml")
    (tmp_path / "clean_indicators.csv").write_text("stale\n")  # from an earlier run with a smaller file
    run_stages(params, tmp_path)
    assert (tmp_path / "clean_indicators.parquet").is_file() and not (tmp_path / "clean_indicators.csv").exists()
    assert (tmp_path / "cleaning_log.csv").is_file() and not (tmp_path / "cleaning_log.parquet").exists()
    assert (tmp_path / f"{per_customer}.parquet").is_file()
    assert stages.stale_stages(params, tmp_path) == []
    assert compare.compare_directories(root / "data" / "processed" / case, tmp_path, tables.tolerances()) == []
    (tmp_path / f"{per_customer}.parquet").write_bytes(b"edited")
    assert stages.stale_stages(params, tmp_path)[0][1] == (f"its table {per_customer}.parquet was changed or "
                                                           "removed since it was written")

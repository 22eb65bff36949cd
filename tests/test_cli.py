"""The command line end to end: runs, partial runs, and one clear line for every user mistake."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crmlib import load_params
from crmlib.cli import _Progress, main


def crmlib(*args, cwd):
    return subprocess.run([sys.executable, "-m", "crmlib.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``cli(*args)``: the command line run in this process from ``tmp_path`` (``crmlib.cli.main``, without the
    seconds of a new interpreter's imports), as a finished process with its exit code and output."""
    monkeypatch.chdir(tmp_path)

    def run(*args):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, captured.out, captured.err)

    return run


def assert_user_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("crmlib: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def assert_no_outputs(out):
    leftovers = [p for p in out.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


def test_list(root):
    result = crmlib("list", cwd=root)
    assert result.returncode == 0
    assert result.stdout.split() == ["a_branch", "ability", "bank_churners", "bfi", "cdnow", "credit_grading", "credit_value",
                                     "harman74", "holzinger_swineford", "islr_credit", "jd", "satisfaction", "shaoxing", "spi", "sz"]


def test_version_and_help_with_examples(root):
    from crmlib import __version__
    version = crmlib("--version", cwd=root)
    assert (version.returncode, version.stdout.strip()) == (0, f"crmlib {__version__}")
    help_text = crmlib("--help", cwd=root).stdout
    assert "examples:" in help_text and "crmlib run shaoxing --stage 03" in help_text


def test_the_stage_kernel_runs_blas_on_one_thread_and_starts_with_the_kit_imported(monkeypatch):
    """A case run alone and in `--all` write the same bytes: the kernel's BLAS adds in one order. A kernel has
    imported the stage notebooks' modules and every family's when it is ready, has defined nothing a notebook would
    see, and keeps no IPython history (whose shared file once put an error into a notebook's output)."""
    from jupyter_core.utils import run_sync

    from crmlib.kernel import BLAS_THREADS, Kernel
    for variable in BLAS_THREADS:
        monkeypatch.setenv(variable, "4")
    with Kernel() as kernel:  # started by ready(), as at a run's first notebook
        client = kernel.ready().client()
        client.start_channels()
        try:
            probe = ("import json, os, sys\n"
                     "print(json.dumps({'history': get_ipython().history_manager.enabled, "
                     "'blas': [os.environ[v] for v in %r], 'user': sorted(k for k in globals() if "
                     "not k.startswith('_') and k not in ('In', 'Out', 'exit', 'quit', 'open', 'get_ipython', "
                     "'json', 'os', 'sys')), 'modules': [m in sys.modules for m in ('crmlib.pipeline', 'crmlib.report', "
                     "'crmlib.factors', 'crmlib.families.factor_grading.stages', 'crmlib.families.survey.display')]}))"
                     % (BLAS_THREADS,))
            printed = []
            reply = run_sync(client.execute_interactive)(
                probe, timeout=60, output_hook=lambda message: printed.append(message["content"].get("text", "")))
            assert reply["content"]["status"] == "ok"
        finally:
            client.stop_channels()
    seen = json.loads("".join(printed))
    assert seen["blas"] == ["1", "1"] and all(seen["modules"]) and seen["history"] is False
    assert seen["user"] == []


def test_a_former_case_names_the_case_it_joined(root):
    assert_user_error(crmlib("run", "a_branch_survey", cwd=root), "case 'a_branch_survey' is now part of case "
                      "'a_branch'", "crmlib run a_branch")


def test_run_outside_params_then_rerun_from_one_stage(make_case, tmp_path, cli):
    path = make_case(n=80)
    out = tmp_path / "out"
    result = cli("run", "--params", path, "--output-dir", out)
    assert result.returncode == 0, result.stderr
    assert "[tiny] finished in " in result.stdout and "report out/reports/tiny/report.html" in result.stdout
    for stage in ["01_clean", "02_indicators", "03_factor_analysis", "04_segmentation", "05_strategy"]:
        assert f"[tiny] {stage} done in" in result.stdout
        assert (out / "reports" / "tiny" / f"{stage}.ipynb").is_file()
        assert (out / "reports" / "tiny" / f"{stage}.html").is_file()
    processed = out / "data" / "processed" / "tiny"
    scores = (processed / "factor_scores.csv").read_bytes()
    records = json.loads((processed / "stages.json").read_text(encoding="utf-8"))
    assert list(records) == ["01_clean", "02_indicators", "03_factor_analysis", "04_segmentation", "05_strategy"]
    assert records["03_factor_analysis"]["upstream"]["02_indicators"] == records["02_indicators"]["digest"]
    assert str(tmp_path) not in json.dumps(records)  # no absolute path

    again = cli("run", "--params", path, "--output-dir", out, "--stage", "03")
    assert again.returncode == 0, again.stderr
    assert "01_clean" not in again.stdout and "02_indicators" not in again.stdout
    assert "[tiny] 03_factor_analysis done" in again.stdout and "[tiny] 05_strategy done" in again.stdout
    assert (processed / "factor_scores.csv").read_bytes() == scores
    assert not list(out.rglob(".staging-*"))
    page = (out / "reports" / "tiny" / "report.html").read_text(encoding="utf-8")
    assert "第三阶段" in page and "crmlib run --params " in page  # report.lang of the Shaoxing params: zh
    assert 'href="tiny/report.html"' in (out / "reports" / "index.html").read_text(encoding="utf-8")
    english = cli("report", "--params", path, "--output-dir", out, "--lang", "en")
    assert english.returncode == 0, english.stderr
    assert "Stage 3: factor analysis" in (out / "reports" / "tiny" / "report.html").read_text(encoding="utf-8")
    assert (out / "reports" / "tiny" / "03_factor_analysis.ipynb").is_file()  # the notebooks stay
    assert {p.name for p in (out / "reports" / "tiny" / "figures").glob("*.svg")} == \
        {"scree.svg", "loadings_heatmap.svg", "biplot.svg", "score_histogram.svg", "grade_sizes.svg",
         "grading_robustness.svg"}
    assert not list(out.rglob(".staging-*")) and not list(out.rglob(".*.retired-*"))

    # A params change of stage 03: the report and a rerun from stage 04 refuse the stale tables, naming the fix.
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["factor_grading"]["factor_analysis"]["composite_weights"] = "eigenvalue"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for command in (["report"], ["run", "--stage", "04"]):
        stale = cli(*command, "--params", path, "--output-dir", out)
        assert_user_error(stale, "stage 03_factor_analysis of case 'tiny' are stale",
                          "params factor_grading.factor_analysis changed", "crmlib run --params case.yaml --stage 03`")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    grades = pd.read_csv(processed / "customer_grades.csv")
    assert cli("run", "--params", path, "--output-dir", out, "--stage", "3").returncode == 0
    regraded = pd.read_csv(processed / "customer_grades.csv")
    assert not np.allclose(regraded["composite_score"], grades["composite_score"])
    composite = pd.read_csv(processed / "factor_scores.csv").set_index("customer_id")["composite_score"]
    assert np.allclose(regraded.set_index("customer_id")["composite_score"], composite.loc[regraded["customer_id"]],
                       rtol=0, atol=0)  # stage 04 graded the new composite
    assert cli("report", "--params", path, "--output-dir", out).returncode == 0

    # A table changed by hand after it was written: stale too.
    table = processed / "grade_profile.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("AAA", "AAA ", 1), encoding="utf-8")
    assert_user_error(cli("report", "--params", path, "--output-dir", out),
                      "stage 04_segmentation", "grade_profile.csv was changed or removed", "--stage 04`")


def test_report_before_any_run(make_case, tmp_path):
    result = crmlib("report", "--params", make_case(n=40), "--output-dir", tmp_path / "o", cwd=tmp_path)
    assert_user_error(result, "no stage tables for case 'tiny'", "crmlib run --params case.yaml")
    assert_no_outputs(tmp_path / "o")


def test_stage_without_earlier_outputs(make_case, tmp_path):
    result = crmlib("run", "--params", make_case(n=40), "--stage", "03", "--output-dir", tmp_path / "o",
                    cwd=tmp_path)
    assert_user_error(result, "stage 01_clean of case 'tiny' are stale (it has not run)",
                      "refresh them with `crmlib run --params case.yaml`")
    assert ".staging-" not in result.stderr
    assert_no_outputs(tmp_path / "o")


def test_failed_run_leaves_previous_results_untouched(make_case, tmp_path, cli):
    """A run that fails in a stage notebook leaves the previous results (here stand-ins) as they were."""
    path = make_case(n=60)
    out = tmp_path / "out"
    for folder, name in ((out / "data" / "processed" / "tiny", "grade_profile.csv"),
                         (out / "reports" / "tiny", "report.html"), (out / "reports", "index.html")):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"previous {name}\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    csv = tmp_path / "customers.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("\nSX05,", "\nSX01,"), encoding="utf-8")
    assert_user_error(cli("run", "--params", path, "--output-dir", out), "appears more than once")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def _text_cell(table):
    table.loc[4, "信用评级得分"] = "AA+"
    return table


def test_a_data_mistake_surfacing_in_a_stage_notebook(make_case, tmp_path):
    """End to end: a mistake found while a stage notebook runs ends the run with one line naming the cell and
    the notebook cell, the data untouched and no outputs. (The catalogue, tests/test_catalogue.py, checks every
    kind of mistake through `crmlib check`, which runs the same stage functions in-process.)"""
    path = make_case(n=60, edit_data=_text_cell)
    raw = (tmp_path / "customers.csv").read_bytes()
    result = crmlib("run", "--params", path, "--output-dir", tmp_path / "o", cwd=tmp_path)
    assert_user_error(result, "customers.csv", "column '信用评级得分'", "row 6", "'AA+' is not a number",
                      "[stage 01_clean, notebook cell")
    assert (tmp_path / "customers.csv").read_bytes() == raw
    assert_no_outputs(tmp_path / "o")


def test_near_singular_data(make_case, tmp_path, cli):
    def copy_column(table):
        table["近一年欠息次数"] = table["近一年逾期天数"]
        return table
    path = make_case(n=60, edit_data=copy_column)
    result = cli("run", "--params", path, "--output-dir", tmp_path / "o")
    assert_user_error(result, "customers.csv", "singular", "overdue_days", "interest_arrears",
                      "stage 03_factor_analysis")
    assert_no_outputs(tmp_path / "o")


def test_params_mistakes(make_case, tmp_path, monkeypatch, capsys):
    """In-process (the command line's own entry point): each mistake is one line, exit code 2, nothing written."""
    monkeypatch.chdir(tmp_path)
    path = make_case(n=30)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["factor_grading"]["factor_analysis"]["rotaton"] = "varimax"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    def assert_one_line(arguments, *fragments):
        assert main(arguments) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("crmlib: error: "), lines
        assert all(fragment in lines[0] for fragment in fragments), lines[0]

    assert_one_line(["run", "--params", str(path)], "case.yaml", "factor_grading.factor_analysis.rotaton",
                    "unknown key")
    raw["factor_grading"]["factor_analysis"].pop("rotaton")
    raw["synthetic"]["n_customers"] = "many"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert_one_line(["run", "--params", str(path)], "synthetic.n_customers", "integer")
    assert_one_line(["run", "--params", str(tmp_path / "absent.yaml")], "absent.yaml", "does not exist")
    assert_one_line(["run", "nowhere"], "no case named 'nowhere'")
    assert not (tmp_path / "data").exists() or not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]


@pytest.mark.parametrize(("cell", "shown"), [("-2500", "-2500"), ("", "missing")])
def test_negative_or_missing_tier_basis_is_an_error(root, tmp_path, cell, shown, cli):
    """Without a panel the tiers are cut on an indicator; a negative or empty value used to land in the top tier."""
    lines = (root / "data" / "raw" / "bank_churners" / "bank_churners.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    column = header.index("Credit_Limit")
    rows = [line.split(",") for line in lines[1:301]]
    rows[6][column] = cell  # file row 8
    data = tmp_path / "customers.csv"
    data.write_text("\n".join(",".join(r) for r in [header] + rows) + "\n", encoding="utf-8")
    raw = yaml.safe_load((root / "params" / "bank_churners.yaml").read_text(encoding="utf-8"))
    raw["data"]["path"] = "customers.csv"
    raw["cleaning"]["missing"] = "median"  # the basis is checked before any imputation
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = cli("run", "--params", path, "--output-dir", tmp_path / "o")
    assert_user_error(result, "customers.csv", "column 'Credit_Limit'", "row 8", f"has tier basis {shown}",
                      "non-negative number", "[stage 01_clean, notebook cell")
    assert_no_outputs(tmp_path / "o")


def test_errors_name_the_final_paths_not_the_removed_staging_ones(make_case, tmp_path, monkeypatch):
    """A stage runs in a staging directory that is removed when it fails: its error names the final directory."""
    from crmlib import runner
    from crmlib.errors import InputError

    def failing_stage(params, stage, staging_reports, final_reports, parameters, kernel, output_root, engine):
        raise InputError("stage table 'x' not found", file=output_root / "tiny" / "x.csv")

    monkeypatch.setattr(runner, "_execute", failing_stage)
    with pytest.raises(InputError) as error:
        runner.run_case(make_case(n=40), output_dir=tmp_path / "o", progress=lambda _: None)
    assert ".staging-" not in str(error.value)
    assert str(tmp_path / "o" / "data" / "processed" / "tiny" / "x.csv") in str(error.value)



def test_walkthrough_from_a_messy_workbook_to_a_report(root, tmp_path, monkeypatch, capsys):
    """The README's walkthrough: new-case, check, run on examples/bank_export.xlsx (a private case by default)."""
    import shutil
    monkeypatch.chdir(tmp_path)
    shutil.copy(root / "examples" / "bank_export.xlsx", tmp_path / "bank_export.xlsx")
    assert main(["new-case", "demo", "--from", "bank_export.xlsx"]) == 0
    out = capsys.readouterr().out
    assert "14 indicators, id column '客户编号', header row 3, sheet '客户指标'" in out
    draft = load_params(tmp_path / "params" / "demo.yaml")
    assert draft.data.kind == "private" and draft.data.header_row == 3 and "data.header_row" in draft.proposed
    assert [i.direction for i in draft.indicators].count("cost") == 3  # 逾期, 欠息, 负债
    ignored = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {"params/demo.yaml", "bank_export.xlsx", "data/processed/demo/", "reports/demo/"} <= set(ignored)
    assert main(["new-case", "demo", "--from", "bank_export.xlsx"]) == 2  # never overwrites a case

    capsys.readouterr()
    assert main(["check", "demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "rows left out of the customer file: blank row: row 15; total or subtotal row: rows 35, 66, 67" in lines
    assert "customers kept: 60" in lines
    changed = ("Values changed or left out by the cleaning: converted: 59; imputed: 15; clipped: 23; customers "
               "dropped for a missing value: 0; rows of the customer file left out: 4.")
    assert changed in lines  # 59 percent-formatted debt ratios (one cell is empty), 4 rows left out
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()  # check writes nothing

    assert main(["run", "demo"]) == 0
    assert f"[demo] {changed}" in capsys.readouterr().out.splitlines()  # the run says it too
    page = (tmp_path / "reports" / "demo" / "report.html").read_text(encoding="utf-8")
    assert 'id="unconfirmed"' in page and "data.header_row" in page
    log = pd.read_csv(tmp_path / "data" / "processed" / "demo" / "cleaning_log.csv")
    assert log.set_index("indicator").loc["indicator_13", "n_converted"] == 59  # the percent-formatted debt ratio
    assert (tmp_path / "data" / "processed" / "demo" / "customers_with_ids.xlsx").is_file()  # private: the key
    assert not list((tmp_path / "reports").rglob("*with_ids*"))


def test_progress_shows_elapsed_seconds_on_a_terminal_and_plain_lines_in_a_log():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    log, terminal = io.StringIO(), Terminal()
    for stream in (log, terminal):
        progress = _Progress(stream, after=0.0, every=0.05)
        progress("[x] 01_clean ...")
        time.sleep(0.3)
        progress("[x] 01_clean done in 0.3 s")
        progress("[x] 02_indicators ...")
        progress.close()  # a stage that failed: its line ends, the error starts a new one
    assert log.getvalue() == "[x] 01_clean ...\n[x] 01_clean done in 0.3 s\n[x] 02_indicators ...\n"
    assert "\r[x] 01_clean ... 0 s" in terminal.getvalue()
    assert "\r\033[K[x] 01_clean done in 0.3 s\n[x] 02_indicators ..." in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")


def test_new_case_reads_a_gbk_csv_and_proposes_a_questionnaire(tmp_path, cli):
    """A GBK export with a title row: the header row is found; answers on one 1-5 scale make a survey draft that
    runs as it is."""
    rng = np.random.default_rng(3)
    common = rng.normal(size=(80, 1))
    answers = np.clip(np.rint(3 + common + rng.normal(scale=0.8, size=(80, 6))), 1, 5).astype(int)
    table = pd.DataFrame(answers, columns=[f"Q{k} 服务满意度{k}" for k in range(1, 7)])
    table.insert(0, "问卷编号", [f"R{n:03d}" for n in range(80)])
    text = "客户满意度调查（导出）\n" + table.to_csv(index=False)
    (tmp_path / "问卷.csv").write_bytes(text.encode("gbk"))
    assert cli("new-case", "survey_demo", "--from", "问卷.csv").returncode == 0
    draft = load_params(tmp_path / "params" / "survey_demo.yaml")
    assert draft.survey is not None and draft.survey.data.header_row == 2
    assert draft.survey.data.id_column == "问卷编号" and (draft.survey.scale.min, draft.survey.scale.max) == (1, 5)
    assert len(draft.survey.items) == 6 and "survey.scale" in draft.proposed
    result = cli("check", "survey_demo")
    assert result.returncode == 0, result.stderr
    assert "respondents: 80 read" in result.stdout


def test_notebooks_for_exploring_carry_the_case_parameters(root, tmp_path, cli):
    result = cli("--params-dir", root / "params", "notebooks", "jd", "--out", tmp_path / "jd")
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "jd").glob("*.ipynb"))
    assert written == [f"{stage}.ipynb" for stage in load_params(root / "params" / "jd.yaml").stages]
    notebook = json.loads((tmp_path / "jd" / "03_factor_analysis.ipynb").read_text(encoding="utf-8"))
    parameters = "".join(next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))["source"])
    assert "case = 'jd'" in parameters and "output_dir = 'tables'" in parameters
    assert "params_path = '" in parameters and parameters.count("jd.yaml") == 1
    assert any("value_matrix" in "".join(c["source"]) for c in notebook["cells"])  # the family's section is in


def test_a_family_without_an_engine_path_refuses_spark(root, tmp_path, cli):
    result = cli("--params-dir", root / "params", "run", "jd", "--engine", "spark", "--output-dir", tmp_path)
    assert_user_error(result, "--engine spark", "value_matrix", "has no engine path yet", "without --engine")
    assert_no_outputs(tmp_path / "data")


def test_the_engine_choice_reaches_the_stage_notebooks(root, tmp_path, cli, monkeypatch):
    """`--engine spark --spark-master M` starts Spark in the notebooks' kernel with master M: a Spark that cannot
    start stops the first stage the engine computes in (01: the cleaning) with one line naming the master, and
    leaves no outputs. Here the Java runtime is not where JAVA_HOME says, so no Java process is started."""
    pytest.importorskip("pyspark", reason="the Spark engine needs pyspark (pip install -e '.[spark]')")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java-here"))
    result = cli("--params-dir", root / "params", "run", "bank_churners", "--engine", "spark", "--spark-master",
                 "nowhere", "--output-dir", tmp_path)
    assert_user_error(result, "Spark could not start with master 'nowhere'", "--spark-master", "stage 01_clean")
    assert_no_outputs(tmp_path / "data")


def test_compare_checks_a_run_made_elsewhere_against_the_tables_here(root, tmp_path, cli):
    """`crmlib compare CASE --output-dir D`: D's tables of the case against data/processed/CASE, as the tests
    compare a new run with the committed tables (crmlib.compare): a grade changed and a number moved in the 4th
    digit are named (exit 1); a missing run is one line (exit 2)."""
    committed = root / "data" / "processed" / "shaoxing"
    there = tmp_path / "other" / "data" / "processed" / "shaoxing"
    shutil.copytree(committed, tmp_path / "data" / "processed" / "shaoxing")
    shutil.copytree(committed, there)
    result = cli("compare", "shaoxing", "--output-dir", "other")
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["shaoxing: 0 differences in 31 tables (other/data/processed/shaoxing "
                                          "against data/processed/shaoxing)"]
    grades = pd.read_csv(there / "customer_grades.csv")
    grades.loc[1, "grade"] = "AAA"
    grades.to_csv(there / "customer_grades.csv", index=False)
    kmo = pd.read_csv(there / "kmo.csv")
    kmo.loc[0, "msa"] *= 1.0001
    kmo.to_csv(there / "kmo.csv", index=False)
    result = cli("compare", "shaoxing", "--output-dir", "other")
    lines = result.stdout.splitlines()
    assert result.returncode == 1 and len(lines) == 3
    assert lines[-1].startswith("shaoxing: 2 differences in 31 tables")
    assert lines[0] == ("customer_grades, row 3 (customer_id SX002), column 'grade': committed 'AA', new 'AAA' "
                        "(compared exactly)")
    assert lines[1].startswith("kmo, row 2 (indicator deposit_balance), column 'msa'")
    assert_user_error(cli("compare", "shaoxing", "--output-dir", "nowhere"), "no stage tables of case 'shaoxing'",
                      "crmlib run shaoxing --output-dir nowhere")

"""Shared fixtures: the repository root and small throw-away cases built from the Shaoxing params."""
from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

from crmlib import engine, load_params, pipeline
from crmlib.io import write_table
from crmlib.privacy import SALT_ENV
from crmlib.synthetic import synthesize_customers, synthesize_responses

ROOT = Path(__file__).resolve().parent.parent
CASES = ["shaoxing", "islr_credit", "jd", "credit_value", "satisfaction", "sz", "a_branch", "bank_churners", "cdnow",
         "harman74", "bfi", "ability", "credit_grading", "holzinger_swineford", "spi"]


def run_stages(params, directory) -> None:
    """Run every stage of a case in-process (:func:`crmlib.pipeline.run_stage`), tables into ``directory``."""
    for stage in params.stages:
        pipeline.run_stage(params, directory, stage)


#: The Spark tests (marked ``xdist_group("spark")``) run on one xdist worker, which starts the one Spark session
#: they share; without pyspark or a Java runtime they are skipped, saying why. They run on one core (the other
#: worker has the other), unless the environment says otherwise.
#: Their JVM compiles with C1 only and collects with one thread: these short runs on small tables then cost half the
#: CPU, which the other worker needs.
os.environ.setdefault(engine.SPARK_MASTER_ENV, "local[1]")
os.environ.setdefault(engine.SPARK_JAVA_OPTIONS_ENV, "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")


def engine_or_skip(name: str) -> engine.Engine:
    """A new engine ``name`` (:func:`crmlib.engine.current`), or the test skipped when Spark cannot start here."""
    if name == "spark" and (reason := engine.spark_available()) is not None:
        pytest.skip(f"Spark tests need pyspark and a Java runtime: {reason}")
    return engine.current(name)


@pytest.fixture
def run() -> engine.Engine:
    """A new DuckDB engine (the default)."""
    return engine.current("duckdb")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def fresh_tables(tmp_path_factory):
    """``fresh_tables(case)``: the directory of a new in-process run of a shipped case's five stages, made once
    per test session (the pseudonym salt of the params, whatever the environment says)."""
    runs: dict[str, Path] = {}

    def run(case: str) -> Path:
        if case not in runs:
            params = load_params(ROOT / "params" / f"{case}.yaml")
            directory = tmp_path_factory.mktemp(f"fresh-{case}")
            saved = os.environ.pop(SALT_ENV, None)
            try:
                run_stages(params, directory)
            finally:
                if saved is not None:
                    os.environ[SALT_ENV] = saved
            runs[case] = directory
        return runs[case]

    return run


def shipped_params(case: str) -> dict:
    return yaml.safe_load((ROOT / "params" / f"{case}.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def make_case(tmp_path):
    """Write a small case (params YAML + synthetic CSV) into tmp_path; return the params path.

    It starts from a shipped case with synthetic data from a factor model (``base``: its customer file, or a
    questionnaire case's responses); ``edit_params(dict)`` changes the YAML; ``edit_data(DataFrame)`` changes the
    text cells.
    """

    def build(n=60, edit_params=None, edit_data=None, name="case.yaml", base="shaoxing"):
        raw = copy.deepcopy(shipped_params(base))
        raw["case"] = "tiny"
        for family in ("factor_grading", "value_matrix"):  # test_robustness.py tests the robustness: a few
            if family in raw:                                # samples suffice here
                raw[family]["robustness"] = {"replicates": 10}
        section = raw if "synthetic" in raw else raw["survey"]
        section["data"]["path"] = "customers.csv"
        section["synthetic"]["n_customers"] = n
        interviews = (raw.get("survey") or {}).get("interviews")
        if interviews:
            interviews["path"] = str((ROOT / "params" / interviews["path"]).resolve())
        if edit_params:
            edit_params(raw)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        params = load_params(path)
        table = synthesize_customers(params) if section is raw else synthesize_responses(params)
        if edit_data:
            table = edit_data(table)
        write_table(table, tmp_path / "customers.csv")
        return path

    return build


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """With ``pytest -n N --dist loadgroup`` (``make test``), the stage notebooks of one case run in order on one
    worker: each reads the tables the one before wrote to ``$CRMLIB_OUTPUT_DIR/<case>``. The tests of one shipped
    case share its session run (:func:`fresh_tables`) on one worker."""
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(f"notebooks-{path.parent.name}"))
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "case" in callspec.params and "fresh_tables" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group(f"case-{callspec.params['case']}"))

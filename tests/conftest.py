"""Shared fixtures: the repository root and small throw-away cases built from the Shaoxing params."""
from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest
import yaml
from nbval.plugin import IPyNbFile

from crmlib import engine, io, load_params, pipeline, tables
from crmlib.io import write_table
from crmlib.privacy import SALT_ENV
from crmlib.synthetic import synthesize_customers, synthesize_responses

ROOT = Path(__file__).resolve().parent.parent
CASES = ["shaoxing", "islr_credit", "jd", "credit_value", "satisfaction", "sz", "a_branch", "bank_churners", "cdnow",
         "harman74", "bfi", "ability", "credit_grading", "holzinger_swineford", "spi"]


def run_stages(params, directory, stages=None) -> None:
    """Run the ``stages`` of a case (all by default) in-process (:func:`crmlib.pipeline.run_stage`), tables into
    ``directory``."""
    for stage in params.stages if stages is None else stages:
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


#: The report notebooks nbval executes, per case: their cells collected, and those that ran and passed (or were
#: skipped) in this worker (:class:`NotebookCells`).
NOTEBOOK_CELLS: dict[str, set[str]] = {}
NOTEBOOK_CELLS_PASSED: dict[str, set[str]] = {}


def notebook_run(case: str) -> Path | None:
    """The tables of the run nbval made of ``case``'s report notebooks in this worker (into
    ``$CRMLIB_OUTPUT_DIR/<case>``), when every one of its cells passed; else None."""
    cells = NOTEBOOK_CELLS.get(case)
    if not cells or cells != NOTEBOOK_CELLS_PASSED.get(case) or io.OUTPUT_DIR_ENV not in os.environ:
        return None
    return io.processed_dir(case, None)


def stages_keyed_by_the_salt(params) -> list[str]:
    """The stages of ``params`` from the first that writes a table keyed by the pseudonym salt (a pseudonym or
    the salt's source) on."""
    families = {family.folder for family in params.families}
    keyed = {table.stage for table in tables.registry().values()
             if table.family in families and {"pseudonym", "salt_source"} & set(table.columns)}
    first = min((params.stages.index(stage) for stage in keyed), default=len(params.stages))
    return list(params.stages[first:])


@pytest.fixture(scope="session")
def fresh_tables(tmp_path_factory):
    """``fresh_tables(case)``: the directory of a new run of a shipped case's five stages, made once per test
    session, under the pseudonym salt of the params whatever the environment says. In ``make test`` it is the run
    nbval has just made of the case's report notebooks on this worker (:func:`notebook_run`), with the stages
    that write pseudonyms run again in-process when nbval ran under a salt of its own; else an in-process run."""
    runs: dict[str, Path] = {}

    def run(case: str) -> Path:
        if case not in runs:
            params = load_params(ROOT / "params" / f"{case}.yaml")
            notebooks, stages = notebook_run(case), list(params.stages)
            if notebooks is not None:
                stages = stages_keyed_by_the_salt(params) if os.environ.get(SALT_ENV) else []
            if not stages:
                runs[case] = notebooks
                return notebooks
            directory = tmp_path_factory.mktemp(f"fresh-{case}")
            if notebooks is not None:
                shutil.copytree(notebooks, directory, dirs_exist_ok=True)
            with pytest.MonkeyPatch.context() as patch:
                patch.delenv(SALT_ENV, raising=False)
                run_stages(params, directory, stages)
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
    """With ``pytest -n N --dist loadgroup`` (``make test``), the report notebooks of a shipped case and the tests
    of that case sharing its run (:func:`fresh_tables`) go to one worker, notebooks first and in order: each
    notebook reads the tables the one before wrote to ``$CRMLIB_OUTPUT_DIR/<case>``, and the tests then compare
    that run with the committed tables instead of making another."""
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(f"case-{path.parent.name}"))
            NOTEBOOK_CELLS.setdefault(path.parent.name, set()).add(item.nodeid)
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "case" in callspec.params and "fresh_tables" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group(f"case-{callspec.params['case']}"))
    items.sort(key=lambda item: Path(str(item.fspath)).suffix != ".ipynb")  # stable: cells keep their order


class NotebookCells:
    """Counts the report notebooks' cells that passed (:func:`notebook_run`); a failure anywhere in a notebook (its
    kernel's start included) leaves its case to an in-process run. A plugin of the whole session, since the
    notebooks lie outside this directory, where this file's own hooks do not reach."""

    @staticmethod
    def pytest_runtest_logreport(report):
        path = Path(report.nodeid.split("::")[0])
        if path.suffix != ".ipynb":
            return
        case = path.parent.name
        if report.failed:
            NOTEBOOK_CELLS.pop(case, None)
        elif report.when == "call":  # pytest-xdist appends the group to the id
            NOTEBOOK_CELLS_PASSED.setdefault(case, set()).add(report.nodeid.removesuffix(f"@case-{case}"))


class SharedNotebookKernel:
    """The report notebooks a worker re-executes share one kernel, as ``crmlib run --all`` runs them
    (:class:`crmlib.kernel.Kernel`): before each notebook its directory becomes the working directory and the
    namespace is cleared (``%reset -f``; imported modules stay loaded), so a notebook sees nothing an earlier one
    defined. nbval would start a kernel per notebook, and the kernel's start and the kit's imports are about
    2.3 s of each notebook. A kernel that died, or that nbval stopped after a cell it could not interrupt, is
    replaced."""

    def __init__(self):
        self.kernel = None
        self.patch = pytest.MonkeyPatch()
        self.patch.setattr(IPyNbFile, "setup", lambda notebook: self.setup(notebook))
        self.patch.setattr(IPyNbFile, "teardown", lambda notebook: None)

    def setup(self, notebook: IPyNbFile) -> None:
        if self.kernel is None or not self.kernel.is_alive():
            self.stop()
            ORIGINAL_NOTEBOOK_SETUP(notebook)
            self.kernel = notebook.kernel
            return
        notebook.kernel = self.kernel
        code = f"__import__('os').chdir({notebook.fspath.dirname!r})\nget_ipython().run_line_magic('reset', '-f')"
        message = self.kernel.execute_cell_input(code, allow_stdin=False)
        self.kernel.await_reply(message, timeout=60)
        self.kernel.await_idle(message, timeout=60)
        notebook.setup_sanitize_files()

    def stop(self) -> None:
        if self.kernel is not None and self.kernel.is_alive():
            self.kernel.stop()
        self.kernel = None

    def pytest_unconfigure(self, config):
        self.stop()
        self.patch.undo()


ORIGINAL_NOTEBOOK_SETUP = IPyNbFile.setup


def pytest_configure(config):
    config.pluginmanager.register(NotebookCells(), "crmlib-notebook-cells")
    config.pluginmanager.register(SharedNotebookKernel(), "crmlib-shared-notebook-kernel")

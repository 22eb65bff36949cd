"""Run a case's stage notebooks with papermill, all or nothing.

A run writes into staging directories next to the final ones
(``data/processed/.staging-<token>/<case>`` and ``reports/.staging-<token>/<case>``)
and, only when every requested stage has succeeded, swaps them into place. A
failed run leaves the previous results untouched and no partial outputs.

After the stages, the case report (:mod:`crmlib.case_report`) is written into
the same staging directory, so it is swapped in with the notebooks; then
``reports/index.html`` is rewritten.

The executed notebooks are sanitized before they are saved: papermill's timing
metadata is removed, so two runs of the same inputs give the same files.
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import papermill
from nbconvert import HTMLExporter

from . import case_report, engine, figures, io, provenance
from . import stages as stages_module
from .check import change_line, read_changes
from .errors import InputError, StageFailure
from .kernel import Kernel
from .params import STAGES, find_params, load_params

__all__ = ["NOTEBOOK_DIR", "RunResult", "assemble", "resolve_stages", "run_case", "write_report"]

#: The frames of the five stage notebooks (jupytext percent scripts); the families add their sections.
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


@dataclass
class RunResult:
    """Where a run wrote and how long each stage took (seconds)."""

    case: str
    processed_dir: Path
    reports_dir: Path
    seconds: dict[str, float] = field(default_factory=dict)


def resolve_stages(requested, available=STAGES) -> list[str]:
    """The stages a run executes: from the earliest requested one (``"03"``, ``"3"``, ``"03_factor_analysis"``)
    to the last, in pipeline order, since every later stage reads its tables.

    ``available`` are the stages the case runs (its params' ``stages``); all of them when none are requested.
    """
    if not requested:
        return list(available)
    first = len(available)
    for item in requested:
        matches = [n for n, s in enumerate(available) if s == item or s.split("_")[0] == str(item).zfill(2)]
        if not matches:
            raise InputError(f"unknown stage '{item}' for this case (its stages: {', '.join(available)}): "
                             "give one of these, by number or name")
        first = min(first, matches[0])
    return list(available[first:])


def _params_path(case_or_path, params_dir) -> Path:
    candidate = Path(str(case_or_path))
    if candidate.suffix in {".yaml", ".yml"}:
        return candidate
    return find_params(str(case_or_path), params_dir)


def _read_script(path: Path) -> nbformat.NotebookNode:
    return jupytext.reads(path.read_text(encoding="utf-8"), fmt="py:percent")


def assemble(params, stage: str) -> nbformat.NotebookNode:
    """The stage notebook of a case: the stage's frame (``notebooks/<stage>.py``: parameters, the data banner, the
    run of the stage) and, in registry order, the section of each of the case's families that takes part in the
    stage (``crmlib/families/<family>/sections/<stage>.py``). A section cell marked ``when="<name>"`` is kept only
    when the family's condition ``<name>`` holds for the case (:attr:`crmlib.families.Family.conditions`), so the
    notebook holds nothing that does not apply to the case."""
    notebook = _read_script(NOTEBOOK_DIR / f"{stage}.py")
    for number, cell in enumerate(notebook.cells):
        cell.id = f"frame-{number}"
    for family in params.families:
        section = family.section(stage)
        if section is None or not family.takes_part(params, stage):
            continue
        for number, cell in enumerate(_read_script(section).cells):
            condition = cell.metadata.pop("when", None)
            if condition is not None and not family.conditions[condition](params):
                continue
            cell.id = f"{family.folder}-{number}"
            notebook.cells.append(cell)
    notebook.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}
    return notebook


def write_exploration_notebooks(case_or_path, out_dir=None, params_dir="params") -> list[Path]:
    """Write a case's stage notebooks, assembled as a run assembles them (:func:`assemble`) and with the case's
    parameters filled in, to ``out_dir`` (``explore/<case>/`` by default) for exploring in JupyterLab beside the
    pipeline. Their tables go to ``<out_dir>/tables``, never over the pipeline's outputs; run them in order."""
    params_path = _params_path(case_or_path, params_dir).resolve()
    params = load_params(params_path)
    out = Path(out_dir or Path("explore") / params.case).resolve()
    parameters = {"case": params.case, "params_path": os.path.relpath(params_path, out), "output_dir": "tables"}
    written = []
    for stage in params.stages:
        notebook = assemble(params, stage)
        cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
        cell.source = "# Parameters: this case's, filled in by `crmlib notebooks`.\n" + "".join(
            f"{name} = {value!r}\n" for name, value in parameters.items())
        written.append(io.write_bytes(nbformat.writes(notebook).encode("utf-8"), out / f"{stage}.ipynb"))
    return written


def _sanitize(path: Path) -> nbformat.NotebookNode:
    """Drop the runner's preparation cell, and remove what differs between two runs of the same inputs:
    papermill's timings and random cell id (execution counts are renumbered from 1)."""
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("papermill", None)
    notebook.cells = [cell for cell in notebook.cells if PREPARATION_TAG not in cell.metadata.get("tags", [])]
    count = 0
    for cell in notebook.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill gives it a random id
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code" and cell.execution_count is not None:
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = count
    nbformat.write(notebook, path)
    return notebook


def _swap_into_place(staged: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    retired = final.parent / f".{final.name}.retired-{uuid.uuid4().hex[:8]}"
    if final.exists():
        os.replace(final, retired)
    os.replace(staged, final)
    if retired.is_dir():
        shutil.rmtree(retired, ignore_errors=True)
    else:
        retired.unlink(missing_ok=True)


@functools.cache
def _html_exporter() -> HTMLExporter:
    """One exporter per process: its templates are compiled once, not once per notebook. The template
    (``crmlib/templates/nbconvert/offline``) is JupyterLab's without the scripts it loads from a CDN."""
    return HTMLExporter(template_name="offline",
                        extra_template_basedirs=[str(Path(__file__).resolve().parent / "templates" / "nbconvert")])


#: Tag of the preparation cell the runner puts first in every notebook it executes.
PREPARATION_TAG = "crmlib-preparation"


def _preparation(cwd: Path, output_dir: Path, engine: dict[str, str]) -> nbformat.NotebookNode:
    code = (f"__import__('os').chdir({str(cwd)!r})  # first: the last case's directory may be gone\n"
            "get_ipython().run_line_magic('reset', '-f')\n"
            f"__import__('os').environ[{io.OUTPUT_DIR_ENV!r}] = {str(output_dir)!r}\n"
            f"__import__('os').environ.update({engine!r})\n"
            "get_ipython().execution_count = 0  # the next cell is number 1\n"
            "__import__('gc').freeze()  # what survives the reset (the modules) is left out of later collections\n")
    return nbformat.v4.new_code_cell(code, metadata={"tags": [PREPARATION_TAG]})


def _execute(params, stage: str, staging_reports: Path, final_reports: Path, parameters: dict, kernel: Kernel,
             output_root: Path, engine: dict[str, str]) -> nbformat.NotebookNode:
    """Run one stage notebook in ``kernel``, its tables written under ``output_root`` (``$CRMLIB_OUTPUT_DIR``), on
    the engine the variables ``engine`` name (:mod:`crmlib.engine`); returns the notebook as saved."""
    output = staging_reports / f"{stage}.ipynb"
    notebook = assemble(params, stage)
    notebook.cells.insert(0, _preparation(final_reports, output_root, engine))
    try:
        papermill.execute_notebook(notebook, str(output), parameters=parameters,
                                   cwd=str(final_reports), kernel_name="python3", progress_bar=False,
                                   log_output=False, report_mode=False, request_save_on_cell_execute=False,
                                   km=kernel.ready())
    except papermill.PapermillExecutionError as exc:
        where = f"stage {stage}, notebook cell {exc.exec_count}"
        if exc.ename == "KeyboardInterrupt":  # Ctrl-C reaches the kernel too
            raise KeyboardInterrupt from None
        if exc.ename == "InputError":
            raise InputError(f"{exc.evalue} [{where}]") from None
        raise StageFailure(f"{where} failed: {exc.ename}: {exc.evalue}") from None
    return _sanitize(output)


def _write_page(notebook: nbformat.NotebookNode, path: Path) -> None:
    """The HTML page of an executed stage notebook."""
    html, _ = _html_exporter().from_notebook_node(notebook)
    path.write_text(html, encoding="utf-8")


def engine_settings(params, name: str | None = None, master: str | None = None, remote: str | None = None
                    ) -> dict[str, str]:
    """The environment that tells the stage notebooks which engine computes (:mod:`crmlib.engine`), checked
    against the case's families.

    Raises
    ------
    InputError
        For Spark when a family of the case has no engine path, or Spark cannot start here.
    """
    name = name or "duckdb"
    if name not in engine.ENGINES:
        raise InputError(f"unknown engine '{name}': choose one of {', '.join(engine.ENGINES)}")
    if name != "duckdb":
        for family in params.families:
            if family.engine_path == "none":
                raise InputError(f"--engine {name}: the {family.title_en.lower()} family ({family.folder}) of case "
                                 f"'{params.case}' has no engine path yet (it computes in memory): run the case "
                                 "without --engine")
        reason = engine.spark_available() if remote is None else None
        if reason is not None:
            raise InputError(f"--engine {name}: Spark cannot start here: {reason}")
    return {engine.ENGINE_ENV: name, engine.SPARK_MASTER_ENV: master or "", engine.SPARK_REMOTE_ENV: remote or ""}


def run_case(case_or_path, *, stages=None, output_dir=None, params_dir="params", lang=None,
             progress=print, kernel: Kernel | None = None, engine_name: str | None = None,
             spark_master: str | None = None, spark_remote: str | None = None) -> RunResult:
    """Run a case through its stage notebooks.

    Parameters
    ----------
    case_or_path : str or path
        A case name in ``params_dir`` (``"shaoxing"``) or the path of a params
        file anywhere (``"my/case.yaml"``).
    stages : list of str, optional
        Rerun from this stage on (``["03"]`` runs 03, 04 and 05); all five by
        default. A partial run reads the earlier stages' tables from the
        previous run's outputs, and stops with an :class:`InputError` when
        they are stale (:mod:`crmlib.stages`).
    output_dir : path, optional
        Root of the outputs (``<root>/data/processed/<case>``,
        ``<root>/reports/<case>``); the current directory by default.
    lang : {"en", "zh"}, optional
        Language of the case report; the params' ``report.lang`` by default.
    progress : callable
        Receives one line per stage start and end (``print`` by default).
    kernel : Kernel, optional
        The kernel to run the notebooks in (one for this case by default); ``crmlib run --all`` gives each of
        its worker processes one for all the cases it runs.
    engine_name, spark_master, spark_remote : str, optional
        The engine of the customer-base computations (``"duckdb"``, the default, or ``"spark"``) and where
        Spark runs (:func:`engine_settings`). Every engine gives the same tables.

    Raises
    ------
    InputError
        A mistake in the params or data, with the stage and cell where it surfaced.
    StageFailure
        Any other failure of a stage notebook, naming the stage and cell.
    """
    params_path = _params_path(case_or_path, params_dir).resolve()
    params = load_params(params_path)
    chosen = resolve_stages(stages, params.stages)
    settings = engine_settings(params, engine_name, spark_master, spark_remote)
    root = writable_root(output_dir)
    final_processed = root / "data" / "processed" / params.case
    final_reports = root / "reports" / params.case
    earlier = [s for s in params.stages if s not in chosen]
    if earlier:
        stages_module.check_current(params, final_processed, earlier,
                                    lambda stage: provenance.run_command(params, params_dir, stage=stage))
    token = f".staging-{uuid.uuid4().hex[:12]}"
    staging_processed = root / "data" / "processed" / token / params.case
    staging_reports = root / "reports" / token / params.case
    final_reports.mkdir(parents=True, exist_ok=True)
    result = RunResult(params.case, final_processed, final_reports)
    began = time.perf_counter()
    try:
        if earlier:
            shutil.copytree(final_processed, staging_processed)
            shutil.copytree(final_reports, staging_reports)
        staging_processed.mkdir(parents=True, exist_ok=True)
        staging_reports.mkdir(parents=True, exist_ok=True)
        parameters = {
            "case": params.case,
            "params_path": os.path.relpath(params_path, final_reports),
            "output_dir": os.path.relpath(final_processed, final_reports),
        }
        # Each notebook's HTML page is written in a second thread while the kernel runs the next notebook.
        with (contextlib.nullcontext(kernel) if kernel is not None else Kernel() as case_kernel,
              ThreadPoolExecutor(max_workers=1) as pages):
            written = []
            for stage in chosen:
                progress(f"[{params.case}] {stage} ...")
                start = time.perf_counter()
                try:
                    notebook = _execute(params, stage, staging_reports, final_reports, parameters, case_kernel,
                                        staging_processed.parent, settings)
                    written.append(pages.submit(_write_page, notebook, staging_reports / f"{stage}.html"))
                except (InputError, StageFailure) as error:  # name the final paths: the staging ones are removed
                    message = str(error).replace(str(staging_processed), str(final_processed))
                    raise type(error)(message.replace(str(staging_reports), str(final_reports))) from None
                result.seconds[stage] = time.perf_counter() - start
                progress(f"[{params.case}] {stage} done in {result.seconds[stage]:.1f} s")
                changes = read_changes(staging_processed) if stage == "01_clean" else {}
                if changes:
                    progress(f"[{params.case}] {change_line(changes)}")
            for page in written:
                page.result()
        _write_case_report(params, staging_processed, staging_reports, lang, params_dir, progress)
        _swap_into_place(staging_processed, final_processed)
        _swap_into_place(staging_reports, final_reports)
        case_report.write_index(root / "reports")
        progress(f"[{params.case}] finished in {time.perf_counter() - began:.1f} s: report {_shown_path(final_reports)}"
                 f"/report.html, tables {_shown_path(final_processed)}")
    except KeyboardInterrupt:
        if kernel is not None:  # Ctrl-C reached it too, maybe mid-cell: stop it before its outputs are removed
            kernel.shutdown()
        raise
    finally:
        shutil.rmtree(staging_processed.parent, ignore_errors=True)
        shutil.rmtree(staging_reports.parent, ignore_errors=True)
        with contextlib.suppress(OSError):
            final_reports.rmdir()  # only if a first run failed and left it empty
    return result


def writable_root(output_dir) -> Path:
    """The root of the outputs (``output_dir``, or the working directory), checked to be a directory one can write
    in before anything runs.

    Raises
    ------
    InputError
        When it is a file, or cannot be created or written.
    """
    root = Path(output_dir or ".").resolve()
    if root.exists() and not root.is_dir():
        raise InputError("the output directory is a file: give --output-dir a directory", file=root)
    try:
        for directory in (root / "data" / "processed", root / "reports"):
            directory.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=directory).close()
    except OSError as exc:
        raise InputError(f"cannot write the outputs here ({exc.strerror}): give --output-dir a directory you may "
                         "write in", file=exc.filename or root) from None
    return root


def _shown_path(path: Path) -> str:
    """A path as a progress line shows it: relative to the working directory when it lies below it."""
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


#: The report's own outputs inside ``reports/<case>`` (the rest are the stage notebooks).
REPORT_OUTPUTS = ("report.html", "summary.json", "tables.xlsx", "tables", "figures")


def _write_case_report(params, processed: Path, reports: Path, lang, params_dir, progress) -> None:
    lang = lang or params.report.lang
    figures.use_report_style()
    for name in ("tables", "figures"):
        shutil.rmtree(reports / name, ignore_errors=True)
    case_report.write_case_report(params, processed, reports, lang=lang,
                                  command=provenance.run_command(params, params_dir, lang), progress=progress)


def write_report(case_or_path, *, output_dir=None, params_dir="params", lang=None, progress=print) -> Path:
    """Rewrite a case's report, figures and tables from its existing stage tables (no stage is run), then the
    index; all or nothing, like :func:`run_case`. Returns the path of ``report.html``."""
    params_path = _params_path(case_or_path, params_dir).resolve()
    params = load_params(params_path)
    root = writable_root(output_dir)
    processed = root / "data" / "processed" / params.case
    final_reports = root / "reports" / params.case
    command = provenance.run_command(params, params_dir)
    if not processed.is_dir():
        raise InputError(f"no stage tables for case '{params.case}': run it first (`{command}`)")
    stages_module.check_current(params, processed, params.stages,
                                lambda stage: provenance.run_command(params, params_dir, stage=stage))
    staging = root / "reports" / f".staging-{uuid.uuid4().hex[:12]}"
    try:
        staging.mkdir(parents=True)
        _write_case_report(params, processed, staging, lang, params_dir, progress)
        for name in REPORT_OUTPUTS:
            if (staging / name).exists():
                _swap_into_place(staging / name, final_reports / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    case_report.write_index(root / "reports")
    return final_reports / "report.html"

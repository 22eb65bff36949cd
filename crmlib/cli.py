"""Command line: ``crmlib list``, ``check``, ``new-case``, ``run``, ``report``, ``synthesize``, ``tables``.

A mistake in the user's input ends with one line on standard error and exit
code 2; a failing stage with exit code 1.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Manager
from pathlib import Path
from queue import Empty

from . import __version__
from .errors import InputError, StageFailure
from .kernel import Kernel

__all__ = ["main"]


_EXAMPLES = """examples:
  crmlib list                                  the cases in params/
  crmlib run shaoxing                          one case: stage notebooks, tables, report
  crmlib run --all                             every case, side by side on every core
  crmlib run --params my/case.yaml             a case anywhere (paths in it are relative to it)
  crmlib run shaoxing --stage 03               rerun stage 03 and the later ones
  crmlib run a_branch --engine spark           the customer base computed by Spark (local[*])
  crmlib compare a_branch --output-dir /tmp/x  a run's tables against the committed ones, numerically
  crmlib new-case demo --from export.xlsx      a draft params/demo.yaml guessed from a data file
  crmlib check shaoxing                        validate params and data, say what a run will do
  crmlib report shaoxing --lang en             rewrite the report from the stage tables
  crmlib synthesize a_branch                   regenerate a case's synthetic data files
  crmlib notebooks jd                          jd's stage notebooks, parameters filled in, in explore/jd
  crmlib tables                                what every result table holds

A mistake in a params or data file ends with one line naming the file, key or column and row (exit 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmlib", description="Run bank CRM case studies: cleaning, indicators, "
                                     "factor analysis, segmentation and strategy, one YAML file per case.",
                                     epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"crmlib {__version__}")
    parser.add_argument("--params-dir", default="params", help="directory of the case YAML files (default: params)")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="list the cases in the params directory")
    commands.add_parser("tables", help="print the column reference of every result table (Markdown, as in the "
                        "README)")

    run = commands.add_parser("run", help="run cases through the stage notebooks")
    target = run.add_mutually_exclusive_group(required=True)
    target.add_argument("case", nargs="?", help="case name (params/<case>.yaml)")
    target.add_argument("--all", action="store_true", help="run every case in the params directory")
    target.add_argument("--params", type=Path, help="a params file anywhere")
    run.add_argument("--stage", action="append", help="run only this stage (01..05); repeatable")
    run.add_argument("--output-dir", type=Path, help="root of all outputs (default: current directory)")
    run.add_argument("--lang", choices=["en", "zh"], help="language of the case report (default: the params' "
                     "report.lang)")
    run.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                     help="cases run side by side with --all (default: the number of CPU cores; 1 with Spark)")
    run.add_argument("--engine", default="duckdb",
                     help="engine of the customer-base computations: duckdb (in this process, the default) or "
                     "spark; both give the same tables")
    run.add_argument("--spark-master", help="with --engine spark: the cluster's master URL (default local[*])")
    run.add_argument("--spark-remote", help="with --engine spark: a Spark Connect server (sc://host:15002)")

    compare = commands.add_parser("compare", help="compare the stage tables of a run written elsewhere (--output-dir) "
                                  "with the case's tables here: ids, labels and counts exactly, numbers within each "
                                  "table's tolerance (exit 1 on a difference)")
    compare.add_argument("case", help="case name (its tables: data/processed/<case>)")
    compare.add_argument("--output-dir", type=Path, required=True, help="root of the other run's outputs (as given "
                         "to crmlib run)")

    check = commands.add_parser("check", help="validate a case's params and data and say what a run will do, "
                                "writing no outputs", epilog="examples:\n  crmlib check shaoxing\n  crmlib check "
                                "--params my/case.yaml", formatter_class=argparse.RawDescriptionHelpFormatter)
    which_check = check.add_mutually_exclusive_group(required=True)
    which_check.add_argument("case", nargs="?", help="case name (params/<case>.yaml)")
    which_check.add_argument("--params", type=Path, help="a params file anywhere")

    new = commands.add_parser("new-case", help="write a draft params file for a data file (CSV or Excel)",
                              epilog="examples:\n  crmlib new-case demo --from examples/bank_export.xlsx\n"
                              "  crmlib new-case mybank --from ~/exports/客户.csv --params-dir my_cases",
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    new.add_argument("case", help="name of the new case (letters, digits, _)")
    new.add_argument("--from", dest="data_file", type=Path, required=True, help="the data file (.xlsx, .xls, .csv "
                     "in UTF-8, GBK or GB18030)")
    new.add_argument("--kind", choices=["private", "synthetic", "public"], default="private",
                     help="who may see the data (default private: the params, data and outputs go into .gitignore)")

    explore = commands.add_parser("notebooks", help="write a case's stage notebooks with its parameters filled in, "
                                  "to explore in JupyterLab (tables under the folder, not over the run's)",
                                  epilog="examples:\n  crmlib notebooks jd                 explore/jd/01_clean.ipynb ..."
                                  "\n  make lab                            JupyterLab with a kernel that has crmlib",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    explore.add_argument("case", help="case name (params/<case>.yaml) or a params file")
    explore.add_argument("--out", type=Path, help="folder for the notebooks (default: explore/<case>)")

    rep = commands.add_parser("report", help="rewrite case reports from the existing stage tables (no stage runs)")
    which_report = rep.add_mutually_exclusive_group(required=True)
    which_report.add_argument("case", nargs="?", help="case name (params/<case>.yaml)")
    which_report.add_argument("--all", action="store_true", help="every case in the params directory")
    which_report.add_argument("--params", type=Path, help="a params file anywhere")
    rep.add_argument("--output-dir", type=Path, help="root of all outputs (default: current directory)")
    rep.add_argument("--lang", choices=["en", "zh"], help="language (default: the params' report.lang)")

    synth = commands.add_parser("synthesize", help="write a case's synthetic data files (customer file, panel, "
                                "questionnaire responses)")
    which = synth.add_mutually_exclusive_group(required=True)
    which.add_argument("case", nargs="?", help="case name")
    which.add_argument("--params", type=Path, help="a params file anywhere")
    synth.add_argument("--n", type=int, help="number of customers (default: the params' n_customers)")
    synth.add_argument("--seed", type=int, help="seed (default: the params' seed)")
    synth.add_argument("--out", type=Path, help="directory to write the files into, each under the file name its "
                       "params give (default: the paths the params give)")
    return parser


def _synthesize(args) -> None:
    from . import io
    from .params import find_params, load_params
    from .synthetic import synthesize_customers, synthesize_panel, synthesize_responses

    path = args.params or find_params(args.case, args.params_dir)
    params = load_params(path)
    survey = params.survey if params.survey is not None and params.survey.synthetic is not None else None
    if params.synthetic is None and params.synthetic_panel is None and survey is None:
        raise InputError("the case has no synthetic, synthetic_panel or survey.synthetic section to generate data "
                         "from: add one (params/shaoxing.yaml has an example), or use your own data file", file=params.source_file)

    def target(declared: Path) -> Path:
        return args.out / declared.name if args.out is not None else params.resolve(declared)

    if params.synthetic_panel is not None:
        customers, panel = synthesize_panel(params, n_customers=args.n, seed=args.seed)
        out, panel_out = target(params.data.path), target(params.customer_base.panel.path)
        io.write_table(customers, out)
        io.write_table(panel, panel_out)
        print(f"wrote {len(customers)} synthetic customers to {out} and {len(panel)} panel rows to {panel_out}")
    elif params.synthetic is not None:
        table = synthesize_customers(params, n_customers=args.n, seed=args.seed)
        io.write_table(table, out := target(params.data.path))
        print(f"wrote {len(table)} synthetic customers to {out}")
    if survey is not None:
        table = synthesize_responses(params, n_customers=args.n, seed=args.seed)
        io.write_table(table, out := target(survey.data.path))
        print(f"wrote {len(table)} synthetic respondents to {out}")


def _compare(case: str, output_dir: Path) -> int:
    """``crmlib compare``: one line per difference (at most five per table) and 1, or one line saying none and 0."""
    from .compare import compare_directories, table_files
    from .tables import tolerances

    here, there = Path("data") / "processed" / case, output_dir / "data" / "processed" / case
    for directory in (here, there):
        if not directory.is_dir():
            raise InputError(f"no stage tables of case '{case}' in {directory}: run `crmlib run {case}"
                             f"{'' if directory is here else f' --output-dir {output_dir}'}` first")
    differences = compare_directories(here, there, tolerances())
    for difference in differences:
        print(difference)
    plural = "" if len(differences) == 1 else "s"
    print(f"{case}: {len(differences)} difference{plural} in {len(table_files(here))} tables ({there} against {here})")
    return 1 if differences else 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    # One case's kernel starts first and imports the kit while this process imports the runner (crmlib.kernel);
    # in a process that has imported it already (main() called from Python) there is nothing to overlap.
    early = (Kernel().start() if args.command == "run" and not args.all and "crmlib.runner" not in sys.modules
             else None)
    try:
        return _command(args, early)
    finally:
        if early is not None:
            early.shutdown()


def _command(args, early: Kernel | None) -> int:
    try:
        from .case_report import write_index
        from .check import check_case
        from .new_case import new_case
        from .params import find_params, list_cases, load_params
        from .runner import write_exploration_notebooks, write_report
        from .tables import markdown

        if args.command == "list":
            for case in list_cases(args.params_dir):
                print(case)
        elif args.command == "tables":
            print(markdown(), end="")
        elif args.command == "synthesize":
            _synthesize(args)
        elif args.command == "new-case":
            for line in new_case(args.case, args.data_file, Path(args.params_dir), kind=args.kind):
                print(line)
        elif args.command == "notebooks":
            for path in write_exploration_notebooks(args.case, args.out, args.params_dir):
                print(f"wrote {path}")
        elif args.command == "compare":
            return _compare(args.case, args.output_dir)
        elif args.command == "check":
            for line in check_case(load_params(args.params or find_params(args.case, args.params_dir))):
                print(line)
        else:
            targets = list_cases(args.params_dir) if args.all else [args.params or args.case]
            if not targets:
                raise InputError(f"no case files in {args.params_dir}: write one with `crmlib new-case NAME --from FILE`, "
                                 "or give --params-dir")
            if args.command == "report":
                for target in targets:
                    write_report(target, output_dir=args.output_dir, params_dir=args.params_dir, lang=args.lang)
            elif len(targets) == 1 or args.jobs <= 1 or args.engine == "spark":  # one Spark session a run
                with early or Kernel() as kernel:
                    for target in targets:
                        _run(target, args, kernel)
            else:
                return _run_side_by_side(targets, args)
    except InputError as exc:
        print(f"crmlib: error: {exc}", file=sys.stderr)
        return 2
    except StageFailure as exc:
        print(f"crmlib: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("crmlib: interrupted; the previous results are kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output went away (`crmlib run x | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


class _Progress:
    """Progress lines of a run. On a terminal, a stage that is still running shows its elapsed seconds on its own
    line, updated ``every`` second after the first ``after`` (``[a_branch] 03_factor_analysis ... 12 s``); in a log
    (standard output not a terminal) each line is printed once, as it comes."""

    def __init__(self, stream=None, after: float = 3.0, every: float = 1.0):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()
        self.after, self.every = after, every
        self.started = None
        self.line = ""
        self.stop = threading.Event()
        self.ticker = None

    def __call__(self, line: str) -> None:
        self._finish()
        if self.live and line.endswith(" ..."):
            self.line, self.started = line, time.monotonic()
            self.stream.write(line)
            self.stream.flush()
            self.stop.clear()
            self.ticker = threading.Thread(target=self._tick, daemon=True)
            self.ticker.start()
        else:
            print(line, file=self.stream, flush=True)

    def _tick(self) -> None:
        while not self.stop.wait(self.every):
            elapsed = time.monotonic() - self.started
            if elapsed >= self.after:
                self.stream.write(f"\r{self.line} {elapsed:.0f} s")
                self.stream.flush()

    def _finish(self, end: str = "\r\033[K") -> None:
        """Stop the ticker of a running stage line and end that line with ``end`` (by default cleared: the stage's
        end line takes its place)."""
        if self.ticker is not None:
            self.stop.set()
            self.ticker.join()
            self.ticker = None
            self.stream.write(end)
            self.stream.flush()

    def close(self) -> None:
        """End a stage line left running (the stage failed or was interrupted), so an error starts a new line."""
        self._finish("\n")


def _run(target, args, kernel=None) -> None:
    from .runner import run_case

    progress = _Progress()
    try:
        run_case(target, stages=args.stage, output_dir=args.output_dir, params_dir=args.params_dir, lang=args.lang,
                 progress=progress, kernel=kernel, engine_name=args.engine, spark_master=args.spark_master,
                 spark_remote=args.spark_remote)
    finally:
        progress.close()


def _run_queued(queue, args) -> list[tuple[int, str]]:
    """A worker of :func:`_run_side_by_side`: runs cases from ``queue`` until it is empty, all in one kernel."""
    # The kernel gets this worker's share of the cores: OpenMP threads (scikit-learn's gradient boosting) spin
    # while waiting, and two kernels with a thread per core each slowed a 10 s stage to 10 minutes. (BLAS gets one
    # thread in every kernel: crmlib.kernel.BLAS_THREADS.)
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // min(args.jobs, os.cpu_count() or 1)))
    outcomes = []
    with Kernel() as kernel:
        while True:
            try:
                target = queue.get_nowait()
            except Empty:
                return outcomes
            try:
                _run(target, args, kernel)
            except InputError as exc:
                outcomes.append((2, f"crmlib: error: {exc}"))
            except StageFailure as exc:
                outcomes.append((1, f"crmlib: {exc}"))
            except KeyboardInterrupt:
                return outcomes  # the main process says so, once


def _input_bytes(target, params_dir) -> int:
    from .params import find_params, load_params
    from .provenance import input_files

    path = target if str(target).endswith((".yaml", ".yml")) else find_params(str(target), params_dir)
    return int(input_files(load_params(path))["bytes"].sum())


def _run_side_by_side(targets, args) -> int:
    """Run several cases in ``args.jobs`` worker processes, each with one notebook kernel for all the cases it
    takes from a shared queue (largest inputs first); each case is all or nothing on its own. One line per failed
    case; the exit code of the worst failure."""
    from .case_report import write_index
    jobs = min(args.jobs, len(targets))
    with Manager() as manager, ProcessPoolExecutor(max_workers=jobs) as pool:
        queue = manager.Queue()
        for target in sorted(targets, key=lambda target: -_input_bytes(target, args.params_dir)):
            queue.put(target)
        outcomes = [outcome for worker in [pool.submit(_run_queued, queue, args) for _ in range(jobs)]
                    for outcome in worker.result()]
    write_index(Path(args.output_dir or ".").resolve() / "reports")  # once more, after every case has finished
    for _, message in outcomes:
        print(message, file=sys.stderr)
    return max([code for code, _ in outcomes], default=0)


if __name__ == "__main__":
    sys.exit(main())

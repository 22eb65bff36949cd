"""The development loop against its floor: `make reproduce` and `make test`, medians of several runs.

The floor is what running the stage notebooks cannot go below: the number of stage notebooks of all cases times
the time papermill takes to execute an empty notebook, divided by the number of cores. The standing budgets are
`make test` <= 300 s (240 s, and 60 s more for the Spark tests) and `make reproduce` <= 3 x the floor. Everything runs from the repository root with the
virtual environment already created; `make reproduce` is timed as `crmlib run --all --output-dir <temporary>`, which
runs the same cases without touching the committed outputs.

    python benchmarks/bench_loop.py [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

from crmlib.params import list_cases, load_params  # noqa: E402


def seconds(command: list[str], **kwargs) -> float:
    """Wall time of ``command``; a failing command stops the benchmark with the end of its output."""
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {result.returncode}):\n" + "\n".join(
            result.stdout.splitlines()[-40:]))
    return time.perf_counter() - start


def empty_notebook_seconds(runs: int) -> float:
    """Median time of papermill executing a notebook with one empty parameters cell (kernel start included)."""
    with tempfile.TemporaryDirectory() as folder:
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        notebook.cells = [nbformat.v4.new_code_cell("case = None")]
        notebook.cells[0].metadata["tags"] = ["parameters"]
        source, output = Path(folder) / "empty.ipynb", Path(folder) / "out.ipynb"
        nbformat.write(notebook, source)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            papermill.execute_notebook(str(source), str(output), parameters={"case": "x"}, kernel_name="python3",
                                       progress_bar=False)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    notebooks = sum(len(load_params(ROOT / "params" / f"{case}.yaml").stages) for case in list_cases(ROOT / "params"))
    empty = empty_notebook_seconds(max(5, args.runs))
    floor = notebooks * empty / cores
    reproduce, test = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as out:
            reproduce.append(seconds([str(BIN / "crmlib"), "run", "--all", "--output-dir", out], cwd=ROOT))
        test.append(seconds(["make", "test"], cwd=ROOT))
    result = {
        "cores": cores, "stage_notebooks": notebooks, "empty_notebook_s": round(empty, 3), "floor_s": round(floor, 2),
        "reproduce_s": [round(t, 1) for t in reproduce], "reproduce_median_s": round(statistics.median(reproduce), 1),
        "reproduce_over_floor": round(statistics.median(reproduce) / floor, 2),
        "test_s": [round(t, 1) for t in test], "test_median_s": round(statistics.median(test), 1),
    }
    print(json.dumps(result, indent=1))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "loop.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Write the matrices the factor-analysis stage receives, for the R reference script.

For each pipeline case compared with psych, runs stages 01-02 on the committed
raw data and copies ``standardized_indicators.csv`` to
``tests/reference/<case>/input.csv``. Run by ``make reference`` before
``psych_reference.R``.
"""
import shutil
import sys
import tempfile
from pathlib import Path

from crmlib import load_params, pipeline

CASES = ("shaoxing", "islr_credit")


def main(root: Path) -> None:
    for case in CASES:
        params = load_params(root / "params" / f"{case}.yaml")
        with tempfile.TemporaryDirectory() as directory:
            pipeline.clean(params, directory)
            pipeline.build_indicators(params, directory)
            target = root / "tests" / "reference" / case / "input.csv"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(directory) / "standardized_indicators.csv", target)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))

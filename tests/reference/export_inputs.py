"""Write the matrices the pipeline analyses, for the R reference scripts.

For each indicator case compared with psych, runs stages 01-02 on the committed
raw data (credit_grading: with its missing values, cleaning.missing: pairwise) and copies
``standardized_indicators.csv`` to
``tests/reference/<case>/input.csv``; for the synthetic SZ and A-branch questionnaires, runs stage 01
and copies the cleaned answers (``responses.csv``) to
``tests/reference/<case>/input.csv`` and the respondents' attributes to ``attributes.csv``. Run by ``make reference`` before the R scripts.
"""
import shutil
import sys
import tempfile
from pathlib import Path

from crmlib import load_params, pipeline

CASES = ("shaoxing", "islr_credit", "credit_grading")
SURVEYS = ("sz", "a_branch")


def main(root: Path) -> None:
    for case in CASES:
        params = load_params(root / "params" / f"{case}.yaml")
        with tempfile.TemporaryDirectory() as directory:
            pipeline.clean(params, directory)
            pipeline.build_indicators(params, directory)
            target = root / "tests" / "reference" / case / "input.csv"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(directory) / "standardized_indicators.csv", target)
    for case in SURVEYS:
        params = load_params(root / "params" / f"{case}.yaml")
        with tempfile.TemporaryDirectory() as directory:
            pipeline.clean(params, directory)
            target = root / "tests" / "reference" / case / "input.csv"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(directory) / "responses.csv", target)
            shutil.copyfile(Path(directory) / "respondent_attributes.csv", target.with_name("attributes.csv"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))

"""A published correlation or covariance matrix and its n as the data (``data.matrix``): reading and checking the
matrix, and the factor analysis of Harman's (1976) 24 tests against R (psych, factanal) on the same matrix."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from numpy.testing import assert_allclose

from crmlib import InputError, load_params
from crmlib.families.factor_grading import display
from crmlib.io import read_matrix
from crmlib.params import CaseParams

from conftest import run_stages

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference" / "harman74"
MATRIX = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])


def _source(tmp_path, cells, of="correlation"):
    """A matrix file of indicators a, b, c with the given cells (text), and its params."""
    path = tmp_path / "matrix.csv"
    rows = ["name,a,b,c"] + [",".join([n] + row) for n, row in zip("abc", cells)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    raw = {"case": "m", "title_en": "m", "data": {"path": str(path), "kind": "synthetic", "provenance": "test",
                                                  "matrix": {"of": of, "n_obs": 50}},
           "indicators": [{"id": f"x_{n}", "label_en": n, "unit": "score", "direction": "benefit", "dimension": "d",
                           "column": n} for n in "abc"],
           "factor_grading": {"factor_analysis": {"n_factors": {"rule": "fixed", "n": 1}}}}
    params = CaseParams.model_validate(raw)
    return params.data, path, params.indicators


def _text(matrix, keep=lambda i, j: True):
    return [[f"{float(matrix[i, j])!r}" if keep(i, j) else "" for j in range(3)] for i in range(3)]


def test_a_lower_triangle_is_enough_and_the_filled_cells_are_counted(tmp_path):
    corr, log = read_matrix(*_source(tmp_path, _text(MATRIX, lambda i, j: j < i)))  # no diagonal either
    assert_allclose(corr.to_numpy(), MATRIX, rtol=0, atol=0)
    assert list(corr.index) == list(corr.columns) == ["x_a", "x_b", "x_c"]
    assert log.iloc[0].to_dict() | {"smallest_eigenvalue": 0} == {
        "of": "correlation", "n_obs": 50, "indicators": 3, "cells_from_mirror": 3, "smallest_eigenvalue": 0}
    assert log["smallest_eigenvalue"].iloc[0] == pytest.approx(np.linalg.eigvalsh(MATRIX)[0], rel=1e-12)


def test_a_covariance_matrix_is_turned_into_correlations(tmp_path):
    sd = np.array([2.0, 0.5, 10.0])
    corr, _ = read_matrix(*_source(tmp_path, _text(MATRIX * np.outer(sd, sd)), of="covariance"))
    assert_allclose(corr.to_numpy(), MATRIX, rtol=0, atol=1e-15)


@pytest.mark.parametrize("change, message", [
    (lambda m: m.__setitem__((0, 1), 0.6), r"not symmetric: this cell is 0\.6, its mirror \('b' row, 'a' column\) 0\.5"),
    (lambda m: m.__setitem__((2, 2), 0.9), r"has 1 on its diagonal, not 0\.9"),
    (lambda m: (m.__setitem__((0, 1), 1.2), m.__setitem__((1, 0), 1.2)), r"lies in \[-1, 1\], not 1\.2"),
    (lambda m: (m.__setitem__((0, 1), -0.9), m.__setitem__((1, 0), -0.9), m.__setitem__((0, 2), 0.9),
                m.__setitem__((2, 0), 0.9)), r"not positive definite \(smallest eigenvalue -0\.\d+\)"),
])
def test_a_matrix_no_data_could_give_is_an_error_naming_the_cell(tmp_path, change, message):
    matrix = MATRIX.copy()
    change(matrix)
    with pytest.raises(InputError, match=message) as error:
        read_matrix(*_source(tmp_path, _text(matrix)))
    assert "matrix.csv" in str(error.value)


def test_an_empty_pair_and_a_missing_indicator_are_errors(tmp_path):
    with pytest.raises(InputError, match=r"cell of 'a' and 'c' is empty on both sides of the diagonal"):
        read_matrix(*_source(tmp_path, _text(MATRIX, lambda i, j: {i, j} != {0, 2})))
    source, path, indicators = _source(tmp_path, _text(MATRIX))
    path.write_text(path.read_text(encoding="utf-8").replace("name,a,b,c", "name,a,b,d"), encoding="utf-8")
    with pytest.raises(InputError, match=r"indicator 'x_c' is not a column of the matrix"):
        read_matrix(source, path, indicators)


def test_a_matrix_case_has_no_grades_and_no_family_that_needs_customers(tmp_path):
    raw = yaml.safe_load((ROOT / "params" / "harman74.yaml").read_text(encoding="utf-8"))
    raw["data"]["path"] = str(ROOT / "data" / "raw" / "harman74" / "harman74_correlations.csv")
    graded = raw | {"factor_grading": raw["factor_grading"] | {"grading": yaml.safe_load(
        (ROOT / "params" / "shaoxing.yaml").read_text(encoding="utf-8"))["factor_grading"]["grading"]}}
    with pytest.raises(Exception, match=r"no customers to score, grade or resample"):
        CaseParams.model_validate(graded)
    valued = raw | {"value_matrix": yaml.safe_load((ROOT / "params" / "jd.yaml").read_text(encoding="utf-8"))[
        "value_matrix"]}
    with pytest.raises(Exception, match=r"needs customers, not a correlation matrix \(data.matrix\)"):
        CaseParams.model_validate(valued)


@pytest.fixture(scope="module")
def harman74(tmp_path_factory):
    params = load_params(ROOT / "params" / "harman74.yaml")
    directory = tmp_path_factory.mktemp("harman74")
    run_stages(params, directory)
    return params, directory


def test_harman74_matches_r_on_the_published_matrix(harman74):
    """KMO, Bartlett's test with n = 145, the eigenvalues, maximum likelihood with four factors (factanal converged
    tightly; found 1.2e-8 unrotated, 2.0e-9 varimax) and its fit (psych::fa.stats; found 3.9e-12 on chi-squares of
    order 1e2 to 1e3), every figure to 1e-6."""
    params, directory = harman74
    assert params.stages == ["01_clean", "03_factor_analysis"]

    def ours(name):
        return pd.read_csv(directory / f"{name}.csv")

    def theirs(name):
        return pd.read_csv(REFERENCE / f"{name}.csv")

    assert_allclose(ours("kmo")["msa"], theirs("kmo")["msa"], rtol=0, atol=1e-6)
    for column in ("chi_square", "df", "log_p_value"):
        assert_allclose(ours("bartlett")[column], theirs("bartlett")[column], rtol=0, atol=1e-6)
    assert_allclose(ours("eigenvalues")["eigenvalue"], theirs("eigenvalues")["eigenvalue"], rtol=0, atol=1e-6)
    factors_ = ["F1", "F2", "F3", "F4"]
    assert_allclose(ours("loadings_rotated")[factors_], theirs("ml_loadings_rotated").iloc[:, 1:5], rtol=0, atol=1e-6)
    assert_allclose(ours("loadings_unrotated").iloc[:, 1:5], theirs("ml_loadings_unrotated").iloc[:, 1:5], rtol=0,
                    atol=1e-6)
    fit, reference = ours("likelihood_fit").iloc[0], theirs("ml_fit").iloc[0]
    for column in reference.index:
        assert fit[column] == pytest.approx(reference[column], rel=1e-9, abs=1e-9), column
    assert not (directory / "factor_scores.csv").exists() and not (directory / "standardized_indicators.csv").exists()


def test_harman74_says_why_there_are_no_scores(harman74):
    params, directory = harman74
    assert display.formula_text({}, params).startswith("No factor scores, composite or grades: the data are a "
                                                       "published correlation matrix of 145 observations")
    assert "145 个观测的已发表相关矩阵" in display.formula_text({}, params, "zh")


def test_ability_a_covariance_triangle_matches_psych_principal_axes_with_promax(tmp_path):
    """The ability tests' covariance matrix given as its lower triangle: 15 cells filled from across the diagonal,
    turned into correlations, then KMO, Bartlett (n = 112) and principal axes with promax against
    fa(cov2cor(S), 2, n.obs = 112, fm = "pa", rotate = "promax") converged tightly: pattern, communalities,
    factor correlations and structure to 1e-6 (found 9.3e-12)."""
    reference = ROOT / "tests" / "reference" / "ability"
    params = load_params(ROOT / "params" / "ability.yaml")
    run_stages(params, tmp_path)
    log = pd.read_csv(tmp_path / "matrix_log.csv").iloc[0]
    assert (log["of"], log["n_obs"], log["cells_from_mirror"]) == ("covariance", 112, 15)
    assert_allclose(pd.read_csv(tmp_path / "kmo.csv")["msa"], pd.read_csv(reference / "kmo.csv")["msa"], atol=1e-6)
    ours, theirs = pd.read_csv(tmp_path / "bartlett.csv").iloc[0], pd.read_csv(reference / "bartlett.csv").iloc[0]
    assert ours["chi_square"] == pytest.approx(theirs["chi_square"], abs=1e-6)
    pattern = pd.read_csv(tmp_path / "loadings_rotated.csv").set_index("indicator")
    expected = pd.read_csv(reference / "pa_promax_pattern.csv").set_index("indicator")
    assert_allclose(pattern[["F1", "F2", "communality"]].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-6)
    phi = pd.read_csv(tmp_path / "oblique_factor_correlations.csv").set_index("factor")
    assert_allclose(phi.to_numpy(), pd.read_csv(reference / "pa_promax_phi.csv").set_index("factor"), atol=1e-6)
    structure = pd.read_csv(tmp_path / "structure_matrix.csv").set_index("indicator")
    assert_allclose(structure.to_numpy(), pd.read_csv(reference / "pa_promax_structure.csv").set_index("indicator"),
                    rtol=0, atol=1e-6)

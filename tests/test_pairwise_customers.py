"""Pairwise deletion in the factor analysis of a customer file (``cleaning.missing: pairwise``) on the
credit_grading case's z-scores with their missing values, against R psych 2.2.9 on the same file
(tests/reference/credit_grading, written by psych_pairwise.R): the engine's pairwise moments, KMO, Bartlett's test,
principal axes with quartimax, Bartlett score weights, and the scores of every ``impute`` choice of psych's
``factor.scores``, in memory and by the engine, with the grades of the customers who have a score."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from numpy.testing import assert_allclose

from crmlib import factors, io, load_params, segmentation
from crmlib.errors import InputError
from crmlib.params import CaseParams, FactorAnalysisSettings, FactorCount, Grading

from conftest import engine_or_skip, run_stages, shipped_params

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference" / "credit_grading"
SETTINGS = FactorAnalysisSettings(extraction="pa", rotation="quartimax", kaiser_normalization=False,
                                  scores="bartlett", n_factors=FactorCount(rule="fixed", n=2))
GRADING = Grading(method="quantile", grades=[
    {"id": "AAA", "label_en": "", "label_zh": "", "lower": 0.9},
    {"id": "AA", "label_en": "", "label_zh": "", "lower": 0.7},
    {"id": "A", "label_en": "", "label_zh": "", "lower": 0.3},
    {"id": "A-", "label_en": "", "label_zh": ""},
])


def reference(name: str, index: str | None = "indicator") -> pd.DataFrame:
    table = pd.read_csv(REFERENCE / f"{name}.csv", dtype={"customer_id": str})
    return table.set_index(index) if index else table


@pytest.fixture(scope="module")
def z() -> pd.DataFrame:
    """The case's z-scores as stage 02 wrote them (cost indicators reversed), missing values empty."""
    return pd.read_csv(REFERENCE / "input.csv", dtype={"customer_id": str}).set_index("customer_id")


@pytest.fixture(scope="module")
def fit(z):
    corr = factors.correlation_matrix(z, pairwise=True)
    return corr, factors.extract_factors(corr, 2, SETTINGS)


def engine_moments(run, z):
    run.table("z", z.reset_index())
    return factors.exact_moments(run, "z", list(z.columns), pairwise=True)


def test_the_input_has_missing_values_in_some_pairs_only(z):
    assert z.isna().any(axis=1).sum() == 414
    assert z.notna().all(axis=1).sum() == 4040


def test_engine_pairwise_moments_are_rs_cor_use_pairwise(z):
    """Each correlation from the customers who have both indicators, by exact sums: within 1e-9 of R's cor(x, use =
    "pairwise") (found 3.1e-14), pairwiseCount exactly, n = every customer, means and standard deviations of each
    indicator's observed values. (Spark gives the same matrix to the last bit: test_pipeline.py's
    test_spark_grades_as_the_default_engine[credit_grading].)"""
    moments = engine_moments(engine_or_skip("duckdb"), z)
    assert np.abs(moments.correlation.to_numpy() - reference("correlations").to_numpy()).max() <= 1e-9
    assert (moments.pair_counts.to_numpy() == reference("pair_counts").to_numpy()).all()
    assert moments.pair_counts.to_numpy().min() == 4040 and moments.n == len(z) == 4454
    assert_allclose(moments.means, z.mean(), rtol=0, atol=1e-12)
    assert_allclose(moments.standard_deviations, z.std(ddof=1), rtol=0, atol=1e-12)


def test_kmo_and_bartlett_match_psych_with_n_all_customers(fit, z):
    corr, _ = fit
    assert_allclose(factors.kmo(corr)["msa"], reference("kmo")["msa"], rtol=0, atol=1e-6)
    ours = factors.bartlett_sphericity(corr, len(z)).iloc[0]
    theirs = reference("bartlett", index=None).iloc[0]
    assert ours["chi_square"] == pytest.approx(theirs["chi_square"], rel=1e-9)
    assert ours["log_p_value"] == pytest.approx(theirs["log_p_value"], rel=1e-9)


def test_principal_axes_quartimax_and_bartlett_weights_match_psych(fit):
    """fa(x, 2, fm = "pa") converged tightly, rotated to the quartimax maximum over the angle (1e-6; found 8e-11),
    and factor.scores(method = "Bartlett", rho = the pairwise correlations)$weights."""
    _, result = fit
    assert_allclose(result.unrotated_loadings.to_numpy(), reference("pa_unrotated").to_numpy(), rtol=0, atol=1e-6)
    assert_allclose(result.loadings.to_numpy(), reference("quartimax").to_numpy(), rtol=0, atol=1e-6)
    assert_allclose(result.score_coefficients.to_numpy(), reference("weights").to_numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("impute, name", [("none", "duckdb"), ("mean", "duckdb"), ("median", "duckdb"),
                                          pytest.param("median", "spark", marks=pytest.mark.xdist_group("spark"))])
def test_scores_of_every_impute_choice_match_psych_in_memory_and_by_the_engine(fit, z, impute, name):
    """factor.scores(x, L, "Bartlett", missing = TRUE, impute = ...): none leaves a customer with a missing
    indicator without scores (and, by the engine, without a rank and a grade); mean and median fill the z-score,
    standardize again and standardize the scores (psych's factorScoresSapa). 1e-6; the grades exactly. On Spark,
    the median (its exact percentile); impute none on Spark is the credit_grading case's own stage 03 and 04 in
    test_pipeline.py."""
    _, result = fit
    expected = reference(f"scores_{impute}", index="customer_id").reindex(z.index)
    weights = factors.composite_weights(result, "rotated_variance")
    in_memory = factors.factor_scores(z, result, impute=impute)
    run = engine_or_skip(name)
    by_engine = factors.engine_factor_scores(run, "z", engine_moments(run, z), result, weights,
                                             impute=impute).frame().reindex(z.index)
    for scores in (in_memory.assign(composite_score=factors.composite_score(in_memory, weights)), by_engine):
        assert (scores["F1"].isna() == expected["F1"].isna()).all()
        assert scores["F1"].isna().sum() == (414 if impute == "none" else 0)
        assert_allclose(scores[["F1", "F2", "composite_score"]].to_numpy(),
                        expected[["F1", "F2", "composite_score"]].to_numpy(), rtol=0, atol=1e-6)
    if impute == "none":
        run.table("scores", by_engine.reset_index())
        segmentation.grade_customers(run, "scores", segmentation.grade_thresholds(run, "scores", GRADING))
        grades = run.query("SELECT * FROM customer_grades").set_index("customer_id").reindex(z.index)
        assert grades["grade"].isna().sum() == grades["rank"].isna().sum() == 414
        assert (grades["grade"].fillna("") == expected["grade"].fillna("")).all()
        assert grades["rank"].min() == 1 and grades["rank"].max() <= 4040


def test_the_case_counts_its_unscored_customers_and_grades_only_the_others(fresh_tables):
    """The shipped case: score_coverage counts the 414 customers with a missing indicator, left unscored (impute:
    none); they have no grade, the grades hold the other 4040; the pair counts are psych's."""
    directory = fresh_tables("credit_grading")
    coverage = io.read_table(directory, "score_coverage").iloc[0]
    assert (coverage["customers"], coverage["complete"], coverage["with_missing"], coverage["imputed"],
            coverage["unscored"], coverage["impute"]) == (4454, 4040, 414, 0, 414, "none")
    grades = io.read_table(directory, "customer_grades")
    assert grades["grade"].isna().sum() == 414 and len(grades) == 4454
    assert io.read_table(directory, "grade_profile")["customers"].tolist() == [404, 808, 1616, 1212]
    counts = io.read_table(directory, "indicator_pair_counts").set_index("indicator")
    assert (counts.to_numpy() == reference("pair_counts").to_numpy()).all()
    assert io.read_table(directory, "bartlett")["n_customers"].iloc[0] == 4454


def case(edit) -> dict:
    raw = copy.deepcopy(shipped_params("credit_grading"))
    raw["data"]["path"] = str(ROOT / "data" / "raw" / "credit_data" / "credit_data.csv")
    edit(raw)
    return raw


@pytest.mark.parametrize("edit, message", [
    (lambda raw: raw["cleaning"].update(missing="median") or raw["factor_grading"]["factor_analysis"].update(
        impute="median"), "impute: median scores customers with missing indicators, but cleaning.missing: median"),
])
def test_impute_needs_pairwise_deletion(edit, message):
    with pytest.raises(ValueError, match=message):
        CaseParams.model_validate(case(edit))


def credit_value(edit) -> dict:
    raw = copy.deepcopy(shipped_params("credit_value"))
    raw["data"]["path"] = str(ROOT / "data" / "raw" / "credit_data" / "credit_data.csv")
    raw["cleaning"]["missing"] = "pairwise"
    edit(raw)
    return raw


def factor_weighted(raw):
    for dimension in raw["value_matrix"]["model"]["dimensions"]:
        dimension["weights"] = {"method": "factor"}


def test_the_value_matrix_takes_pairwise_deletion_for_factor_weights_with_every_customer_valued(tmp_path):
    """Entropy weights need complete values, and a customer without a value would have no class: the params
    say so. With factor weights and impute: median, every customer is valued and classed."""
    with pytest.raises(ValueError, match="value dimension 'current_value' is weighted by entropy"):
        CaseParams.model_validate(credit_value(lambda raw: None))
    with pytest.raises(ValueError, match="needs every customer valued"):
        CaseParams.model_validate(credit_value(factor_weighted))

    def median(raw):
        factor_weighted(raw)
        raw["value_matrix"]["factor_analysis"] = {"impute": "median"}
    path = tmp_path / "credit_value.yaml"
    path.write_text(yaml.safe_dump(credit_value(median), allow_unicode=True), encoding="utf-8")
    run_stages(load_params(path), tmp_path)
    values = io.read_table(tmp_path, "customer_values")
    classes = io.read_table(tmp_path, "customer_classes")
    assert len(values) == len(classes) == 4454 and values.notna().all().all() and classes["class"].notna().all()
    for dimension in ("current_value", "potential_value"):  # standardized composite of standardized scores
        assert abs(values[dimension].mean()) < 1e-9


def test_the_customer_base_refuses_pairwise_deletion():
    raw = copy.deepcopy(shipped_params("bank_churners"))
    raw["data"]["path"] = str(ROOT / "data" / "raw" / "bank_churners" / "bank_churners.csv")
    raw["cleaning"]["missing"] = "pairwise"
    with pytest.raises(ValueError, match="customer base needs every customer's indicators"):
        CaseParams.model_validate(raw)


def test_a_pair_never_observed_together_is_a_clear_error(run):
    data = pd.DataFrame({"customer_id": [f"c{i}" for i in range(6)], "a": [1.0, 2.0, 3.0, None, None, None],
                         "b": [None, None, None, 1.0, 2.0, 4.0], "c": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]})
    run.table("gaps", data)
    with pytest.raises(InputError, match="indicators 'a' and 'b' are observed together for 0 customers"):
        factors.exact_moments(run, "gaps", ["a", "b", "c"], pairwise=True)

"""How much a grading or a value matrix depends on the choices (crmlib.robustness): the in-memory chains against the
pipeline's grades and classes, the variants, the bootstrap stability, on the shipped grading and value-matrix cases
and on simulated strong and weak structures."""
import hashlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from crmlib import cleaning, engine, factors, io, load_params, report, robustness, segmentation
from crmlib.families.factor_grading.params import Grading
from crmlib.schema import CleaningRules, FactorAnalysisSettings

GRADING = Grading.model_validate({"grades": [{"id": g, "label_en": g, "lower": q}
                                             for g, q in (("AAA", 0.9), ("AA", 0.7), ("A", 0.3))]
                                  + [{"id": "A-", "label_en": "A-"}]})
ORDER = ["AAA", "AA", "A", "A-"]
RULES = CleaningRules(missing="drop", winsorize=None)
SETTINGS = FactorAnalysisSettings.model_validate({"n_factors": {"rule": "fixed", "n": 2}})


#: A known strong structure: two factors, four indicators each loading 0.85 on its own factor only; and a weak,
#: ambiguous one: loadings from 0.3 to 0.45 with cross-loadings up to 0.25.
STRONG = [[0.85, 0]] * 4 + [[0, 0.85]] * 4
WEAK = [[0.45, 0.2], [0.4, 0.1], [0.35, 0.25], [0.3, 0], [0.1, 0.4], [0.2, 0.35], [0, 0.3], [0.25, 0.25]]


def _simulated(loadings, n: int = 600, seed: int = 20261127) -> pd.DataFrame:
    """Customers' indicators from two standard normal factors with these ``loadings`` and normal uniquenesses."""
    rng = np.random.default_rng(seed)
    loadings = np.asarray(loadings)
    noise = np.sqrt(1 - (loadings ** 2).sum(axis=1))
    values = rng.normal(size=(n, 2)) @ loadings.T + rng.normal(size=(n, len(loadings))) * noise
    return pd.DataFrame(values, columns=[f"x{j}" for j in range(len(loadings))],
                        index=pd.Index([f"C{k:04d}" for k in range(n)], name="customer_id"))


def _robustness(raw, replicates=40):
    directions, cleaned = {c: "benefit" for c in raw.columns}, robustness.CleanedMeasures(raw)
    z = robustness.benefit_z_scores(cleaned(RULES), directions, RULES.ddof)
    base = robustness.grading_chain(z, RULES, SETTINGS, GRADING)
    changed = {}
    for variant in robustness.convention_variants(RULES, SETTINGS, base.n_factors, raw.shape[1], False):
        run = robustness.grading_chain(robustness.benefit_z_scores(cleaned(variant.cleaning), directions,
                                                                   variant.cleaning.ddof),
                                       variant.cleaning, variant.settings, GRADING)
        changed[(variant.convention, variant.value)] = robustness.compare_grades(base, run)["share_changed"]
    stability = robustness.bootstrap_stability(z, RULES, SETTINGS, GRADING, base, replicates=replicates, seed=7)
    return pd.Series(changed), robustness.stability_summary(stability, ORDER, 0.9).set_index("grade")


def test_a_strong_structure_keeps_nearly_every_grade_and_a_weak_one_moves():
    """The alternatives that keep the two factors (not another number of factors, not unrotated) move at most 5.4%
    of the customers of the strong structure (maximum likelihood; median 2%), more than twice as many in the weak one
    (median 4.7%, 14% for eigenvalue weights); the bootstrap keeps 85% of the strong structure's grades in 90% of
    the samples, 78% of the weak one's."""
    strong_changes, strong_stability = _robustness(_simulated(STRONG))
    weak_changes, weak_stability = _robustness(_simulated(WEAK))
    same_factors = [key for key in strong_changes.index if key[0] != "n_factors" and key != ("rotation", "none")]
    assert strong_changes[same_factors].max() < 0.06 and strong_changes[same_factors].median() <= 0.03
    assert weak_changes[same_factors].median() > 2 * strong_changes[same_factors].median()
    assert weak_changes[same_factors].max() > 0.1
    assert strong_stability.loc["all", "share_stable"] > weak_stability.loc["all", "share_stable"] + 0.05
    assert strong_stability.loc["all", "replicates"] == 40 and strong_stability.loc["all", "failed"] == 0


def test_the_bootstrap_is_the_same_for_the_same_seed_and_differs_for_another():
    raw = _simulated(WEAK, n=300)
    z = robustness.benefit_z_scores(cleaning.clean_indicators(raw, RULES).data, {c: "benefit" for c in raw.columns},
                                    RULES.ddof)
    base = robustness.grading_chain(z, RULES, SETTINGS, GRADING)
    first, second, other = (robustness.bootstrap_stability(z, RULES, SETTINGS, GRADING, base, replicates=20,
                                                           seed=seed) for seed in (3, 3, 4))
    pd.testing.assert_frame_equal(first, second)
    assert not first["same_grade_share"].equals(other["same_grade_share"])


def test_grades_put_a_customer_on_a_bound_in_the_better_grade_as_the_engine_does():
    composite = pd.Series(np.arange(11, dtype=float), index=[f"c{k}" for k in range(11)])  # bounds fall on scores
    grades = robustness.grade(composite, GRADING)
    assert list(grades) == ["A-"] * 3 + ["A"] * 4 + ["AA"] * 2 + ["AAA"] * 2
    run = engine.DuckDBEngine()
    run.table("scores", composite.rename("composite_score").rename_axis("customer_id").reset_index())
    segmentation.grade_customers(run, "scores", segmentation.grade_thresholds(run, "scores", GRADING))
    by_engine = run.query("SELECT * FROM customer_grades").set_index("customer_id")["grade"]
    assert by_engine[grades.index].tolist() == grades.tolist()


def test_transitions_count_every_customer_graded_under_both():
    base = pd.Series(["AAA", "AA", "A", "A-", None], index=list("abcde"))
    other = pd.Series(["AA", "AA", "A", "A", "A"], index=list("abcde"))
    table = robustness.transition_table(base, other, ORDER)
    assert len(table) == 16 and table["customers"].sum() == 4
    assert table.set_index(["grade", "to_grade"]).loc[("AAA", "AA"), "customers"] == 1


def test_the_hash_sample_is_the_ids_of_the_smallest_md5_of_seed_and_id_in_their_own_order():
    ids = pd.Index([f"C{k:05d}" for k in range(500)])
    ours = robustness.hash_sample(ids, 20261127, 50)
    smallest = sorted(ids, key=lambda i: (hashlib.md5(f"20261127:{i}".encode("utf-8")).hexdigest(), i))[:50]
    assert list(ours) == sorted(smallest)
    assert not robustness.hash_sample(ids, 1, 50).equals(ours)


@pytest.mark.parametrize("case", ["shaoxing", "islr_credit", "credit_grading"])
def test_the_in_memory_chain_gives_the_engine_s_grades(root, case):
    params = load_params(root / "params" / f"{case}.yaml")
    raw = io.read_measures(params.data, params.data_path, params.indicators).values
    settings = params.factor_grading
    z = robustness.benefit_z_scores(cleaning.clean_indicators(raw, params.cleaning).data,
                                    {i.id: i.direction for i in params.indicators}, params.cleaning.ddof)
    base = robustness.grading_chain(z, params.cleaning, settings.factor_analysis, settings.grading)
    committed = pd.read_csv(root / "data" / "processed" / case / "customer_grades.csv", dtype={"customer_id": str},
                            keep_default_na=False).set_index("customer_id")["grade"].replace("", None)
    assert committed.reindex(base.grades.index).fillna("-").tolist() == base.grades.fillna("-").tolist()
    table = pd.read_csv(root / "data" / "processed" / case / "grading_robustness.csv")
    assert table.iloc[0]["convention"] == "baseline" and table.iloc[0]["share_changed"] == 0


# The value matrix ------------------------------------------------------------------------------------------------

def _value_case(root, loading: float, bimodal: bool, n: int = 400, seed: int = 20261127):
    """A value-matrix case on simulated customers: two value dimensions of four indicators each, the indicators
    ``loading`` times their dimension's latent value plus normal noise. ``bimodal``: each latent value is -2 or 2
    for exactly half of the customers, plus a little spread, so that four well-separated groups fill the quadrants;
    otherwise standard normal. Current value is weighted by factor analysis, potential value by entropy; both axes
    are split at their mean (a median of a bootstrap sample falls inside one of two equal groups half the time)."""
    rng = np.random.default_rng(seed)
    if bimodal:
        latent = np.column_stack([rng.permutation(np.repeat([-2.0, 2.0], n // 2)) for _ in range(2)])
        latent += rng.normal(scale=0.3, size=latent.shape)
    else:
        latent = rng.normal(size=(n, 2))
    values = np.repeat(latent, 4, axis=1) * loading + rng.normal(size=(n, 8)) * np.sqrt(1 - loading ** 2)
    names = [f"c{j}" for j in range(4)] + [f"p{j}" for j in range(4)]
    raw = pd.DataFrame(values, columns=names, index=pd.Index([f"C{k:04d}" for k in range(n)], name="customer_id"))
    case = load_params(root / "params" / "jd.yaml").model_dump()
    case["indicators"] = [{"id": name, "label_en": name, "unit": "-", "direction": "benefit", "column": name,
                           "dimension": "current_value" if name[0] == "c" else "potential_value"} for name in names]
    case["cleaning"] = {"missing": "drop", "winsorize": None}
    dimensions = case["value_matrix"]["model"]["dimensions"]
    dimensions[0] |= {"indicators": names[:4], "weights": {"method": "factor"}}
    dimensions[1] |= {"indicators": names[4:], "weights": {"method": "entropy"}}
    case["value_matrix"]["matrix"] |= {"relationship_stages": None, "x_threshold": {"rule": "mean"},
                                       "y_threshold": {"rule": "mean"}}
    case["synthetic"] = None
    return raw, type(load_params(root / "params" / "jd.yaml")).model_validate(case)


def _class_robustness(raw, params, replicates=40):
    cleaned = robustness.CleanedMeasures(raw)
    base = robustness.classify(cleaned(params.cleaning), params)
    changed = {(v.convention, v.value): robustness.compare_classes(
        base, robustness.classify(cleaned(v.params.cleaning), v.params))["share_changed"]
        for v in robustness.value_variants(params, False)}
    stability = robustness.class_bootstrap_stability(cleaned(params.cleaning), params, base, replicates=replicates,
                                                     seed=7)
    order = ["platinum", "gold", "iron", "lead"]
    return pd.Series(changed), robustness.stability_summary(stability, order, 0.9, "class").set_index("class")


def test_well_separated_value_classes_keep_every_customer_and_weak_ones_move(root):
    """Four well-separated groups (loadings 0.95) keep every customer's class under every alternative and in every
    bootstrap sample; unimodal values measured by weak indicators (loadings 0.5) move up to 10.5% of the customers
    under another weighting (potential value by factor analysis) and 9% without winsorizing, and only 81% keep their
    class in 90% of the samples."""
    strong_changes, strong_stability = _class_robustness(*_value_case(root, 0.95, bimodal=True))
    weak_changes, weak_stability = _class_robustness(*_value_case(root, 0.5, bimodal=False))
    assert set(strong_changes.index) == set(weak_changes.index)
    assert {"winsorize", "weights", "threshold", "extraction", "rotation", "n_factors", "composite_weights"} == {
        key[0] for key in strong_changes.index}
    assert strong_changes.max() <= 0.005
    assert strong_stability.loc["all", "share_stable"] >= 0.99
    assert weak_changes.xs("weights").max() > 0.08 and weak_changes[("winsorize", "0.01/0.99")] > 0.05
    assert weak_stability.loc["all", "share_stable"] < 0.9
    assert strong_stability.loc["all", "replicates"] == 40 and strong_stability.loc["all", "failed"] == 0


def test_the_value_variants_are_the_alternatives_the_case_allows(root):
    """jd weighs current value by entropy and potential value by AHP: z-scores are refused (entropy needs min-max
    values), AHP is never an alternative (it needs a comparison matrix), and without a factor-weighted dimension the
    factor-analysis conventions do not apply."""
    params = load_params(root / "params" / "jd.yaml")
    variants = [(v.convention, v.value) for v in robustness.value_variants(params, True)]
    assert variants == [("missing", "drop"), ("missing", "mean"), ("winsorize", "off"),
                        ("weights", "current_value: factor"), ("weights", "current_value: equal"),
                        ("weights", "potential_value: entropy"), ("weights", "potential_value: factor"),
                        ("weights", "potential_value: equal"), ("threshold", "x: mean"), ("threshold", "y: mean")]
    assert [v.value for v in robustness.value_variants(params, False, ["missing", "normalization"])] == []
    equal = next(v for v in robustness.value_variants(params, False, ["weights"]) if v.value.endswith("equal"))
    assert equal.params.value_matrix.model.dimensions[0].weights.values == {
        i: 0.2 for i in params.value_matrix.model.dimensions[0].indicators}


def test_the_class_bootstrap_is_the_same_for_the_same_seed_and_differs_for_another(root):
    raw, params = _value_case(root, 0.5, bimodal=False, n=200)
    data = cleaning.clean_indicators(raw, params.cleaning).data
    base = robustness.classify(data, params)
    first, second, other = (robustness.class_bootstrap_stability(data, params, base, replicates=15, seed=seed)
                            for seed in (3, 3, 4))
    pd.testing.assert_frame_equal(first, second)
    assert not first["same_class_share"].equals(other["same_class_share"])
    assert (first["bootstrap_samples"] <= 15).all() and first["bootstrap_samples"].mean() == pytest.approx(
        15 * (1 - (1 - 1 / 200) ** 200), abs=1.0)  # a sample draws about 63% of the customers


def test_an_oriented_fit_turns_each_factor_to_its_target(root):
    """A fit turned to a target whose first factor has the opposite sign: that factor's loadings and score
    coefficients turn, the second's do not."""
    raw, _ = _value_case(root, 0.7, bimodal=False)
    corr = raw.corr()
    settings = FactorAnalysisSettings.model_validate({"n_factors": {"rule": "fixed", "n": 2}})
    fit = factors.extract_factors(corr, 2, settings)
    target = replace(fit, loadings=fit.loadings * [-1, 1])
    oriented = factors.oriented_fit(corr, target, settings)
    pd.testing.assert_frame_equal(oriented.loadings, target.loadings)
    pd.testing.assert_frame_equal(oriented.score_coefficients, fit.score_coefficients * [-1, 1])


@pytest.mark.parametrize("case", ["jd", "credit_value", "cdnow"])
def test_the_in_memory_value_chain_gives_the_pipeline_s_classes(root, case):
    params = load_params(root / "params" / f"{case}.yaml")
    raw, customers = robustness.case_measures(params, params.value_matrix.robustness)
    base = robustness.classify(cleaning.clean_indicators(raw, params.cleaning).data, params)
    committed = pd.read_csv(root / "data" / "processed" / case / "customer_classes.csv", dtype={"customer_id": str}
                            ).set_index("customer_id")["class"]
    assert customers == len(committed) and base.classes.tolist() == committed.reindex(base.classes.index).tolist()
    table = pd.read_csv(root / "data" / "processed" / case / "class_robustness.csv")
    assert table.iloc[0]["convention"] == "baseline" and table.iloc[0]["share_changed"] == 0


def test_every_grading_and_value_matrix_report_has_the_robustness_section(root):
    """The committed report of every case that grades customers or puts them in a value matrix shows the robustness
    figure and the sentence reading it, in the report's language; the other cases show neither."""
    titles = {"grading_robustness": ("How much this grading depends on the choices", "评级结果对方法选择的依赖程度"),
              "class_robustness": ("How much this classification depends on the choices",
                                   "客户分类结果对方法选择的依赖程度")}
    expected = {}
    for path in sorted((root / "params").glob("*.yaml")):
        params = load_params(path)
        graded = params.factor_grading and params.factor_grading.grading and params.data.matrix is None
        classed = params.value_matrix and params.value_matrix.matrix
        figure = "grading_robustness" if graded else "class_robustness" if classed else None
        page = (root / "reports" / params.case / "report.html").read_text(encoding="utf-8")
        has = {name for name in titles if (root / "reports" / params.case / "figures" / f"{name}.svg").is_file()}
        assert has == ({figure} if figure else set()), params.case
        if figure:
            title = titles[figure][params.report.lang == "zh"]
            assert page.count(title) >= 3, params.case  # the figure's caption, its alt text and the sentence
            expected[params.case] = figure
    assert expected == {"shaoxing": "grading_robustness", "islr_credit": "grading_robustness",
                        "credit_grading": "grading_robustness", "jd": "class_robustness",
                        "credit_value": "class_robustness", "cdnow": "class_robustness"}


def test_a_typed_parquet_file_is_sampled_by_the_engine_as_in_memory(root, tmp_path, monkeypatch):
    """A typed Parquet customer file: the engine reads it and draws the hash sample; the same customers, in the same
    order, with the same values, as the file read into memory and sampled there."""
    from crmlib.families.customer_file import parquet
    params = load_params(root / "params" / "jd.yaml")
    read = io.read_measures(params.data, params.data_path, params.indicators)
    headers = {i.id: i.source_column for i in params.indicators}
    read.values.rename(columns=headers).rename_axis(params.data.id_column).reset_index().to_parquet(
        tmp_path / "customers.parquet", index=False)
    typed = params.model_copy(update={"data": params.data.model_copy(update={"path": tmp_path / "customers.parquet"})})
    settings = params.value_matrix.robustness.model_copy(update={"max_customers": 100})
    by_engine, customers = robustness.case_measures(typed, settings)
    monkeypatch.setattr(parquet, "read_customer_file", lambda *arguments: None)
    in_memory, counted = robustness.case_measures(typed, settings)
    assert customers == counted == 500 and len(by_engine) == 100
    pd.testing.assert_frame_equal(by_engine, in_memory)


def test_a_base_above_max_customers_is_analysed_on_its_hash_sample(root):
    """Above robustness.max_customers the robustness reads every customer and keeps the hash sample: jd's 500
    customers with a bound of 100; the report's sentence says so."""
    params = load_params(root / "params" / "jd.yaml")
    settings = params.value_matrix.robustness.model_copy(update={"max_customers": 100})
    raw, customers = robustness.case_measures(params, settings)
    every, _ = robustness.case_measures(params, params.value_matrix.robustness)
    assert customers == 500 and raw.index.equals(robustness.hash_sample(every.index, settings.seed, 100))
    pd.testing.assert_frame_equal(raw, every.loc[raw.index])
    counts = pd.DataFrame([{"customers": customers, "analysed": len(raw)}])
    assert "a hash sample of 100 of the 500 customers" in report.robustness_text(
        {"class_robustness": pd.read_csv(root / "data" / "processed" / "jd" / "class_robustness.csv"),
         "class_robustness_customers": counts}, ("class_robustness", "class_stability_summary",
                                                 "class_robustness_customers"), "class")

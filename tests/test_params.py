"""The params schema: defaults, and one clear error per kind of mistake."""
from __future__ import annotations

import pytest

from crmlib import InputError, load_params
from crmlib.params import find_params, list_cases


def test_shipped_cases_load(root):
    assert list_cases(root / "params") == ["a_branch", "ability", "bank_churners", "bfi", "cdnow", "credit_grading", "credit_value",
                                           "harman74", "holzinger_swineford", "islr_credit", "jd", "satisfaction", "shaoxing", "spi", "sz"]
    params = load_params(root / "params" / "shaoxing.yaml")
    assert len(params.indicators) == 14
    assert [g.id for g in params.factor_grading.grading.grades] == ["AAA", "AA", "A", "A-"]
    assert params.data_path == (root / "data" / "raw" / "shaoxing" / "customers.csv").resolve()


def test_missing_file_names_it(tmp_path):
    with pytest.raises(InputError, match=r"nope\.yaml: params file does not exist"):
        load_params(tmp_path / "nope.yaml")


def test_unknown_case_lists_known_ones(root):
    with pytest.raises(InputError, match="known cases: a_branch, ability, bank_churners, bfi, cdnow, credit_grading, credit_value, harman74, "
                                         "holzinger_swineford, islr_credit, jd, satisfaction, shaoxing, spi, sz"):
        find_params("beijing", root / "params")


def test_unknown_key_is_named(make_case):
    with pytest.raises(InputError, match=r"key 'cleaning.winsorise': unknown key"):
        make_case(edit_params=lambda p: p["cleaning"].update(winsorise=[0.05, 0.95]))


def test_wrong_type_is_named(make_case):
    with pytest.raises(InputError, match=r"key 'cleaning.missing': Input should be 'drop', 'median', 'mean' or 'pairwise'"):
        make_case(edit_params=lambda p: p["cleaning"].update(missing="impute"))


def test_wrong_type_in_a_list_names_the_position(make_case):
    def bad_direction(p):
        p["indicators"][3]["direction"] = 5
    with pytest.raises(InputError, match=r"key 'indicators.3.direction'"):
        make_case(edit_params=bad_direction)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("case: x\ndata: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.yaml, row \d+: not valid YAML"):
        load_params(path)


def test_indicator_listed_twice(make_case):
    with pytest.raises(InputError, match="indicator listed twice: loan_balance"):
        make_case(edit_params=lambda p: p["indicators"].append(dict(p["indicators"][1], column="X")))


def test_grade_bounds_must_descend(make_case):
    def swap(p):
        grades = p["factor_grading"]["grading"]["grades"]
        grades[0]["lower"], grades[1]["lower"] = 0.7, 0.9
    with pytest.raises(InputError, match="lower bounds must decrease"):
        make_case(edit_params=swap)


def test_fixed_rule_needs_n(make_case):
    with pytest.raises(InputError, match="`n` is given with, and only with, rule .fixed."):
        make_case(edit_params=lambda p: p["factor_grading"]["factor_analysis"].update(n_factors={"rule": "fixed"}))


def test_winsorize_quantiles_ordered(make_case):
    with pytest.raises(InputError, match="0 <= lower < upper <= 1"):
        make_case(edit_params=lambda p: p["cleaning"].update(winsorize=[0.99, 0.01]))


def test_a_case_combines_families(root):
    params = load_params(root / "params" / "a_branch.yaml")
    assert [f.folder for f in params.families] == ["customer_file", "customer_base", "survey"]
    assert [key for key, _ in params.data_sources()] == ["data", "survey.data"]
    assert params.survey.synthetic.n_customers == 220 and params.customer_base.tiers.focus == "jinkuihua"


def test_a_former_case_names_the_case_it_joined(root):
    with pytest.raises(InputError, match=r"key 'replaces': case 'a_branch_survey' is now part of case 'a_branch': "
                                         r"run `crmlib run a_branch`"):
        find_params("a_branch_survey", root / "params")


@pytest.mark.parametrize(("edit", "old", "new"), [
    (lambda p: p.update(factor_analysis=p.pop("factor_grading")["factor_analysis"]), "factor_analysis",
     "factor_grading.factor_analysis"),
    (lambda p: p.update(grading=p["factor_grading"].pop("grading")), "grading", "factor_grading.grading"),
])
def test_a_key_that_moved_names_its_new_place(make_case, edit, old, new):
    with pytest.raises(InputError, match=rf"key '{old}': this key moved: write it as '{new}'"):
        make_case(edit_params=edit)


def test_old_value_matrix_layout_names_the_new_one(make_case):
    def old_layout(p):
        p["value_model"] = p["value_matrix"].pop("model")
        p["value_matrix"] = p["value_matrix"].pop("matrix")
    with pytest.raises(InputError, match=r"key 'value_model': this key moved: write it as 'value_matrix.model'"):
        make_case(base="jd", edit_params=old_layout)
    with pytest.raises(InputError, match=r"key 'value_matrix.x': this key moved: write it as 'value_matrix.matrix.x'"):
        make_case(base="jd", edit_params=lambda p: p["value_matrix"].update(x="current_value"))


def test_factor_analysis_alone_needs_no_grades_and_no_chinese(make_case, tmp_path):
    """A case that only wants factor analysis declares no grades, and an English report needs no Chinese."""
    def english_factor_analysis_only(p):
        del p["factor_grading"]["grading"]
        p["report"] = {"lang": "en"}
        del p["title_zh"]
        for indicator in p["indicators"]:
            del indicator["label_zh"]
    params = load_params(make_case(edit_params=english_factor_analysis_only))
    assert params.stages == ["01_clean", "02_indicators", "03_factor_analysis"]
    from crmlib.labels import named_labels
    assert named_labels(params, "zh")["loan_balance"] == "Loan balance"  # the English label stands in


def test_a_chinese_report_needs_a_chinese_title(make_case):
    with pytest.raises(InputError, match="a Chinese report .* needs title_zh"):
        make_case(edit_params=lambda p: p.pop("title_zh"))


def test_loading_does_not_compute(make_case):
    """An inconsistent AHP matrix loads (the check is a computation of stage 03, which names the key)."""
    inconsistent = [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]

    def ahp(p):
        dimension = p["value_matrix"]["model"]["dimensions"][0]
        dimension["indicators"] = dimension["indicators"][:3]
        p["value_matrix"]["model"]["dimensions"][1]["indicators"] += ["fee_income", "settlement_volume"]
        dimension["weights"] = {"method": "ahp", "matrix": inconsistent}
    params = load_params(make_case(base="jd", edit_params=ahp))
    assert params.value_matrix.model.dimensions[0].weights.method == "ahp"


@pytest.mark.parametrize("reserved", ["customer_id"])
def test_the_key_column_name_is_reserved(make_case, reserved):
    with pytest.raises(InputError, match="names the key column of every customer table"):
        make_case(edit_params=lambda p: p["indicators"][0].update(id=reserved))


def test_real_is_not_a_kind_of_data(make_case):
    """Who may see the data is said, not guessed: `real` would label a bank's private records public."""
    with pytest.raises(InputError, match=r"key 'data.kind': kind 'real' does not say who may see the data: write "
                                         r"'public' .* or 'private'"):
        make_case(edit_params=lambda p: p["data"].update(kind="real"))


def test_public_data_is_cited_and_private_data_need_not_be(make_case):
    with pytest.raises(InputError, match=r"key 'data': public data needs `citation` and `licence`"):
        make_case(edit_params=lambda p: p["data"].update(kind="public"))
    params = load_params(make_case(edit_params=lambda p: p["data"].update(kind="private")))
    assert params.data.kind == "private" and params.data.citation == ""

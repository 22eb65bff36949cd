"""The params schema: defaults, and one clear error per kind of mistake."""
from __future__ import annotations

import pytest

from crmlib import InputError, load_params
from crmlib.params import find_params, list_cases


def test_shipped_cases_load(root):
    assert list_cases(root / "params") == ["a_branch", "a_branch_survey", "bank_churners", "credit_value", "islr_credit",
                                           "jd", "satisfaction", "shaoxing", "sz"]
    params = load_params(root / "params" / "shaoxing.yaml")
    assert len(params.indicators) == 14
    assert [g.id for g in params.grading.grades] == ["AAA", "AA", "A", "A-"]
    assert params.data_path == (root / "data" / "raw" / "shaoxing" / "customers.csv").resolve()


def test_missing_file_names_it(tmp_path):
    with pytest.raises(InputError, match=r"nope\.yaml: params file does not exist"):
        load_params(tmp_path / "nope.yaml")


def test_unknown_case_lists_known_ones(root):
    with pytest.raises(InputError, match="known cases: a_branch, a_branch_survey, bank_churners, credit_value, islr_credit, jd, "
                                         "satisfaction, shaoxing, sz"):
        find_params("beijing", root / "params")


def test_unknown_key_is_named(make_case):
    with pytest.raises(InputError, match=r"key 'cleaning.winsorise': unknown key"):
        make_case(edit_params=lambda p: p["cleaning"].update(winsorise=[0.05, 0.95]))


def test_wrong_type_is_named(make_case):
    with pytest.raises(InputError, match=r"key 'cleaning.missing': Input should be 'drop', 'median' or 'mean'"):
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
        p["grading"]["grades"][0]["lower"], p["grading"]["grades"][1]["lower"] = 0.7, 0.9
    with pytest.raises(InputError, match="lower bounds must decrease"):
        make_case(edit_params=swap)


def test_fixed_rule_needs_n(make_case):
    with pytest.raises(InputError, match="`n` is given with, and only with, rule .fixed."):
        make_case(edit_params=lambda p: p["factor_analysis"].update(n_factors={"rule": "fixed"}))


def test_winsorize_quantiles_ordered(make_case):
    with pytest.raises(InputError, match="0 <= lower < upper <= 1"):
        make_case(edit_params=lambda p: p["cleaning"].update(winsorize=[0.99, 0.01]))

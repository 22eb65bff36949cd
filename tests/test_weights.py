"""Entropy, AHP and fixed weights: hand examples, a published worked example, an independent
computation, and properties that must hold for any input."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from crmlib import InputError
from crmlib.weights import (SAATY_RANDOM_INDEX, ahp_weights, check_consistency, entropy_weights, fixed_weights,
                            minmax_normalize)

# Saaty (1990), "How to make a decision: the analytic hierarchy process", European Journal of
# Operational Research 48, 9-26: the house example, 8 criteria (size, transportation, neighbourhood,
# age, yard space, modern facilities, general condition, financing). Published priorities
# .173 .054 .188 .018 .031 .036 .167 .333, lambda_max = 9.669, C.I. = 0.238, C.R. = 0.169.
SAATY_HOUSE = [
    [1, 5, 3, 7, 6, 6, "1/3", "1/4"],
    ["1/5", 1, "1/3", 5, 3, 3, "1/5", "1/7"],
    ["1/3", 3, 1, 6, 3, 4, 6, "1/5"],
    ["1/7", "1/5", "1/6", 1, "1/3", "1/4", "1/7", "1/8"],
    ["1/6", "1/3", "1/3", 3, 1, "1/2", "1/5", "1/6"],
    ["1/6", "1/3", "1/4", 4, 2, 1, "1/5", "1/6"],
    [3, 5, "1/6", 7, 5, 5, 1, "1/2"],
    [4, 7, 5, 8, 6, 6, 2, 1],
]
HOUSE_LABELS = ["size", "transportation", "neighbourhood", "age", "yard", "facilities", "condition", "financing"]


def power_iteration(matrix: np.ndarray, iterations: int = 1000) -> tuple[np.ndarray, float]:
    """Independent computation of the Perron vector and root, by repeated multiplication."""
    w = np.full(len(matrix), 1.0 / len(matrix))
    for _ in range(iterations):
        w = matrix @ w
        w = w / w.sum()
    return w, float((matrix @ w / w).mean())


def test_ahp_reproduces_saaty_1990_house_example():
    result = ahp_weights(SAATY_HOUSE, HOUSE_LABELS)
    assert_allclose(result.weights.round(3), [.173, .054, .188, .018, .031, .036, .167, .333])
    assert round(result.lambda_max, 3) == 9.669
    assert round(result.consistency_index, 3) == 0.238
    assert round(result.consistency_ratio, 3) == 0.169
    with pytest.raises(InputError, match=r"inconsistent: CR = 0.169 >= 0.10"):
        check_consistency(result, where={"file": "jd.yaml", "key": "value_model.dimensions.1.weights.matrix"})


def test_ahp_agrees_with_power_iteration():
    result = ahp_weights(SAATY_HOUSE, HOUSE_LABELS)
    a = np.array([[float(Fraction(str(v))) for v in row] for row in SAATY_HOUSE])
    w, lam = power_iteration(a)
    assert_allclose(result.weights, w, atol=1e-12)
    assert_allclose(result.lambda_max, lam, atol=1e-10)


def test_consistent_matrix_by_hand():
    # a_ij = w_i / w_j with w = (4, 2, 1)/7: perfectly consistent, lambda_max = n, CR = 0.
    result = ahp_weights([[1, 2, 4], ["1/2", 1, 2], ["1/4", "1/2", 1]], ["a", "b", "c"])
    assert_allclose(result.weights, [4 / 7, 2 / 7, 1 / 7], atol=1e-12)
    assert_allclose([result.lambda_max, result.consistency_ratio], [3.0, 0.0], atol=1e-12)
    assert result.random_index == SAATY_RANDOM_INDEX[3] == 0.58


def test_two_by_two_has_zero_consistency_ratio():
    result = ahp_weights([[1, 3], ["1/3", 1]], ["a", "b"])
    assert_allclose(result.weights, [0.75, 0.25])
    assert result.consistency_ratio == 0.0


@pytest.mark.parametrize(("matrix", "message"), [
    ([[1, 2], ["1/2", 1], [1, 1]], "must be square, 2 x 2"),
    ([[1, -2], ["1/2", 1]], "must be positive"),
    ([[1, 2], [2, 1]], r"not reciprocal: a\[1\]\[2\] = 2 but a\[2\]\[1\] = 2"),
    ([[1, "x"], [1, 1]], "numbers or fractions"),
])
def test_ahp_matrix_mistakes(matrix, message):
    with pytest.raises(InputError, match=rf"case\.yaml, key 'm': .*{message}"):
        ahp_weights(matrix, ["a", "b"], where={"file": "case.yaml", "key": "m"})


def test_random_index_needed_beyond_saatys_table():
    ones = [[1] * 11 for _ in range(11)]
    with pytest.raises(InputError, match="give random_index for n = 11"):
        ahp_weights(ones, [f"i{k}" for k in range(11)])
    assert ahp_weights(ones, [f"i{k}" for k in range(11)], random_index=1.51).consistency_ratio < 1e-12


def test_entropy_by_hand():
    # Three customers, min-max normalized values.
    # a = (0, 0.5, 1): p = (0, 1/3, 2/3); e = -(1/3 ln 1/3 + 2/3 ln 2/3)/ln 3.
    # b = (1, 1, 0): p = (1/2, 1/2, 0); e = ln 2 / ln 3.
    data = pd.DataFrame({"a": [0.0, 0.5, 1.0], "b": [1.0, 1.0, 0.0]})
    table = entropy_weights(data).set_index("indicator")
    e_a = -(1 / 3 * np.log(1 / 3) + 2 / 3 * np.log(2 / 3)) / np.log(3)
    e_b = np.log(2) / np.log(3)
    assert_allclose(table["entropy"], [e_a, e_b])
    d = np.array([1 - e_a, 1 - e_b])
    assert_allclose(table["weight"], d / d.sum())


def test_uniform_indicator_gets_zero_entropy_weight():
    table = entropy_weights(pd.DataFrame({"even": [1.0, 1.0, 1.0, 1.0], "uneven": [0.0, 0.0, 0.0, 1.0]}))
    assert_allclose(table["weight"], [0.0, 1.0], atol=1e-15)


def test_minmax_direction_and_zero_variance():
    data = pd.DataFrame({"deposit": [10.0, 20.0, 30.0], "overdue": [0.0, 5.0, 10.0]})
    scaled = minmax_normalize(data, {"deposit": "benefit", "overdue": "cost"})
    assert scaled["deposit"].tolist() == [0.0, 0.5, 1.0]
    assert scaled["overdue"].tolist() == [1.0, 0.5, 0.0]
    with pytest.raises(InputError, match=r"jd\.yaml, key 'value_model': indicator 'flat' has zero variance"):
        minmax_normalize(data.assign(flat=3.0), {"deposit": "benefit", "overdue": "cost", "flat": "benefit"},
                         where={"file": "jd.yaml", "key": "value_model"})


def test_fixed_weights_checked():
    assert fixed_weights({"a": 0.25, "b": 0.75}, ["a", "b"]).tolist() == [0.25, 0.75]
    with pytest.raises(InputError, match="sum to 1"):
        fixed_weights({"a": 0.5, "b": 0.6}, ["a", "b"])
    with pytest.raises(InputError, match="non-negative"):
        fixed_weights({"a": -0.5, "b": 1.5}, ["a", "b"])
    with pytest.raises(InputError, match=r"missing: \['b'\]"):
        fixed_weights({"a": 1.0}, ["a", "b"])


# --- properties -------------------------------------------------------------------------------

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _varied(matrix: np.ndarray) -> bool:
    return bool((np.ptp(matrix, axis=0) > 1e-6 * (1 + np.abs(matrix).max())).all())


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(3, 30), st.integers(1, 5)), elements=values),
       st.randoms(use_true_random=False))
def test_entropy_weights_properties(matrix, random):
    if not _varied(matrix):
        return
    data = pd.DataFrame(matrix, columns=[f"x{j}" for j in range(matrix.shape[1])])
    directions = {c: "benefit" for c in data.columns}
    w = entropy_weights(minmax_normalize(data, directions))["weight"].to_numpy()
    assert (w >= 0).all() and abs(w.sum() - 1) < 1e-9
    order = list(range(len(data)))
    random.shuffle(order)
    shuffled = entropy_weights(minmax_normalize(data.iloc[order], directions))["weight"].to_numpy()
    assert_allclose(shuffled, w, atol=1e-9)
    scales = np.array([random.choice([1e-3, 0.5, 7.0, 1e4]) for _ in data.columns])
    shifted = entropy_weights(minmax_normalize(data * scales + 5.0, directions))["weight"].to_numpy()
    assert_allclose(shifted, w, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 9).flatmap(lambda n: st.lists(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
                                                    min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2)
                                  .map(lambda upper: (n, upper))))
def test_ahp_weights_properties(case):
    n, upper = case
    a = np.ones((n, n))
    a[np.triu_indices(n, 1)] = upper
    a = np.triu(a) + np.tril(1.0 / a.T, -1)
    result = ahp_weights(a.tolist(), [f"i{k}" for k in range(n)])
    assert (result.weights > 0).all() and abs(result.weights.sum() - 1) < 1e-12
    assert result.lambda_max >= n - 1e-9
    w, lam = power_iteration(a)
    assert_allclose(result.weights, w, atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=10, allow_nan=False), min_size=1, max_size=8))
def test_fixed_weights_properties(raw):
    total = sum(raw)
    if total <= 0:
        return
    labels = [f"i{k}" for k in range(len(raw))]
    weights = fixed_weights({label: v / total for label, v in zip(labels, raw)}, labels)
    assert (weights >= 0).all() and abs(weights.sum() - 1) < 1e-9

"""Indicator normalization and weights: entropy, AHP, fixed, and factor-analysis weights.

Every weight vector returned here is a labelled Series indexed by indicator,
non-negative and summing to 1 (factor-analysis *implied* indicator weights are
the one exception and are labelled as such).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "SAATY_RANDOM_INDEX",
    "minmax_normalize",
    "entropy_weights",
    "parse_judgement",
    "AHPResult",
    "ahp_weights",
    "check_consistency",
    "fixed_weights",
]

#: Saaty's random consistency index by matrix order n (Saaty 1980, Table 1.7), the usual table.
SAATY_RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}

#: Reciprocity tolerance: a_ij * a_ji may differ from 1 by this much, so that 0.333 may stand for 1/3.
RECIPROCAL_TOLERANCE = 0.01


def minmax_normalize(data: pd.DataFrame, directions: dict[str, str], *, where=None) -> pd.DataFrame:
    """Min-max normalization to [0, 1] with direction.

    .. math:: x'_{ij} = \\frac{x_{ij} - \\min_i x_{ij}}{\\max_i x_{ij} - \\min_i x_{ij}} \\text{ (benefit)}, \\quad
              x'_{ij} = \\frac{\\max_i x_{ij} - x_{ij}}{\\max_i x_{ij} - \\min_i x_{ij}} \\text{ (cost)}

    Raises
    ------
    InputError
        For an indicator with zero range (every customer has the same value);
        ``where`` (a dict of InputError keywords) says where it was declared.
    """
    low, high = data.min(), data.max()
    spread = high - low
    flat = spread[spread == 0]
    if len(flat):
        raise InputError(f"indicator '{flat.index[0]}' has zero variance (every customer has "
                         f"{low[flat.index[0]]!r}): it cannot be normalized or weighted; remove it from the value "
                         "model", **(where or {}))
    scaled = (data - low) / spread
    cost = [c for c in data.columns if directions[c] == "cost"]
    scaled[cost] = 1.0 - scaled[cost]
    return scaled


def entropy_weights(normalized: pd.DataFrame) -> pd.DataFrame:
    """Entropy weight method.

    .. math::
        p_{ij} = \\frac{x'_{ij}}{\\sum_i x'_{ij}}, \\quad
        e_j = -\\frac{1}{\\ln n} \\sum_i p_{ij} \\ln p_{ij}, \\quad
        d_j = 1 - e_j, \\quad w_j = \\frac{d_j}{\\sum_k d_k}

    Parameters
    ----------
    normalized : DataFrame
        Non-negative normalized indicators (min-max, as is common in Chinese
        papers; column-sum normalization of raw values, as in pyDecision, gives
        other weights), one row per customer, at least two customers.

    Returns
    -------
    DataFrame
        One row per indicator: ``indicator``, ``entropy`` (e_j),
        ``divergence`` (d_j), ``weight`` (w_j).

    Notes
    -----
    Zero-probability convention: :math:`0 \\ln 0 = 0` (the limit), so a
    customer at an indicator's minimum contributes nothing; no constant is
    added to the data. Entropy weights are invariant to the order of customers
    and, after min-max normalization, to positive rescaling of an indicator.

    References
    ----------
    Shannon, C. E. (1948). A mathematical theory of communication. Bell System
    Technical Journal 27, 379-423; Zeleny, M. (1982). Multiple Criteria Decision
    Making, ch. 7 (entropy as a measure of an attribute's contrast intensity).
    """
    values = normalized.to_numpy(dtype=float)
    n = values.shape[0]
    p = values / values.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    entropy = -terms.sum(axis=0) / np.log(n)
    divergence = 1.0 - entropy
    return pd.DataFrame({"indicator": normalized.columns, "entropy": entropy, "divergence": divergence,
                         "weight": divergence / divergence.sum()})


def parse_judgement(value) -> float:
    """A pairwise judgement as a number: ``3``, ``0.2`` or a fraction string ``"1/5"``."""
    if isinstance(value, str):
        return float(Fraction(value.strip()))
    return float(value)


@dataclass(frozen=True)
class AHPResult:
    """Principal-eigenvector AHP weights and consistency.

    Attributes
    ----------
    weights : Series
        Priority vector, indexed by element, summing to 1.
    lambda_max : float
        Principal eigenvalue.
    consistency_index : float
        CI = (lambda_max - n) / (n - 1); 0 for n <= 2.
    random_index : float
        RI used (Saaty's table unless given).
    consistency_ratio : float
        CR = CI / RI; 0 for n <= 2.
    """

    weights: pd.Series
    lambda_max: float
    consistency_index: float
    random_index: float
    consistency_ratio: float

    def summary(self) -> pd.DataFrame:
        """One row: ``n``, ``lambda_max``, ``consistency_index``, ``random_index``, ``consistency_ratio``."""
        return pd.DataFrame({"n": [len(self.weights)], "lambda_max": [self.lambda_max],
                             "consistency_index": [self.consistency_index], "random_index": [self.random_index],
                             "consistency_ratio": [self.consistency_ratio]})


def ahp_weights(matrix, labels, random_index: float | None = None, *, where=None) -> AHPResult:
    """Weights from a pairwise comparison matrix by Saaty's principal-eigenvector method.

    Parameters
    ----------
    matrix : sequence of sequences
        ``a_ij``: how many times element i is more important than element j
        (numbers or fraction strings such as ``"1/3"``).
    labels : list of str
        Element names, in the matrix's row order.
    random_index : float, optional
        RI for the consistency ratio; required when n is beyond Saaty's table (n > 10).
    where : dict, optional
        InputError keywords (file, key) naming where the matrix was declared.

    Notes
    -----
    The priority vector is the eigenvector of the largest eigenvalue
    :math:`\\lambda_{max}` (Perron root), scaled to sum to 1.
    :math:`CI = (\\lambda_{max} - n)/(n - 1)` and :math:`CR = CI / RI`;
    both are 0 for n <= 2, where every reciprocal matrix is consistent. The
    matrix must be square, positive and reciprocal (:math:`a_{ij} a_{ji} = 1`
    within 1%, so that 0.333 may stand for 1/3).

    References
    ----------
    Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill.
    Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process.
    European Journal of Operational Research 48, 9-26.
    """
    where = where or {}
    try:
        a = np.array([[parse_judgement(v) for v in row] for row in matrix], dtype=float)
    except (TypeError, ValueError, ZeroDivisionError):
        raise InputError("pairwise comparison matrix must hold numbers or fractions such as 1/3", **where) from None
    n = len(labels)
    if a.ndim != 2 or a.shape != (n, n):
        raise InputError(f"pairwise comparison matrix must be square, {n} x {n} for {n} indicators "
                         f"(got {len(matrix)} rows): write one row and one column per indicator, in their order", **where)
    if not (a > 0).all() or not np.isfinite(a).all():
        raise InputError("pairwise comparison matrix must be positive: judgements run from 1/9 to 9, with 1 on the "
                         "diagonal", **where)
    off = np.abs(a * a.T - 1.0)
    if off.max() > RECIPROCAL_TOLERANCE:
        i, j = np.unravel_index(np.argmax(off), off.shape)
        raise InputError(f"pairwise comparison matrix is not reciprocal: a[{i + 1}][{j + 1}] = {a[i, j]:g} but "
                         f"a[{j + 1}][{i + 1}] = {a[j, i]:g}: write the reciprocal (a[j][i] = 1 / a[i][j])", **where)
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    lambda_max = float(values[k].real)
    vector = np.abs(vectors[:, k].real)
    weights = pd.Series(vector / vector.sum(), index=pd.Index(labels, name="indicator"), name="weight")
    if n <= 2:
        return AHPResult(weights, lambda_max, 0.0, 0.0, 0.0)
    if random_index is None:
        if n not in SAATY_RANDOM_INDEX:
            raise InputError(f"Saaty's random index table stops at n = 10; give random_index for n = {n}", **where)
        random_index = SAATY_RANDOM_INDEX[n]
    ci = (lambda_max - n) / (n - 1)
    return AHPResult(weights, lambda_max, ci, random_index, ci / random_index)


def check_consistency(result: AHPResult, threshold: float = 0.10, *, where=None) -> AHPResult:
    """Return ``result`` if its consistency ratio is below ``threshold``, else raise :class:`InputError`."""
    if result.consistency_ratio >= threshold:
        raise InputError(f"pairwise comparison matrix is inconsistent: CR = {result.consistency_ratio:.3f} "
                         f">= {threshold:.2f} (lambda_max = {result.lambda_max:.3f}); revise the judgements",
                         **(where or {}))
    return result


def fixed_weights(values: dict[str, float], labels, *, where=None) -> pd.Series:
    """Weights given in the params: one per indicator, non-negative, summing to 1 (within 1e-9)."""
    where = where or {}
    missing = [label for label in labels if label not in values]
    extra = [key for key in values if key not in labels]
    if missing or extra:
        raise InputError(f"fixed weights must name each indicator of the group once (missing: {missing}, "
                         f"not in the group: {extra})", **where)
    weights = pd.Series([float(values[label]) for label in labels], index=pd.Index(labels, name="indicator"),
                        name="weight")
    if (weights < 0).any():
        raise InputError("fixed weights must be non-negative: correct the weight", **where)
    if abs(weights.sum() - 1.0) > 1e-9:
        raise InputError(f"fixed weights must sum to 1 (they sum to {weights.sum():.6g}): correct them", **where)
    return weights

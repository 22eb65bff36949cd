"""Seeded synthetic customer files, generated from a factor model declared in a case's params.

Model, per customer i and indicator j (``spec = params.synthetic``):

.. math:: x^*_{ij} = \\sum_f \\ell_{jf} \\eta_{if} + \\sqrt{1 - \\sum_f \\ell_{jf}^2}\\, \\varepsilon_{ij},
          \\quad \\eta, \\varepsilon \\sim N(0, 1) \\text{ independent}

so every :math:`x^*_j` is standard normal with correlations
:math:`\\sum_f \\ell_{jf}\\ell_{kf}`. Each indicator is then put on its own scale:
``lognormal`` gives :math:`\\exp(a + b x^*)` (skewed positive amounts such as
balances), ``normal`` gives :math:`a + b x^*`; values are clipped to
``[minimum, maximum]`` and rounded to ``decimals``. Finally a share
``outlier_share`` of cells is multiplied by ``outlier_factor`` (entry errors such
as amounts typed in 元 instead of 万元) and a share ``missing_share`` is blanked.
Draws use NumPy's PCG64 generator seeded with ``spec.seed``, in a fixed order
(latent factors, noise, outlier mask, missing mask), so a seed gives the same
file byte for byte. Survey cases draw their items the same way (a reverse-keyed item has
negative loadings and a mirrored location); ``straight_liners`` respondents then give
one answer, drawn on the first item's range, to every item (and skip none), and
respondent attributes are drawn with the declared shares, after all other draws.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError
from .params import CaseParams

__all__ = ["synthesize_customers"]


def synthesize_customers(params: CaseParams, n_customers: int | None = None,
                         seed: int | None = None) -> pd.DataFrame:
    """A synthetic customer table with the case's source column headers, as formatted text cells.

    Parameters
    ----------
    params : CaseParams
        A case with a ``synthetic`` section.
    n_customers, seed : int, optional
        Override the section's values (used by the benchmarks).
    """
    spec = params.synthetic
    measures = params.survey.items if params.survey is not None else params.indicators
    if spec is None:
        raise InputError("the case has no 'synthetic' section to generate data from",
                         file=params.source_file, key="synthetic")
    n = spec.n_customers if n_customers is None else n_customers
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    specs = [spec.indicators[m.id] for m in measures]
    loadings = np.array([s.loadings for s in specs])
    uniqueness = np.sqrt(1.0 - (loadings**2).sum(axis=1))
    latent = rng.standard_normal((n, loadings.shape[1]))
    noise = rng.standard_normal((n, len(specs)))
    standard = latent @ loadings.T + noise * uniqueness
    outlier = rng.random(standard.shape) < spec.outlier_share
    missing = rng.random(standard.shape) < spec.missing_share

    width = len(str(n))
    columns = {}
    if params.data.id_column is not None:
        columns[params.data.id_column] = [f"{spec.id_prefix}{k:0{width}d}" for k in range(1, n + 1)]
    straight, straight_answer = np.array([], dtype=int), np.array([])
    if spec.straight_liners:
        straight = rng.choice(n, size=spec.straight_liners, replace=False)
        straight_answer = rng.integers(int(specs[0].minimum), int(specs[0].maximum) + 1, size=len(straight))
    for j, (indicator, s) in enumerate(zip(measures, specs)):
        values = s.location + s.scale * standard[:, j]
        if s.distribution == "lognormal":
            values = np.exp(values)
        if s.minimum is not None or s.maximum is not None:
            values = np.clip(values, s.minimum, s.maximum)
        values = np.where(outlier[:, j], values * spec.outlier_factor, values)
        values = np.round(values, s.decimals) + 0.0
        values[straight] = straight_answer
        pattern = f"{{:,.{s.decimals}f}}" if s.thousands_separator else f"{{:.{s.decimals}f}}"
        text = [pattern.format(v) for v in values]
        columns[indicator.source_column] = np.where(missing[:, j] & ~np.isin(np.arange(n), straight), "", text)
    for attribute in params.survey.attributes if params.survey is not None else []:
        shares = spec.attributes.get(attribute.id)
        if shares is None:
            raise InputError(f"give the shares of attribute '{attribute.id}'", file=params.source_file,
                             key="synthetic.attributes")
        probabilities = np.array(list(shares.values())) / sum(shares.values())
        columns[attribute.column] = rng.choice(list(shares), size=n, p=probabilities)
    return pd.DataFrame(columns)

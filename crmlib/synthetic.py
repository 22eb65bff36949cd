"""Seeded synthetic customer files, generated from a factor model declared in a case's params.

Model, per customer i and indicator j (``spec = params.synthetic``, or ``params.survey.synthetic`` for a
questionnaire's respondents and items):

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

__all__ = ["synthesize_customers", "synthesize_responses", "synthesize_panel", "synthesize_transactions"]


def synthesize_customers(params: CaseParams, n_customers: int | None = None,
                         seed: int | None = None) -> pd.DataFrame:
    """A synthetic customer file with the case's source column headers, as formatted text cells.

    Parameters
    ----------
    params : CaseParams
        A case with a ``synthetic`` section (its factor model of the indicators).
    n_customers, seed : int, optional
        Override the section's values (used by the benchmarks).
    """
    if params.synthetic is None:
        raise InputError("the case has no 'synthetic' section to generate data from: add one, or use your own data "
                         "file",
                         file=params.source_file, key="synthetic")
    return _factor_model_table(params.synthetic, params.data.id_column, params.indicators, [], n_customers, seed,
                               file=params.source_file, key="synthetic")


def synthesize_responses(params: CaseParams, n_customers: int | None = None,
                         seed: int | None = None) -> pd.DataFrame:
    """A synthetic response file of the case's questionnaire (``survey.synthetic``), as formatted text cells."""
    survey = params.survey
    if survey is None or survey.synthetic is None:
        raise InputError("the case has no 'survey.synthetic' section to generate answers from: add one, or use your "
                         "own response file",
                         file=params.source_file, key="survey.synthetic")
    return _factor_model_table(survey.synthetic, survey.data.id_column, survey.items, survey.attributes, n_customers,
                               seed, file=params.source_file, key="survey.synthetic")


def _factor_model_table(spec, id_column, measures, attributes, n_customers, seed, *, file, key) -> pd.DataFrame:
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
    if id_column is not None:
        columns[id_column] = [f"{spec.id_prefix}{k:0{width}d}" for k in range(1, n + 1)]
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
    for attribute in attributes:
        shares = spec.attributes.get(attribute.id)
        if shares is None:
            raise InputError(f"give the shares of attribute '{attribute.id}'", file=file, key=f"{key}.attributes")
        probabilities = np.array(list(shares.values())) / sum(shares.values())
        columns[attribute.column] = rng.choice(list(shares), size=n, p=probabilities)
    return pd.DataFrame(columns)


def _draw_feature(spec, n: int, rng: np.random.Generator) -> np.ndarray:
    if spec.distribution == "normal":
        values = spec.location + spec.scale * rng.standard_normal(n)
    elif spec.distribution == "lognormal":
        values = np.exp(spec.location + spec.scale * rng.standard_normal(n))
    elif spec.distribution == "poisson":
        values = rng.poisson(spec.location, n).astype(float)
    else:
        values = (rng.random(n) < spec.location).astype(float)
    if spec.minimum is not None or spec.maximum is not None:
        values = np.clip(values, spec.minimum, spec.maximum)
    return np.round(values, spec.decimals) + 0.0


def synthesize_panel(params: CaseParams, n_customers: int | None = None,
                     seed: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic customer file and monthly AUM panel whose churn hazard depends on declared drivers.

    Model (``spec = params.synthetic_panel``, months t = 0..T-1):

    - Features are drawn independently per ``spec.features``; customers opening
      in the window (share ``new_customer_share``, opening month uniform on
      1..T-1) have the panel's tenure indicator set to 0.
    - AUM level :math:`L_i = \\text{median} \\cdot e^{\\sigma z_i}` (log-normal: heavy
      tailed, so a 20/80 pattern emerges for sigma near 1.7 rather than being
      imposed); :math:`\\log A_{it} = \\log L_i + g_i (t - s_i) + e_{it}` with a
      drift :math:`g_i \\sim N(0, 0.005)` and AR(1) noise
      :math:`e_{it} = 0.7 e_{i,t-1} + v_{it}`, :math:`v \\sim N(0, \\text{aum\\_volatility})`.
    - Monthly hazard :math:`h_i = h_0 \\exp(\\sum_j \\beta_j z_{ij})`, :math:`z_{ij}` the
      feature standardized (sample mean and SD), :math:`\\beta` = ``drivers``, capped at 1;
      the loss month is :math:`\\tau_i = s_i + G_i`, G geometric with success
      probability :math:`h_i` (lost when :math:`\\tau_i \\le T - 1`).
    - A lost customer's AUM falls linearly to half over the ``drawdown_months``
      before :math:`\\tau_i`; then it closes (no rows from :math:`\\tau_i`; always in
      a tier with floor 0, otherwise with probability ``closure_share``) or keeps
      a residual of 5% to 60% of its tier floor.
    - Monthly profit :math:`A_{it} \\cdot \\text{margin} / 12` times log-normal noise
      (log-SD 0.25, mean 1). Amounts are rounded to 0.01 yuan.

    Returns
    -------
    customers, panel : DataFrame
        The customer file (id column and one source column per indicator) and the
        panel (id, month YYYY-MM, AUM, profit) with the case's column headers.
    """
    spec, base = params.synthetic_panel, params.customer_base
    if spec is None or base is None or base.panel is None:
        raise InputError("the case has no 'synthetic_panel' section (with a customer_base panel) to generate data "
                         "from: add one, or use your own customer file and panel", file=params.source_file, key="synthetic_panel")
    n = spec.n_customers if n_customers is None else n_customers
    t = spec.months
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    features = {i.id: _draw_feature(spec.features[i.id], n, rng) for i in params.indicators}
    opens = rng.random(n) < spec.new_customer_share
    start = np.where(opens, rng.integers(1, t, size=n), 0)
    if base.panel.tenure_indicator is not None:
        features[base.panel.tenure_indicator][opens] = 0.0
    level = np.log(spec.aum_median) + spec.aum_sigma * rng.standard_normal(n)
    drift = 0.005 * rng.standard_normal(n)
    shocks = spec.aum_volatility * rng.standard_normal((n, t))
    noise = np.zeros((n, t))
    for month in range(t):
        noise[:, month] = (0.7 * noise[:, month - 1] if month else 0.0) + shocks[:, month]
    month = np.arange(t)
    log_aum = level[:, None] + drift[:, None] * (month[None, :] - start[:, None]) + noise
    aum = np.exp(log_aum)

    log_hazard = np.log(spec.monthly_hazard) + sum(
        beta * (features[name] - features[name].mean()) / features[name].std(ddof=1)
        for name, beta in spec.drivers.items())
    loss = start + rng.geometric(np.minimum(np.exp(log_hazard), 1.0))
    lost = loss <= t - 1
    floors = np.array([tier.lower for tier in base.tiers.levels]) * base.tiers.scale_to(base.panel.unit)
    floor = floors[np.searchsorted(floors, aum[np.arange(n), start], side="right") - 1]
    closes = lost & ((floor == 0) | (rng.random(n) < spec.closure_share))
    residual = floor * rng.uniform(0.05, 0.6, size=n)
    before = loss[:, None] - month[None, :]  # months until the loss
    d = spec.drawdown_months
    falling = lost[:, None] & (before >= 1) & (before <= d)
    aum = np.where(falling, aum * (1 - 0.5 * (d + 1 - before) / d), aum)
    aum = np.where(lost[:, None] & (before <= 0), residual[:, None], aum)
    profit = aum * spec.profit_margin / 12 * np.exp(0.25 * rng.standard_normal((n, t)) - 0.25**2 / 2)

    present = (month[None, :] >= start[:, None]) & ~(closes[:, None] & (before <= 0))
    width = len(str(n))
    ids = np.array([f"{spec.id_prefix}{k:0{width}d}" for k in range(1, n + 1)])
    customers = pd.DataFrame({params.data.id_column: ids} | {
        i.source_column: features[i.id].astype(int) if spec.features[i.id].decimals == 0 else features[i.id]
        for i in params.indicators})
    row, col = np.nonzero(present)
    labels = pd.period_range(spec.first_month, periods=t, freq="M").astype(str).to_numpy()
    panel_spec = base.panel
    panel = pd.DataFrame({panel_spec.id_column: ids[row], panel_spec.month_column: labels[col],
                          panel_spec.aum_column: np.round(aum[row, col], 2)})
    if panel_spec.profit_column is not None:
        panel[panel_spec.profit_column] = np.round(profit[row, col], 2)
    return customers, panel


def synthesize_transactions(n_customers: int, seed: int, *, first_day: str = "2023-01-01", months: int = 24,
                            products: tuple[str, ...] = ("deposit", "card", "fund", "insurance", "loan"),
                            ) -> pd.DataFrame:
    """A synthetic transactions table (``customer_id``, ``date`` YYYY-MM-DD, ``amount``, ``product``): customers
    who buy at a rate until they lapse, in the spirit of the Pareto/NBD model.

    Model, per customer i (days counted from ``first_day``, the window ``months`` months long):

    - first transaction on a day uniform in the first quarter of the window;
    - purchase rate :math:`\\lambda_i \\sim \\text{Gamma}(0.6, 1)` per 30 days, lifetime
      :math:`\\tau_i \\sim \\text{Exp}(\\text{mean } 360 \\text{ days})` from the first transaction; the repeat
      transactions are a Poisson process of rate :math:`\\lambda_i` on the days of
      :math:`[\\text{first}, \\min(\\text{first} + \\tau_i, \\text{end}))`;
    - amounts :math:`\\exp(\\mu_i + 0.5 z)`, :math:`\\mu_i \\sim N(5, 0.8)`, rounded to 0.01; a product drawn with
      probabilities proportional to 5, 4, 3, 2, 1 (first product the most common).

    Draws use NumPy's PCG64 generator seeded with ``seed``, in the order of the list above, so a seed gives the
    same table. Rows are ordered by customer and date; ids are ``T`` and a zero-padded number.
    """
    rng = np.random.default_rng(seed)
    days = int((pd.Timestamp(first_day) + pd.DateOffset(months=months) - pd.Timestamp(first_day)).days)
    first = rng.integers(0, max(1, days // 4), size=n_customers)
    rate = rng.gamma(0.6, 1.0, size=n_customers) / 30
    lifetime = rng.exponential(360.0, size=n_customers)
    active = np.minimum(first + lifetime, days) - first
    repeats = rng.poisson(rate * active)
    owner = np.repeat(np.arange(n_customers), 1 + repeats)
    offset = np.concatenate([[0], np.cumsum(1 + repeats)[:-1]])
    is_first = np.zeros(owner.size, dtype=bool)
    is_first[offset] = True
    day = np.where(is_first, first[owner], first[owner] + np.floor(rng.random(owner.size) * active[owner]))
    location = rng.normal(5.0, 0.8, size=n_customers)
    amount = np.round(np.exp(location[owner] + 0.5 * rng.standard_normal(owner.size)), 2)
    weights = np.arange(len(products), 0, -1, dtype=float)
    product = np.asarray(products)[rng.choice(len(products), size=owner.size, p=weights / weights.sum())]
    width = len(str(n_customers))
    ids = np.array([f"T{k:0{width}d}" for k in range(1, n_customers + 1)])
    table = pd.DataFrame({"customer_id": ids[owner], "day": day.astype(int), "amount": amount, "product": product})
    table = table.sort_values(["customer_id", "day"], kind="stable", ignore_index=True)
    dates = (pd.Timestamp(first_day) + pd.to_timedelta(table.pop("day"), unit="D")).dt.strftime("%Y-%m-%d")
    table.insert(1, "date", dates)
    return table

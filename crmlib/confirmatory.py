"""Confirmatory factor analysis of a questionnaire's designed blocks, the construct validity read from it, and the
invariance of the measurement across groups of respondents.

The model is the congeneric measurement model of the questionnaire: each item loads on the one construct (block)
it was designed for, the constructs correlate freely, the residuals are uncorrelated. It is fitted by maximum
likelihood with semopy (objective ``MLW``), the fit indices and the standardized solution's standard errors that
semopy does not report in lavaan's conventions are computed here. Every figure agrees with R lavaan 0.6
(``cfa(model, data)``) and semTools 0.5.6: ``tests/test_confirmatory.py`` against ``tests/reference/*/lavaan_*``.

Conventions (lavaan's defaults)
-------------------------------
- Estimator ML with the sample covariance matrix divided by n (``likelihood = "normal"``); the chi-square is
  n times the minimum of :math:`F = \\ln|\\Sigma| + \\operatorname{tr}(S\\Sigma^{-1}) - \\ln|S| - p`.
- Identification by the first item of each construct (its loading fixed at 1, the marker); the standardized
  solution (``std.all``) does not depend on it.
- Standard errors from the expected information, :math:`\\frac n2 \\operatorname{tr}(\\Sigma^{-1}\\dot\\Sigma_i
  \\Sigma^{-1}\\dot\\Sigma_j)`; those of the standardized solution by the delta method (lavaan's
  ``standardizedSolution``).
- Missing answers: respondents with a missing item are left out (lavaan's ``missing = "listwise"``).
- RMSEA with n, not n - 1, in its denominator (lavaan since 0.6), times :math:`\\sqrt G` for G groups; its 90%
  interval from the non-central chi-square; SRMR as Bentler's (residual covariances over the observed standard
  deviations, the diagonal included).

References
----------
Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor analysis. Psychometrika 34,
183-202. Fornell, C. and Larcker, D. F. (1981). Evaluating structural equation models with unobservable variables
and measurement error. Journal of Marketing Research 18, 39-50. Henseler, J., Ringle, C. M. and Sarstedt, M.
(2015). A new criterion for assessing discriminant validity in variance-based structural equation modeling.
Journal of the Academy of Marketing Science 43, 115-135. Roemer, E., Schuberth, F. and Henseler, J. (2021). HTMT2 -
an improved criterion for assessing discriminant validity in structural equation modeling. Industrial Management
& Data Systems 121, 2637-2650. Meredith, W. (1993). Measurement invariance, factor analysis and factorial
invariance. Psychometrika 58, 525-543. Rosseel, Y. (2012). lavaan: an R package for structural equation modeling.
Journal of Statistical Software 48(2). Igolkina, A. A. and Meshcheryakov, G. (2020). semopy: a Python package for
structural equation modeling. Structural Equation Modeling 27, 952-963.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .errors import InputError
from .factors import rmsea_interval

__all__ = ["degrees_of_freedom", "CFA", "confirmatory_factor_analysis", "rmsea", "composite_reliability",
           "heterotrait_monotrait", "measurement_invariance"]

#: The ML fit stops when the objective changes by less than this between iterations (scipy SLSQP's ``ftol``).
FIT_TOLERANCE = 1e-15


def degrees_of_freedom(blocks: dict[str, list[str]]) -> int:
    """Degrees of freedom of the congeneric model of ``blocks``: p(p + 1)/2 moments less p - k free loadings, p
    residual variances and k(k + 1)/2 construct variances and covariances. Below 1 the model is not identified or
    fits by construction (one block of two or three items)."""
    p, k = sum(len(items) for items in blocks.values()), len(blocks)
    return p * (p + 1) // 2 - (2 * p - k + k * (k + 1) // 2)


def _syntax(blocks: dict[str, list[str]], names: dict[str, str], equal_loadings: bool = False) -> str:
    """The model in lavaan syntax, items and constructs renamed to plain identifiers; with ``equal_loadings`` the
    loadings after each marker carry a label, which makes them one parameter across groups. The constructs'
    variances and covariances are written out, in the blocks' order: semopy would otherwise add them in the order
    of a Python set, which changes with the process' string hashing and with it the last bits of every estimate."""
    lines = []
    for j, (construct, items) in enumerate(blocks.items()):
        terms = [names[items[0]]] + [(f"l{names[i]}*" if equal_loadings else "") + names[i] for i in items[1:]]
        lines.append(f"f{j} =~ " + " + ".join(terms))
    lines += [f"f{j} ~~ f{i}" for j in range(len(blocks)) for i in range(j, len(blocks))]
    return "\n".join(lines)


def _model(blocks: dict[str, list[str]], names: dict[str, str], data: pd.DataFrame, equal_loadings: bool = False):
    import semopy  # imported here: it takes 1.5 s and only this stage needs it

    model = semopy.Model(_syntax(blocks, names, equal_loadings))
    model.load(data=data.rename(columns=names))
    return model


def _active(model) -> list[str]:
    return [name for name, parameter in model.parameters.items() if parameter.active]


def _discrepancy(model, x: np.ndarray) -> tuple[float, np.ndarray]:
    """The ML discrepancy F of one group and its gradient (semopy's ``MLW``)."""
    return model.obj_mlw(x), model.grad_mlw(x)


def _independence_chi_square(cov: np.ndarray, n: int) -> float:
    """Chi-square of the baseline model (every item uncorrelated): :math:`n(\\sum \\ln s_{jj} - \\ln|S|)`."""
    return n * (np.log(np.diag(cov)).sum() - np.linalg.slogdet(cov)[1])


def rmsea(chi_square: float, df: int, n: int, confidence: float = 0.90, groups: int = 1
          ) -> tuple[float, float, float]:
    """RMSEA and its confidence interval in lavaan's form (``fitMeasures``):

    .. math:: \\mathrm{RMSEA} = \\sqrt{G}\\sqrt{\\max(\\chi^2 - df, 0) / (df\\, n)}

    with n, not psych's n - 1, and the interval's ends from the non-central chi-square
    (:func:`crmlib.factors.rmsea_interval` with divisor n), both times :math:`\\sqrt G` for G groups.
    """
    scale = np.sqrt(groups)
    lower, upper = rmsea_interval(chi_square, df, n, confidence, divisor=n)
    return np.sqrt(max(chi_square - df, 0.0) / (df * n)) * scale, lower * scale, upper * scale


def _srmr(sample: np.ndarray, implied: np.ndarray) -> float:
    """Bentler's SRMR: root mean square of :math:`(s_{ij} - \\hat\\sigma_{ij}) / \\sqrt{s_{ii}s_{jj}}` over
    :math:`i \\le j`."""
    sd = np.sqrt(np.diag(sample))
    residual = (sample - implied) / np.outer(sd, sd)
    return float(np.sqrt(np.mean(residual[np.tril_indices_from(residual)] ** 2)))


@dataclass(frozen=True)
class CFA:
    """Output of :func:`confirmatory_factor_analysis`.

    Attributes
    ----------
    fit : DataFrame
        One row: ``n``, ``chi_square``, ``df``, ``p_value``, ``cfi``, ``tli``, ``rmsea``, ``rmsea_lower``,
        ``rmsea_upper`` (90%), ``srmr``, ``admissible`` (every variance positive and the constructs' covariance
        matrix positive definite, lavaan's post-fit check), ``baseline_chi_square``, ``baseline_df``.
    loadings : DataFrame
        Per item: ``construct``, ``item``, ``estimate`` (the marker's is 1), ``se`` (none for the marker),
        ``std_loading``, ``std_se``, ``std_residual`` (the item's residual variance share, 1 - std_loading^2).
    construct_correlations : DataFrame
        Per pair of constructs: ``construct_a``, ``construct_b``, ``correlation``, ``se``.
    """

    fit: pd.DataFrame
    loadings: pd.DataFrame
    construct_correlations: pd.DataFrame


def _standardized(model, x: np.ndarray) -> np.ndarray:
    """lavaan's ``std.all`` of a CFA at parameters x: the standardized loadings (row by row of Lambda), then the
    construct correlations (lower triangle of Psi)."""
    model.update_matrices(x)
    lam, psi, theta = model.mx_lambda, model.mx_psi, model.mx_theta
    implied_sd = np.sqrt(np.diag(lam @ psi @ lam.T + theta))
    construct_sd = np.sqrt(np.diag(psi))
    loadings = lam * construct_sd[None, :] / implied_sd[:, None]
    correlations = psi / np.outer(construct_sd, construct_sd)
    return np.concatenate([loadings.ravel(), correlations[np.tril_indices_from(psi, -1)]])


def _jacobian(function, x: np.ndarray) -> np.ndarray:
    """Central differences with Richardson extrapolation of order 4 (error of order h^4, h = 1e-3 |x|)."""
    rows = []
    for i in range(len(x)):
        h = 1e-3 * max(abs(x[i]), 1.0)

        def at(step):
            shifted = x.copy()
            shifted[i] += step
            return function(shifted)
        rows.append((8 * (at(h / 2) - at(-h / 2)) - (at(h) - at(-h))) / (6 * h))
    return np.array(rows).T


def _complete(items: pd.DataFrame) -> pd.DataFrame:
    data = items.dropna()
    if len(data) <= items.shape[1]:
        raise InputError(f"the confirmatory factor analysis needs more respondents with every item answered than "
                         f"items: {len(data)} for {items.shape[1]} items")
    return data


def _fit_single(blocks, names, data, file=None):
    model = _model(blocks, names, data)
    from semopy.solver import Solver

    fun, grad = model.get_objective("MLW")
    result = Solver("SLSQP", fun, grad, model.param_vals, constrs=model.constraints, bounds=model.get_bounds(),
                    options={"ftol": FIT_TOLERANCE, "maxiter": 10000}).solve()
    if not result.success:
        raise InputError(f"the confirmatory factor analysis of the blocks did not converge ({result.message}): the "
                         "blocks may not fit these answers; set survey.cfa: false to leave it out", file=file,
                         key="survey.cfa")
    x = _fisher_scoring(model, result.x)
    model.param_vals = x
    model.update_matrices(x)
    return model, model.obj_mlw(x)


def _fisher_scoring(model, x: np.ndarray, steps: int = 50) -> np.ndarray:
    """SLSQP's minimum polished by Fisher scoring, :math:`x \\leftarrow x - \\tfrac n2 I(x)^{-1} \\nabla F(x)` (the
    expected Hessian of F is 2/n times the information), until no parameter moves by more than 1e-13: SLSQP stops on
    the objective's change, which leaves the estimates about 1e-7 from the minimum on a flat likelihood. A step that
    would leave the bounds (a variance below 0) or raise the objective beyond its rounding is not taken."""
    lower = np.array([-np.inf if b[0] is None else b[0] for b in model.get_bounds()])
    for _ in range(steps):
        model.update_matrices(x)
        information = model.calc_fim()
        step = -0.5 * model.n_samples * np.linalg.solve(information, model.grad_mlw(x))
        candidate = x + step
        if (candidate < lower).any() or model.obj_mlw(candidate) > model.obj_mlw(x) + 1e-12:
            break
        x = candidate
        if np.abs(step).max() < 1e-13:
            break
    return x


def confirmatory_factor_analysis(items: pd.DataFrame, blocks: dict[str, list[str]], *, file=None) -> CFA:
    """Maximum-likelihood confirmatory factor analysis of the congeneric model of ``blocks`` (construct -> its
    items, the first one the marker), as lavaan's ``cfa(model, data)`` (module conventions).

    Fit indices: :math:`CFI = 1 - \\max(\\chi^2 - df, 0) / \\max(\\chi^2 - df, \\chi^2_0 - df_0, 0)`,
    :math:`TLI = (\\chi^2_0/df_0 - \\chi^2/df) / (\\chi^2_0/df_0 - 1)` against the baseline model of uncorrelated
    items (:math:`df_0 = p(p-1)/2`), RMSEA and its interval by :func:`rmsea`, Bentler's SRMR.

    R: ``lavaan::cfa(model, data = x)``; ``fitMeasures(fit)``, ``parameterEstimates(fit)``,
    ``standardizedSolution(fit)``.
    """
    columns = [item for block in blocks.values() for item in block]
    data = _complete(items[columns])
    n, p = data.shape
    names = {item: f"v{j}" for j, item in enumerate(columns)}
    model, minimum = _fit_single(blocks, names, data, file)
    x = model.param_vals.copy()
    _, inverse_information = model.calc_fim(inverse=True)
    jacobian = _jacobian(lambda v: _standardized(model, v), x)
    standardized = _standardized(model, x)
    std_se = np.sqrt(np.maximum(np.diag(jacobian @ inverse_information @ jacobian.T), 0.0))
    se = dict(zip(_active(model), np.sqrt(np.diag(inverse_information))))
    k = len(blocks)
    lam = model.mx_lambda
    observed, latent = model.names_lambda
    order = {f"f{j}": j for j in range(k)}
    rows = []
    for construct_index, (construct, block) in enumerate(blocks.items()):
        column = latent.index(f"f{construct_index}")
        for position, item in enumerate(block):
            row = observed.index(names[item])
            flat = row * k + column
            label = [name for name, parameter in model.parameters.items()
                     if any(loc.matrix is model.mx_lambda and loc.indices == (row, column)
                            for loc in parameter.locations)]
            rows.append({"construct": construct, "item": item, "estimate": lam[row, column],
                         "se": se[label[0]] if label and position > 0 else np.nan,
                         "std_loading": standardized[flat], "std_se": std_se[flat],
                         "std_residual": 1.0 - standardized[flat] ** 2})
    loadings = pd.DataFrame(rows)
    correlations = []
    constructs = list(blocks)
    tril = np.tril_indices(k, -1)
    offset = len(observed) * k
    for position, (a, b) in enumerate(zip(*tril)):
        first, second = constructs[order[latent[a]]], constructs[order[latent[b]]]
        if constructs.index(first) > constructs.index(second):
            first, second = second, first
        correlations.append({"construct_a": first, "construct_b": second,
                             "correlation": standardized[offset + position], "se": std_se[offset + position]})
    correlations = pd.DataFrame(correlations, columns=["construct_a", "construct_b", "correlation", "se"]).sort_values(
        ["construct_a", "construct_b"], key=lambda s: s.map(constructs.index)).reset_index(drop=True)
    sample = model.mx_cov  # divided by n, in the model's order of the items
    implied = lam @ model.mx_psi @ lam.T + model.mx_theta
    chi_square = n * minimum
    df = p * (p + 1) // 2 - len(x)
    baseline_chi_square, baseline_df = _independence_chi_square(sample, n), p * (p - 1) // 2
    rmsea_, lower, upper = rmsea(chi_square, df, n)
    fit = pd.DataFrame([{"n": n, "chi_square": chi_square, "df": df, "p_value": stats.chi2.sf(chi_square, df),
                         **_comparative(chi_square, df, baseline_chi_square, baseline_df),
                         "rmsea": rmsea_, "rmsea_lower": lower, "rmsea_upper": upper, "srmr": _srmr(sample, implied),
                         "admissible": _admissible(model),
                         "baseline_chi_square": baseline_chi_square, "baseline_df": baseline_df}])
    return CFA(fit, loadings, correlations)


def _admissible(model) -> bool:
    """lavaan's post-fit check: every residual and construct variance positive (no Heywood case) and the constructs'
    covariance matrix positive definite."""
    return bool((np.diag(model.mx_theta) > 0).all() and np.linalg.eigvalsh(model.mx_psi).min() > 0)


def _comparative(chi_square, df, baseline_chi_square, baseline_df) -> dict[str, float]:
    """CFI and TLI against the baseline model (lavaan's formulas)."""
    cfi = 1.0 - max(chi_square - df, 0.0) / max(chi_square - df, baseline_chi_square - baseline_df, 0.0)
    ratio = baseline_chi_square / baseline_df
    return {"cfi": cfi, "tli": (ratio - chi_square / df) / (ratio - 1.0)}


def composite_reliability(cfa: CFA) -> pd.DataFrame:
    """Composite reliability and average variance extracted per construct, and the Fornell-Larcker criterion.

    From the standardized loadings :math:`\\lambda_i` of a construct's items:

    .. math::
        CR = \\frac{(\\sum_i \\lambda_i)^2}{(\\sum_i \\lambda_i)^2 + \\sum_i (1 - \\lambda_i^2)}, \\qquad
        AVE = \\frac1m \\sum_i \\lambda_i^2

    (Fornell and Larcker 1981). The usual floors are CR >= 0.7 and AVE >= 0.5. The Fornell-Larcker criterion holds
    for a construct when :math:`\\sqrt{AVE}` exceeds its largest absolute correlation with another construct.
    R: semTools ``compRelSEM(fit, obs.var = FALSE)`` and ``AVE(fit, obs.var = FALSE)`` of the CFA of the
    standardized items (``cfa(model, data, std.ov = TRUE)``), where their formulas reduce to these.

    Returns
    -------
    DataFrame
        Per construct: ``construct``, ``n_items``, ``composite_reliability``, ``ave``, ``sqrt_ave``,
        ``max_correlation`` (largest absolute correlation with another construct), ``fornell_larcker``.
    """
    rows = []
    correlations = cfa.construct_correlations
    for construct, block in cfa.loadings.groupby("construct", sort=False):
        loading = block["std_loading"].to_numpy()
        common = loading.sum() ** 2
        ave = float(np.mean(loading ** 2))
        mine = correlations[(correlations["construct_a"] == construct) | (correlations["construct_b"] == construct)]
        largest = float(mine["correlation"].abs().max()) if len(mine) else np.nan
        rows.append({"construct": construct, "n_items": len(loading),
                     "composite_reliability": common / (common + (1.0 - loading ** 2).sum()), "ave": ave,
                     "sqrt_ave": np.sqrt(ave), "max_correlation": largest,
                     "fornell_larcker": bool(np.sqrt(ave) > largest) if len(mine) else None})
    return pd.DataFrame(rows)


def heterotrait_monotrait(correlations: pd.DataFrame, blocks: dict[str, list[str]]) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations per pair of constructs (Henseler et al. 2015), and its
    geometric-mean version HTMT2 (Roemer et al. 2021).

    .. math::
        HTMT_{ab} = \\frac{\\overline{|r_{ij}|}_{i \\in a, j \\in b}}
                         {\\sqrt{\\overline{|r_{ii'}|}_{a}\\;\\overline{|r_{jj'}|}_{b}}}

    with arithmetic means of the absolute item correlations between the two constructs (heterotrait) and within each
    (monotrait, off-diagonal); HTMT2 takes geometric means instead. Discriminant validity is usually accepted below
    0.85 (strict) or 0.90. R: semTools ``htmt(model, sample.cov = r, htmt2 = FALSE)`` and ``htmt2 = TRUE`` (its
    default).

    Returns
    -------
    DataFrame
        ``construct_a``, ``construct_b``, ``htmt``, ``htmt2``.
    """
    r = correlations.abs()

    def means(a, b, within):
        values = r.loc[blocks[a], blocks[b]].to_numpy()
        values = values[np.triu_indices_from(values, 1)] if within else values.ravel()
        return values.mean(), np.exp(np.log(values).mean())

    constructs = list(blocks)
    rows = []
    for i, a in enumerate(constructs):
        for b in constructs[i + 1:]:
            (hetero, hetero_g), (mono_a, mono_a_g), (mono_b, mono_b_g) = (means(a, b, False), means(a, a, True),
                                                                        means(b, b, True))
            rows.append({"construct_a": a, "construct_b": b, "htmt": hetero / np.sqrt(mono_a * mono_b),
                         "htmt2": hetero_g / np.sqrt(mono_a_g * mono_b_g)})
    return pd.DataFrame(rows)


def _multigroup(blocks, names, data_by_group, equal_loadings, file=None):
    """Minimum of :math:`\\sum_g n_g F_g` over the groups' parameters, the loadings shared when
    ``equal_loadings`` (lavaan's ``group.equal = "loadings"``: semopy's labelled loadings, one parameter for every
    group); returns the chi-square and the number of free parameters. semopy's starting values start it."""
    models = [(_model(blocks, names, data, equal_loadings), len(data)) for data in data_by_group]
    position, index, start, bounds = {}, [], [], []
    for g, (model, _) in enumerate(models):
        mine = []
        for name, value, bound in zip(_active(model), model.param_vals, model.get_bounds()):
            key = name if not name.startswith("_") else (g, name)  # labelled: shared
            if key not in position:
                position[key] = len(start)
                start.append(value)
                bounds.append(bound)
            mine.append(position[key])
        index.append(np.array(mine))
    total = sum(n for _, n in models)

    def objective(x):
        value, gradient = 0.0, np.zeros_like(x)
        for (model, n), mine in zip(models, index):
            f, g = _discrepancy(model, x[mine])
            value += n / total * f
            np.add.at(gradient, mine, n / total * np.asarray(g))
        return value, gradient

    result = optimize.minimize(objective, np.array(start), jac=True, method="SLSQP", bounds=bounds,
                               options={"ftol": FIT_TOLERANCE, "maxiter": 10000})
    if not result.success:
        raise InputError(f"the multi-group confirmatory factor analysis did not converge ({result.message}); set "
                         "survey.cfa: false to leave it out", file=file, key="survey.cfa")
    return total * result.fun, len(start)


def measurement_invariance(items: pd.DataFrame, groups: pd.Series, blocks: dict[str, list[str]], *,
                           file=None) -> pd.DataFrame:
    """Configural and metric invariance of the measurement model across groups of respondents.

    Configural: the same blocks in every group, every parameter free per group. Metric: the loadings equal across
    groups (the markers fixed at 1 in every group, the construct variances free). Each is fitted by ML over all
    groups at once, :math:`\\chi^2 = \\sum_g n_g F_g`; the means are saturated and do not change it. The
    chi-square difference test of metric against configural has the loadings' count times (G - 1) degrees of
    freedom (lavaan's ``lavTestLRT``, standard ML). Respondents without a group or with a missing item are left
    out. R: ``cfa(model, data, group = g)``, ``cfa(model, data, group = g, group.equal = "loadings")``.

    Returns
    -------
    DataFrame
        Rows ``configural`` and ``metric``: ``model``, ``groups``, ``n``, ``chi_square``, ``df``, ``p_value``,
        ``cfi``, ``tli``, ``rmsea``, ``delta_chi_square``, ``delta_df``, ``delta_p_value``, ``delta_cfi``
        (metric minus configural; blank on the configural row).
    """
    columns = [item for block in blocks.values() for item in block]
    keep = groups.notna() & items[columns].notna().all(axis=1)
    data, labels = items.loc[keep, columns], groups[keep]
    levels = sorted(labels.unique(), key=str)
    by_group = [_complete(data[labels == level]) for level in levels]
    names = {item: f"v{j}" for j, item in enumerate(columns)}
    p = len(columns)
    n = sum(len(d) for d in by_group)
    baseline = sum(_independence_chi_square(d.cov(ddof=0).to_numpy(), len(d)) for d in by_group)
    baseline_df = len(levels) * p * (p - 1) // 2
    rows = []
    for name, equal in (("configural", False), ("metric", True)):
        chi_square, free = _multigroup(blocks, names, by_group, equal, file)
        df = len(levels) * p * (p + 1) // 2 - free
        rows.append({"model": name, "groups": len(levels), "n": n, "chi_square": chi_square, "df": df,
                     "p_value": stats.chi2.sf(chi_square, df),
                     **_comparative(chi_square, df, baseline, baseline_df),
                     "rmsea": rmsea(chi_square, df, n, groups=len(levels))[0]})
    table = pd.DataFrame(rows)
    delta_chi, delta_df = table["chi_square"].diff(), table["df"].diff()
    return table.assign(delta_chi_square=delta_chi, delta_df=delta_df,
                        delta_p_value=[np.nan] + [stats.chi2.sf(c, d) for c, d in zip(delta_chi[1:], delta_df[1:])],
                        delta_cfi=table["cfi"].diff())

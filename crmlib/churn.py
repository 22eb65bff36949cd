"""Churn drivers: which customer features go with losing a customer, and how well they predict it.

Two models of the loss flag (1 = lost) on the features named in the params:

- **Logistic regression**, unpenalized, by maximum likelihood (statsmodels
  ``Logit``, Newton's method) on features standardized with their mean and
  sample standard deviation (ddof = 1), so a coefficient is the change in
  log-odds per standard deviation and exp(coefficient) the odds ratio per SD.
  Wald confidence intervals. Reference: Hosmer, Lemeshow and Sturdivant (2013),
  *Applied Logistic Regression*, 3rd ed., Wiley.
- **Gradient boosting**, scikit-learn's ``HistGradientBoostingClassifier`` with
  the params' learning rate, iterations and leaves, no early stopping,
  ``random_state`` = the params' seed.

Both are judged by stratified k-fold cross-validation (``StratifiedKFold``,
shuffled with the params' seed): every customer gets an out-of-fold predicted
probability, from a model that did not see it (the logistic model standardizes
with its training folds' mean and SD). Reported: ROC AUC and PR AUC (average
precision) of the pooled out-of-fold predictions and the mean and SD of the
per-fold ROC AUC; the Brier score; a calibration table; permutation importances
of the gradient-boosting model (drop in ROC AUC on the held-out fold when a
feature is shuffled, averaged over folds; Breiman 2001, Machine Learning 45:5-32).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from .engine import hash_order, quote
from .params import ChurnModel
from .privacy import pseudonymize

__all__ = ["MODELS", "ChurnCV", "model_sample", "standardize", "logistic_drivers", "cross_validate",
           "discrimination", "calibration_table", "top_risk"]

#: The two models, as named in every output table.
MODELS = ("logistic", "gradient_boosting")


@dataclass(frozen=True)
class ChurnCV:
    """Out-of-fold predictions (``fold``, ``lost``, one probability column per model) and permutation importances."""

    predictions: pd.DataFrame
    importances: pd.DataFrame


def model_sample(engine, settings: ChurnModel, table: str = "customer_base") -> pd.DataFrame:
    """The customers the models use, from engine table ``table``: all, or the ``sample_size`` customers drawn by
    hash of (``seed``, id) (:func:`crmlib.engine.hash_order`), so every engine draws the same ones; in
    customer-id order, indexed by id, with ``lost`` and the features."""
    columns = ", ".join(quote(c) for c in ["customer_id", "lost", *settings.features])
    source = table
    if settings.sample_size is not None:
        source = f"(SELECT * FROM {table} ORDER BY {hash_order(settings.seed, 'customer_id')} " \
                 f"LIMIT {settings.sample_size})"
    return engine.query(f"SELECT {columns} FROM {source} s ORDER BY customer_id").set_index("customer_id")


def standardize(features: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """z-scores with the mean and sample SD (ddof = 1) of ``reference`` (default: the features themselves)."""
    reference = features if reference is None else reference
    return (features - reference.mean()) / reference.std(ddof=1)


def _logit(z: pd.DataFrame, lost: pd.Series):
    return sm.Logit(lost.to_numpy(dtype=float), sm.add_constant(z, has_constant="add")).fit(
        method="newton", maxiter=100, tol=1e-12, disp=False)


def logistic_drivers(features: pd.DataFrame, lost: pd.Series, level: float = 0.95) -> pd.DataFrame:
    """Maximum-likelihood logistic regression of the loss flag on standardized features.

    Returns
    -------
    DataFrame
        One row per term (``const`` first): ``term``, ``coefficient`` (log-odds per
        SD), ``std_error``, ``z``, ``p_value``, ``ci_lower``, ``ci_upper`` (Wald,
        at ``level``), ``odds_ratio``, ``or_ci_lower``, ``or_ci_upper``, ``rank``
        (1 = largest absolute coefficient among the features).
    """
    fit = _logit(standardize(features), lost)
    interval = fit.conf_int(alpha=1 - level)
    table = pd.DataFrame({"coefficient": fit.params, "std_error": fit.bse, "z": fit.tvalues,
                          "p_value": fit.pvalues, "ci_lower": interval[0], "ci_upper": interval[1]})
    table[["odds_ratio", "or_ci_lower", "or_ci_upper"]] = np.exp(table[["coefficient", "ci_lower", "ci_upper"]])
    table["rank"] = table["coefficient"].abs().drop("const").rank(ascending=False, method="min")
    return table.rename_axis("term").reset_index()


def _boosting(settings: ChurnModel) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(learning_rate=settings.learning_rate, max_iter=settings.max_iter,
                                          max_leaf_nodes=settings.max_leaf_nodes, early_stopping=False,
                                          random_state=settings.seed)


def cross_validate(features: pd.DataFrame, lost: pd.Series, settings: ChurnModel) -> ChurnCV:
    """Stratified k-fold out-of-fold predictions of both models and the boosting model's permutation importances."""
    folds = StratifiedKFold(n_splits=settings.folds, shuffle=True, random_state=settings.seed)
    y = lost.to_numpy(dtype=int)
    predictions = pd.DataFrame({"fold": 0, "lost": y, "logistic": np.nan, "gradient_boosting": np.nan},
                               index=features.index)
    importances = []
    for fold, (train, test) in enumerate(folds.split(features, y), start=1):
        x_train, x_test = features.iloc[train], features.iloc[test]
        logit = _logit(standardize(x_train), lost.iloc[train])
        z_test = sm.add_constant(standardize(x_test, x_train), has_constant="add")
        boosting = _boosting(settings).fit(x_train.to_numpy(), y[train])
        column = predictions.columns.get_loc
        predictions.iloc[test, column("fold")] = fold
        predictions.iloc[test, column("logistic")] = logit.predict(z_test)
        predictions.iloc[test, column("gradient_boosting")] = boosting.predict_proba(x_test.to_numpy())[:, 1]
        drop = permutation_importance(boosting, x_test.to_numpy(), y[test], scoring="roc_auc",
                                      n_repeats=settings.permutation_repeats, random_state=settings.seed + fold)
        importances.append(drop.importances)
    repeats = np.concatenate(importances, axis=1)
    importance = pd.DataFrame({"feature": features.columns, "auc_drop_mean": repeats.mean(axis=1),
                               "auc_drop_sd": repeats.std(axis=1, ddof=1)})
    importance["rank"] = importance["auc_drop_mean"].rank(ascending=False, method="min").astype(int)
    return ChurnCV(predictions, importance.sort_values("rank", kind="stable").reset_index(drop=True))


def discrimination(predictions: pd.DataFrame) -> pd.DataFrame:
    """ROC AUC, PR AUC and Brier score of each model's out-of-fold predictions.

    Returns
    -------
    DataFrame
        ``model``, ``customers``, ``lost_share`` (prevalence, the PR AUC of a
        random ranking), ``roc_auc``, ``roc_auc_fold_mean``, ``roc_auc_fold_sd``,
        ``pr_auc``, ``brier``.
    """
    y = predictions["lost"].to_numpy()
    rows = []
    for model in MODELS:
        p = predictions[model].to_numpy()
        per_fold = [roc_auc_score(g["lost"], g[model]) for _, g in predictions.groupby("fold")]
        rows.append({"model": model, "customers": len(y), "lost_share": y.mean(), "roc_auc": roc_auc_score(y, p),
                     "roc_auc_fold_mean": np.mean(per_fold), "roc_auc_fold_sd": np.std(per_fold, ddof=1),
                     "pr_auc": average_precision_score(y, p), "brier": brier_score_loss(y, p)})
    return pd.DataFrame(rows)


def calibration_table(predictions: pd.DataFrame, bins: int) -> pd.DataFrame:
    """Mean predicted probability against the observed loss rate in bins of equal size.

    Customers are sorted by predicted probability (ties by position, stable) and
    cut into ``bins`` groups of (almost) equal size.

    Returns
    -------
    DataFrame
        ``model``, ``bin`` (1 = lowest risk), ``customers``, ``mean_predicted``,
        ``observed_rate``.
    """
    parts = []
    for model in MODELS:
        order = np.argsort(predictions[model].to_numpy(), kind="stable")
        group = np.empty(len(order), dtype=int)
        group[order] = np.arange(len(order)) * bins // len(order) + 1
        table = predictions.groupby(group).agg(customers=("lost", "size"), mean_predicted=(model, "mean"),
                                               observed_rate=("lost", "mean"))
        parts.append(table.rename_axis("bin").reset_index().assign(model=model))
    table = pd.concat(parts, ignore_index=True)
    return table[["model", "bin", "customers", "mean_predicted", "observed_rate"]]


def top_risk(engine, risk: pd.Series, tier: str, n: int, salt: str, table: str = "customer_base") -> pd.DataFrame:
    """The ``n`` active (not lost) customers of ``tier`` (engine table ``table``) with the highest predicted
    ``risk`` (indexed by customer id), pseudonymized with ``salt`` (:func:`crmlib.privacy.pseudonymize`).

    Returns
    -------
    DataFrame
        ``rank``, ``pseudonym``, ``tier``, ``lifecycle``, ``risk`` (out-of-fold
        probability of loss); ties in risk are ordered by customer id.
    """
    engine.table("risk", risk.rename("risk").rename_axis("customer_id").reset_index())
    chosen = engine.query(f"SELECT c.customer_id, c.lifecycle, r.risk FROM {table} c JOIN risk r "
                          f"ON c.customer_id = r.customer_id WHERE c.tier = '{tier}' AND c.lost = 0 "
                          f"ORDER BY r.risk DESC, c.customer_id LIMIT {int(n)}")
    return pd.DataFrame({"rank": np.arange(1, len(chosen) + 1),
                         "pseudonym": pseudonymize(pd.Index(chosen["customer_id"]), salt).to_numpy(),
                         "tier": tier, "lifecycle": chosen["lifecycle"].to_numpy(),
                         "risk": chosen["risk"].to_numpy(dtype=float)})

"""Stages of the customer-base family: the loss flags or the monthly panel (01), each customer's tier, loss and
life-cycle stage with monthly flows and tier migration (02), churn-driver models (03), tiers, concentration,
attrition, retention, life cycle and customers at risk (04), strategies per tier and life-cycle stage (05)."""
from __future__ import annotations

import pandas as pd

from ... import concentration, customer_base, engine, indicators, io, privacy, strategy
from ...errors import InputError


def _engine(directory, *tables: str) -> engine.Engine:
    """The run's engine (:func:`crmlib.engine.current`) holding the named stage tables of ``directory``."""
    run = engine.current()
    for name in tables:
        run.table(name, io.engine_source(directory, name))
    return run


def _read_panel(params, run: engine.Engine, check: bool = True) -> customer_base.PanelMonths:
    base = params.customer_base
    return customer_base.read_panel(run, base.panel, params.resolve(base.panel.path), check=check, tiers=base.tiers)


def clean(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 01: with a panel, read and check it; without one, check the tier basis (before cleaning) and read the
    loss flag of every customer the cleaning kept."""
    base = params.customer_base
    if base.panel is not None:
        run = _engine(directory)
        run.table("indicators", io.engine_source(directory, "clean_indicators"))
        return {"panel_summary": customer_base.panel_summary(run, _read_panel(params, run))}
    customers = io.read_table(directory, "clean_indicators", index="customer_id").index
    # read as the customer file was (the same rows left out), for the flag column and the raw tier basis
    read = io.read_measures(params.data, params.data_path, params.indicators, {"status": base.churn.column})
    basis = next(i for i in params.indicators if i.id == base.tiers.basis)
    customer_base.check_tier_basis(read.values[basis.id], file=params.data_path, column=basis.source_column,
                                   rows=read.rows)
    status = read.text.loc[customers, "status"]
    declared = base.churn.lost_values + base.churn.retained_values
    unknown = ~status.isin(declared)
    if unknown.any():
        customer = status.index[unknown.to_numpy()][0]
        raise InputError(f"'{status[customer]}' is neither a lost value nor a retained value (declared: "
                         f"{', '.join(map(repr, declared))}; values must match exactly, case included): correct the "
                         "cell, or add the value to customer_base.churn.lost_values or retained_values",
                         file=params.data_path, column=base.churn.column, row=int(read.rows[customer]))
    return {"churn_flags": status.to_frame().assign(lost=status.isin(base.churn.lost_values).astype(int))}


def build_indicators(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 02: each customer's tier, loss, assets lost, duration and life-cycle stage; with a panel, the monthly
    flows per tier and the tier migration."""
    base = params.customer_base
    run = _engine(directory)
    run.table("indicators", io.engine_source(directory, "clean_indicators"))
    tables = {}
    if base.panel is not None:
        months = _read_panel(params, run, check=False)  # stage 01 checked it
        customer_base.panel_customer_table(run, months, base.tiers, base.panel, base.lifecycle,
                                           base.panel.tenure_indicator)
        tables["monthly_flows"] = customer_base.monthly_flows(run, months, base.tiers)
        tables["tier_migration"] = customer_base.tier_migration(run, months, base.tiers,
                                                                *(base.panel.migration or (None, None)),
                                                                base.panel.unit)
    else:
        run.table("churn_flags", io.read_table(directory, "churn_flags"))
        customer_base.flag_customer_table(run, base.tiers, base.tier_basis_unit(params.indicators),
                                          base.churn.lost_assets, base.churn.duration, base.lifecycle)
    derived = [c for c in base.derived_columns() if c != "tier"]
    summary = indicators.descriptive_statistics(run, "customer_base", derived).rename(columns={"indicator": "column"})
    return {"customer_base": customer_base.customer_table(run), "customer_base_descriptives": summary} | tables


def factor_analysis(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 03: logistic regression and gradient boosting of the loss flag, cross-validated, on the customers
    the engine draws (:func:`crmlib.churn.model_sample`)."""
    from ... import churn  # statsmodels and scikit-learn: imported by the cases that use them
    settings = params.customer_base.churn_model
    sample = churn.model_sample(_engine(directory, "customer_base"), settings)
    features, lost = sample[settings.features], sample["lost"]
    result = churn.cross_validate(features, lost, settings)
    return {"churn_logistic": churn.logistic_drivers(features, lost),
            "churn_discrimination": churn.discrimination(result.predictions),
            "churn_calibration": churn.calibration_table(result.predictions, settings.calibration_bins),
            "churn_importance": result.importances,
            "churn_predictions": result.predictions}


def segment(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 04: tiers and concentration, attrition and retention per tier, life cycle, customers at risk."""
    from ... import churn, survival  # statsmodels, scikit-learn and lifelines: imported by the cases that use them
    base = params.customer_base
    run = _engine(directory, "customer_base")
    measures = base.concentration.measures
    for measure in measures:
        concentration.check_non_negative(run, measure, file=params.data_path)
    tier_ids = [t.id for t in base.tiers.levels]
    curves = survival.kaplan_meier(survival.survival_counts(run), tier_ids)
    computed = {m: concentration.engine_concentration(run, m, base.concentration.top_percent) for m in measures}
    lorenz = pd.concat([curve.assign(measure=m) for m, (_, curve) in computed.items()],
                       ignore_index=True)[["measure", "customer_share", "value_share"]]
    assets = "aum_start" if base.panel is not None else base.churn.lost_assets
    risk = io.read_table(directory, "churn_predictions", index="customer_id")[base.churn_model.risk_model]
    salt_key = "customer_base.pseudonym_salt"
    salt = privacy.pseudonym_salt(base.pseudonym_salt, file=params.source_file, key=salt_key)
    return {
        "tier_profile": customer_base.tier_profile(run, base.tiers, measures),
        "concentration": concentration.concentration_statistics(
            run, measures, base.concentration.top_percent, base.concentration.bootstrap,
            {m: estimate for m, (estimate, _) in computed.items()}),
        "lorenz_curve": lorenz,
        "attrition_by_tier": customer_base.attrition_by_tier(run, base.tiers, assets),
        "retention_curves": curves,
        "retention": survival.retention_at(curves, base.retention_months),
        "lifecycle_profile": customer_base.lifecycle_profile(run, base.lifecycle, base.tiers),
        "top_risk": churn.top_risk(run, risk, base.tiers.focus, base.churn_model.top_risk, salt),
        "pseudonym_key": pd.DataFrame({"salt_source": [privacy.salt_source(salt_key)],
                                       "method": [privacy.PSEUDONYM_METHOD]}),
    }


def strategies(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: strategies per tier (with its losses) and per life-cycle stage (with its customers per tier)."""
    base = params.customer_base
    return {"tier_strategy": strategy.tier_strategy_table(base.tiers, io.read_table(directory, "attrition_by_tier")),
            "lifecycle_strategy": strategy.lifecycle_strategy_table(base.lifecycle,
                                                                    io.read_table(directory, "lifecycle_profile"))}

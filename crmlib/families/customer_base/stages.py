"""Stages of the customer-base family: the loss flags or the monthly panel (01), each customer's tier, loss and
life-cycle stage with monthly flows and tier migration (02), churn-driver models (03), tiers, concentration,
attrition, retention, life cycle and customers at risk (04), strategies per tier and life-cycle stage (05)."""
from __future__ import annotations

import pandas as pd

from ... import concentration, customer_base, io, privacy, strategy
from ...errors import InputError


def _read_panel(params, customers: pd.Index) -> customer_base.PanelData:
    panel = params.customer_base.panel
    return customer_base.read_panel(panel, params.resolve(panel.path), customers)


def clean(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 01: with a panel, read and check it; without one, check the tier basis (before cleaning) and read the
    loss flag of every customer the cleaning kept."""
    base = params.customer_base
    customers = io.read_table(directory, "clean_indicators", index="customer_id").index
    if base.panel is not None:
        return {"panel_summary": customer_base.panel_summary(_read_panel(params, customers))}
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
    data = io.read_table(directory, "clean_indicators", index="customer_id")
    tables = {}
    if base.panel is not None:
        panel = _read_panel(params, data.index)
        tenure = data[base.panel.tenure_indicator] if base.panel.tenure_indicator is not None else None
        customers = data.join(customer_base.panel_customer_table(panel, base.tiers, base.panel, tenure))
        migration = base.panel.migration or (None, None)
        tables["monthly_flows"] = customer_base.monthly_flows(panel, customers, base.tiers)
        tables["tier_migration"] = customer_base.tier_migration(panel, base.tiers, *migration, base.panel.unit)
    else:
        lost = io.read_table(directory, "churn_flags", index="customer_id")["lost"].loc[data.index]
        tiers = customer_base.assign_tiers(data[base.tiers.basis], base.tiers, base.tier_basis_unit(params.indicators))
        customers = data.assign(tier=tiers, lost=lost,
                                assets_lost=data[base.churn.lost_assets].where(lost == 1, 0.0),
                                duration=data[base.churn.duration])
    customers["lifecycle"] = customer_base.lifecycle_stage(customers, base.lifecycle)
    return {"customer_base": customers} | tables


def factor_analysis(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 03: logistic regression and gradient boosting of the loss flag, cross-validated."""
    from ... import churn  # statsmodels and scikit-learn: imported by the cases that use them
    settings = params.customer_base.churn_model
    customers = io.read_table(directory, "customer_base", index="customer_id")
    sample = churn.model_sample(customers.index, settings)
    features, lost = customers.loc[sample, settings.features], customers.loc[sample, "lost"]
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
    customers = io.read_table(directory, "customer_base", index="customer_id")
    measures = base.concentration.measures
    for measure in measures:
        concentration.check_non_negative(customers[measure], file=params.data_path)
    tier_ids = [t.id for t in base.tiers.levels]
    curves = survival.kaplan_meier(customers, tier_ids)
    lorenz = pd.concat([concentration.lorenz_curve(customers[m]).assign(measure=m) for m in measures],
                       ignore_index=True)[["measure", "customer_share", "value_share"]]
    assets = "aum_start" if base.panel is not None else base.churn.lost_assets
    risk = io.read_table(directory, "churn_predictions", index="customer_id")[base.churn_model.risk_model]
    salt_key = "customer_base.pseudonym_salt"
    salt = privacy.pseudonym_salt(base.pseudonym_salt, file=params.source_file, key=salt_key)
    return {
        "tier_profile": customer_base.tier_profile(customers, base.tiers, measures),
        "concentration": concentration.concentration_statistics(customers, measures, base.concentration.top_percent,
                                                                base.concentration.bootstrap),
        "lorenz_curve": lorenz,
        "attrition_by_tier": customer_base.attrition_by_tier(customers, base.tiers, assets),
        "retention_curves": curves,
        "retention": survival.retention_at(curves, base.retention_months),
        "lifecycle_profile": customer_base.lifecycle_profile(customers, base.lifecycle, base.tiers),
        "top_risk": churn.top_risk(customers, risk, base.tiers.focus, base.churn_model.top_risk, salt),
        "pseudonym_key": pd.DataFrame({"salt_source": [privacy.salt_source(salt_key)],
                                       "method": [privacy.PSEUDONYM_METHOD]}),
    }


def strategies(params, directory) -> dict[str, pd.DataFrame]:
    """Stage 05: strategies per tier (with its losses) and per life-cycle stage (with its customers per tier)."""
    base = params.customer_base
    return {"tier_strategy": strategy.tier_strategy_table(base.tiers, io.read_table(directory, "attrition_by_tier")),
            "lifecycle_strategy": strategy.lifecycle_strategy_table(base.lifecycle,
                                                                    io.read_table(directory, "lifecycle_profile"))}

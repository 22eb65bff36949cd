"""What the customer-base sections and report show beyond plain tables: the derived columns, the migration matrix,
and the figures."""
from __future__ import annotations

import pandas as pd

from ... import figures, io
from ...labels import Language, named_labels


def migration_matrix(tables: dict, value: str = "customers") -> pd.DataFrame:
    """The tier migration matrix (rows: tier at the first date; columns: tier at the second), as ``customers``
    (counts) or ``row_share``."""
    migration = tables["tier_migration"]
    matrix = migration.pivot(index="from_tier", columns="to_tier", values=value)
    matrix = matrix.loc[migration["from_tier"].unique(), migration["to_tier"].unique()]
    first, second = migration["from_month"].iloc[0], migration["to_month"].iloc[0]
    matrix.index.name = f"tier in {first}"
    matrix.columns.name = f"tier in {second}"
    return matrix


def tier_bar_chart(tables: dict, params, lang: Language = "en"):
    """Customers per tier, highest tier first, in the rank colours."""
    return figures.segment_bar_chart(tables["tier_profile"].iloc[::-1], "tier", named_labels(params, lang), lang,
                                     share_column="customer_share")


def lorenz_plot(tables: dict, params, lang: Language = "en"):
    """Lorenz curves of the concentration measures, with the diagonal of equal shares and the Gini in the legend."""
    stats = tables["concentration"]
    gini = stats[stats["statistic"] == "gini"].set_index("measure")["estimate"]
    return figures.lorenz_plot(tables["lorenz_curve"], gini, named_labels(params, lang), lang)


def retention_plot(tables: dict, params, lang: Language = "en"):
    """Kaplan-Meier retention curves by tier (step functions), all customers dashed."""
    order = [t.id for t in reversed(params.customer_base.tiers.levels)]
    return figures.retention_plot(tables["retention_curves"], order, named_labels(params, lang), lang)


def check_summary(params, directory) -> list[str]:
    """``crmlib check``'s lines on the tiers and losses (stage tables in ``directory``)."""
    tiers = io.read_table(directory, "attrition_by_tier")
    return ["tiers (customers, lost): " + ", ".join(f"{row.tier} {row.customers}, {row.lost}"
                                                    for row in tiers.itertuples())]

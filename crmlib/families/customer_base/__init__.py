"""Customer base (A branch; BankChurners): tiers by assets (Jinkuihua), the 20/80 rule, lost customers and assets,
retention, life cycle, churn drivers, customers at risk, and a strategy per tier and life-cycle stage."""
from .. import Family, Figure
from .params import CustomerBase
from .tables import TABLES

FAMILY = Family(
    package=__name__,
    title_en="Customer base, tiers and churn",
    title_zh="客户分层与流失",
    key="customer_base",
    model=CustomerBase,
    tables=TABLES,
    engine_path="engine",
    reads={"01_clean": ("data", "indicators", "customer_base.panel", "customer_base.churn", "customer_base.tiers"),
           "02_indicators": ("customer_base.panel", "customer_base.churn", "customer_base.tiers",
                             "customer_base.lifecycle"),
           "03_factor_analysis": ("customer_base.churn_model",),
           "04_segmentation": ("customer_base",),
           "05_strategy": ("customer_base.tiers", "customer_base.lifecycle")},
    conditions={"panel": lambda params: params.customer_base.panel is not None,
                "no_panel": lambda params: params.customer_base.panel is None},
    figures=(Figure("tier_sizes", "04_segmentation", "Customers per tier", "各层级的客户数", "tier_bar_chart"),
             Figure("lorenz", "04_segmentation", "Lorenz curves", "洛伦兹曲线", "lorenz_plot"),
             Figure("retention", "04_segmentation", "Retention (Kaplan-Meier)", "客户保留率（Kaplan-Meier）",
                    "retention_plot")),
)

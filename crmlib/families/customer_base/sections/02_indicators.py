# %% [markdown]
# ### Customer base: tiers, losses and life cycle per customer
#
# Each customer gets a **tier** by its assets (params `customer_base.tiers`; bounds are `[lower, upper)`, so
# exactly 500,000 yuan is Jinkuihua), a **loss flag** and a **life-cycle stage**. With a monthly panel: the tier is
# the one held in the customer's first month; the customer is **lost** when it closes, or when its AUM falls below
# that tier's floor and stays there for `months_below` months (or until it closes); the loss month is the first
# month below the floor and the **assets lost** are the AUM of the month before it. `duration` is the months from
# the first month to the loss (or to the end of the window), `aum_trend` the mean AUM of the last `trend_months`
# months over the mean of the months before, minus 1. Without a panel, the loss flag, the assets lost and the
# duration come from the columns the params name.
#
# Distribution of these columns over the customers, computed by the run's engine (exact sums and quantiles, as the
# indicators' descriptive statistics); each customer's row stays in the stage table `customer_base`:

# %%
from crmlib.families.customer_base import display as customer_base

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "customer_base_descriptives")

# %% [markdown] when="panel"
# **Lost customers and assets per start tier and month**: customers at the start of the month, new and lost
# customers, assets lost, loss rate, net flow of customers, AUM of active customers and its change.

# %% when="panel"
# NBVAL_CHECK_OUTPUT
report.table(tables, "monthly_flows")

# %% [markdown] when="panel"
# **Tier migration** between two months: counts, then shares of each starting tier. `new`: opened after the first
# date; `closed`: closed by the second.

# %% when="panel"
# NBVAL_CHECK_OUTPUT
customer_base.migration_matrix(tables)

# %% when="panel"
# NBVAL_CHECK_OUTPUT
customer_base.migration_matrix(tables, "row_share")

# %% [markdown]
# ### Customer base: tiers and the 20/80 rule
#
# **Tiers**: size, share of customers and share of each concentration measure, highest tier first in the chart.

# %%
from crmlib.families.customer_base import display as customer_base

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "tier_profile")

# %%
customer_base.tier_bar_chart(tables, params)

# %% [markdown]
# **Concentration**: the Gini coefficient and the share held by the top x% of customers, each with a seeded
# percentile-bootstrap interval (`bootstrap_customers` says how many customers were resampled).

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "concentration")

# %%
customer_base.lorenz_plot(tables, params)

# %% [markdown]
# ### Customer base: lost customers and lost assets
#
# **Per tier** over the whole window (tier = start tier), with a total row:

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "attrition_by_tier")

# %% [markdown]
# **Retention** (Kaplan-Meier): the share of each tier not yet lost after a number of months.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "retention")

# %%
customer_base.retention_plot(tables, params)

# %% [markdown]
# ### Customer base: life cycle and customers at risk
#
# **Life-cycle stages** by tier (rules in `customer_base.lifecycle`, first match wins):

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "lifecycle_profile")

# %% [markdown]
# **Customers at highest churn risk in the focus tier** (still active; risk = the out-of-fold probability of the
# model named in `risk_model`). Ids are keyed-hash pseudonyms (HMAC-SHA256), never the bank's customer ids.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "top_risk")

# %%
report.table(tables, "pseudonym_key")  # where the salt came from: not compared, it depends on the environment

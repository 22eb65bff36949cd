# %% [markdown]
# ### Customer value model
#
# Each value dimension (e.g. current and potential value) is a weighted sum of its normalized indicators, with
# weights by the entropy method, AHP, factor analysis or fixed values (params `value_matrix.model`); each customer
# gets its value and percentile rank per dimension.
#
# **Indicator weights** per value dimension. Entropy weights: an indicator whose values differ more across
# customers (lower entropy e_j, higher divergence d_j = 1 - e_j) weighs more. AHP weights: the principal
# eigenvector of the pairwise comparison matrix in the params. Factor weights: the value is the composite factor
# score of the group, and the weight shown is each indicator's implied score weight.

# %%
from crmlib.families.value_matrix import display as value_matrix

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "value_weights", params)

# %% when="factor"
# NBVAL_CHECK_OUTPUT
value_matrix.factor_method(params)

# %% [markdown] when="ahp"
# **AHP consistency**: lambda_max, CI = (lambda_max - n)/(n - 1), Saaty's random index RI, and CR = CI/RI (the
# run stops at CR >= 0.10).

# %% when="ahp"
# NBVAL_CHECK_OUTPUT
report.table(tables, "ahp_consistency")

# %% [markdown]
# **Customer values**: distribution of each value dimension over the customers.

# %%
# NBVAL_CHECK_OUTPUT
value_matrix.value_summary(tables, params)

# %% [markdown]
# ### Customer file: the index system
#
# The cleaned indicators are described in their own units; *cost* indicators (smaller is better for the bank,
# e.g. days overdue) are turned into benefit direction by multiplying them by -1, and every indicator is
# standardized to z-scores, so that indicators measured in 万元, years and rating points are comparable. The
# standard deviation uses the `ddof` of the params (1: the sample standard deviation, as SPSS and R's `scale`).
#
# **The index system** by dimension and direction:

# %%
# NBVAL_CHECK_OUTPUT
report.index_system(params)

# %% [markdown]
# **Descriptive statistics** of the cleaned indicators (own units, before standardizing). Large positive skewness
# is typical of balances and volumes.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "descriptives")

# %% [markdown]
# ### Indicator ranges
#
# The indicators whose z-scores spread widest (params `toy.widest`):

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "indicator_ranges", params)

# %% [markdown]
# ### Strategies per customer tier

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "tier_strategy")

# %% [markdown]
# ### Strategies per life-cycle stage (customers per tier and stage)

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "lifecycle_strategy")

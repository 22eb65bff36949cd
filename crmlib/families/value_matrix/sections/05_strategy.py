# %% [markdown]
# ### Strategies per value class

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "class_strategy")

# %% [markdown] when="relationship_stages"
# ### Strategies per relationship stage (customers per class and stage)

# %% when="relationship_stages"
# NBVAL_CHECK_OUTPUT
report.table(tables, "stage_strategy")

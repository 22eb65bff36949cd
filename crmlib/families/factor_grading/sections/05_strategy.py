# %% [markdown]
# ### Problems and strategies per grade

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "strategy")

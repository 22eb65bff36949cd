# %% [markdown]
# ### Questionnaire: the items
#
# The items by dimension, with their wording, reverse keying and scale:

# %%
from crmlib.families.survey import display as survey

# %%
# NBVAL_CHECK_OUTPUT
survey.item_system(params)

# %% [markdown]
# **Item descriptives**: n, mean, sd, the share of answers at each scale point, and floor and ceiling shares
# (answers at the scale's ends, after reverse keying).

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "item_descriptives")

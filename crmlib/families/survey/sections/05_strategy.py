# %% [markdown]
# ### Questionnaire: the problem table
#
# Problems in rank order with their evidence (mean score, confidence interval, share who disagree), cause category
# and countermeasures.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "problem_table")

# %% [markdown] when="interviews"
# **Coded interviews**: how often each theme was raised and by how many interviewees, linked to the problem
# dimensions.

# %% when="interviews"
# NBVAL_CHECK_OUTPUT
report.table(tables, "interview_themes")

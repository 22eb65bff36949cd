# %% [markdown]
# ### Questionnaire: problem ranking
#
# Each respondent's dimension score is the mean of the dimension's items. Dimensions are ranked from the lowest
# mean (rank 1: the most serious problem), with a t-based confidence interval and the share of respondents whose
# score is at most the params' disagreement limit.

# %%
from crmlib.families.survey import display as survey

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "problem_ranking")

# %%
survey.problem_ranking_plot(tables, params)

# %% [markdown] when="comparison"
# **Comparison between respondent groups** (attribute and test from the params: Welch t-test or one-way ANOVA, or
# Mann-Whitney U or Kruskal-Wallis), with an effect size.

# %% when="comparison"
# NBVAL_CHECK_OUTPUT
report.table(tables, "group_comparison")

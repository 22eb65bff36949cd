# %% [markdown]
# ### Questionnaire: the answers
#
# The response file (params `survey.data`: one row per respondent, one column per item) is read and every answer
# is checked against its item's scale (an error, or set to missing and counted, as the params say); respondents who
# give one identical answer to every item (straight-lining) are flagged or dropped; reverse-keyed items are scored
# min + max - answer; missing answers are handled by the stated policy. The cleaned answers go to `responses.csv`.

# Rows that are not respondents (blank rows, a repeated header, total or average rows) are left out and listed in
# `survey_dropped_rows.csv`.

# %%
# NBVAL_CHECK_OUTPUT
from crmlib.families.survey import display as survey
display(Markdown(survey.cleaning_rules(params)))
display(Markdown(report.dropped_rows(tables["survey_dropped_rows"], "respondents")))

# %% [markdown]
# **Cleaning log** per item: missing and out-of-scale answers, and reverse keying.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "survey_cleaning_log")

# %% [markdown]
# **Respondents**: how many came in, were flagged for straight-lining, were dropped, and remain.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "respondents")

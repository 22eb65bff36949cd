# %% [markdown]
# ### Grades
#
# Grades come from the composite score (params `factor_grading.grading`): by its quantiles (a fixed share of
# customers per grade) or by score cut-offs. Grades are half-open intervals: a customer exactly on a bound gets the
# better grade. The run's engine computes them: quantiles exactly (linear interpolation, R's type 7), ranks with ties
# sharing the best rank, means from exact decimal sums. Each customer's grade is in `customer_grades.csv`; this
# report shows aggregates only.
#
# **Grade bounds** on the composite score:

# %%
from crmlib.families.factor_grading import display as factor_grading

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "grade_thresholds")

# %% [markdown]
# **Grade profile**: size, share and composite score range, best grade first, in the rank colours shared by every
# case.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "grade_profile")

# %% when="pairwise"
# NBVAL_CHECK_OUTPUT
# customers without a score (a missing indicator, factor_analysis.impute: none) have no grade
factor_grading.coverage(report.read_tables(tables_dir, ["score_coverage"]))

# %%
factor_grading.grade_bar_chart(tables, params)

# %% [markdown]
# **Indicator means per grade**, each in its own unit:

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "grade_indicator_means", params)

# %% [markdown]
# **Biplot**: each customer's scores on the first two factors, coloured by grade, with the indicators' rotated
# loadings as arrows.

# %%
# the biplot draws stage 03's scores and loadings with the grades
factor_grading.biplot(report.read_tables(tables_dir, ["factor_scores", "loadings_rotated", "customer_grades"]),
                      params)

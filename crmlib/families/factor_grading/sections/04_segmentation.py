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
# loadings as arrows. Above 20,000 customers the engine draws every k-th customer in id order (the title says so).

# %%
# the customers drawn, with stage 03's loadings
factor_grading.biplot(tables | report.read_tables(tables_dir, ["loadings_rotated"]), params)

# %% [markdown] when="robustness"
# ### How much this grading depends on the choices
#
# Every grading rests on conventions that textbooks, SPSS, psych and the theses choose differently. Each is varied
# here one at a time from the case's own settings (params `factor_grading.robustness`): the missing-value policy
# (when the data have missing values), winsorizing, the extraction, the rotation, the rule for the number of factors
# and the composite's weights. For each alternative the whole chain runs again in memory (the pipeline's functions:
# cleaning, z-scores, correlations, factors, scores, composite, grades by the same quantile bounds) and is compared
# with the case's own grades: the share of customers whose grade changes and the Spearman rank correlation of the
# composite scores (the transitions per alternative are in the workbook). The `baseline` row is the case's own
# settings run the same way: it must change nobody's grade. An alternative that cannot be fitted (a Heywood case) says
# why. A seeded bootstrap then refits the factors and the grade bounds on samples of the customers drawn with
# replacement, aligns each sample's factors to the full sample's by Tucker congruence, and grades every customer by
# it: the share of samples in which each keeps the grade (per customer in the workbook, pseudonymized).

# %% when="robustness"
# NBVAL_CHECK_OUTPUT
display(Markdown(factor_grading.robustness_text(tables, params)))
report.table(tables, "grading_robustness")

# %% when="stability"
# NBVAL_CHECK_OUTPUT
report.table(tables, "grade_stability_summary")

# %% when="robustness"
factor_grading.robustness_plot(tables, params)

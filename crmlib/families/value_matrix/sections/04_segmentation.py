# %% [markdown]
# ### Customer value matrix
#
# Each value axis is split into high and low at a threshold (mean, median, a quantile or a fixed value; ties count
# as high), and the four quadrants are the classes named in the params (e.g. platinum, gold, iron, lead). Each
# customer's class is in `customer_classes.csv`; this report shows aggregates only.
#
# **Axis thresholds**:

# %%
from crmlib.families.value_matrix import display as value_matrix

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "value_thresholds")

# %% [markdown]
# **Classes**: size, share of customers, share of the total x-axis value (on the non-negative scale named by
# `value_share_basis`) and mean values, best class first, in the rank colours shared by every case.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "class_summary")

# %%
value_matrix.class_bar_chart(tables, params)

# %% [markdown]
# **Indicator means per class**, each in its own unit:

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "class_indicator_means", params)

# %% [markdown]
# **Middle level**: the share of customers whose value, min-max scaled to [0, 1], lies in the middle band of the
# params (a check of findings such as "a considerable part of customers is at the middle level").

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "middle_band")

# %%
# the matrix draws stage 03's customer values with the classes
value_matrix.value_matrix_plot(tables | report.read_tables(tables_dir, ["customer_values"]), params)

# %% [markdown] when="robustness"
# ### How much this classification depends on the choices
#
# The classes rest on conventions that the theses and the tools choose differently. Each is varied here one at a
# time from the case's own settings (params `value_matrix.robustness`): the missing-value policy (when the data have
# missing values), winsorizing, the normalization, each dimension's weighting method (entropy, factor analysis, equal
# weights; AHP needs a comparison matrix, which only the case gives), each axis's threshold rule (mean or median)
# and, when a dimension is weighted by factor analysis, its extraction, rotation, factor-count rule and composite
# weights. An alternative the case's own checks refuse (z-scores with entropy weights) is left out. For each, the
# whole chain runs again in memory (the pipeline's functions: cleaning, normalization, weights, values, thresholds,
# classes) and is compared with the case's own classes: the share of customers whose class changes and the Spearman
# rank correlation of each axis's values (the transitions per alternative are in the workbook). The `baseline` row
# is the case's own settings run the same way: it must change nobody's class. A seeded bootstrap then refits
# everything on samples of the customers drawn with replacement (a factor-weighted dimension keeping the full
# sample's factors, aligned by Tucker congruence) and classifies the customers each sample drew: the share of those
# samples in which each keeps the class (per customer in the workbook, pseudonymized).

# %% when="robustness"
# NBVAL_CHECK_OUTPUT
display(Markdown(value_matrix.robustness_text(tables, params)))
report.table(tables, "class_robustness")

# %% when="stability"
# NBVAL_CHECK_OUTPUT
report.table(tables, "class_stability_summary")

# %% when="robustness"
value_matrix.robustness_plot(tables, params)

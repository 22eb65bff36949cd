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

# %% [markdown] when="transactions"
# ### Customer file: built from transactions
#
# The customer file is a transactions table (params `data.transactions`): one row per transaction. The run's
# engine builds one row per customer from the transactions before the observation end (`as_of`, exclusive;
# later ones are left out and counted): recency (days since the last purchase day), frequency (distinct purchase
# days), monetary value (sum of the amounts, exact), average amount per purchase day, tenure (days since the first
# purchase), amount trend (the last `trend_months` months against the ones before, missing for a shorter
# history) and, with a type column, the distinct products (`crmlib/transactions.py`). The case's indicators
# name the ones it uses; from here on they are cleaned like any customer file.

# %% when="transactions"
# NBVAL_CHECK_OUTPUT
report.table(tables, "transaction_summary")

# %% when="transactions"
# NBVAL_CHECK_OUTPUT
report.table(tables, "transaction_months")

# %% [markdown] when="matrix"
# ### A published correlation matrix
#
# The data are a correlation (or covariance) matrix as a study prints it, with the number of observations it was
# computed from (params `data.matrix`), not customers. It is read and checked (`crmlib.io.read_matrix`): an empty
# cell takes the value of its mirror across the diagonal (one triangle is enough), a covariance matrix is turned
# into correlations, and the matrix must be symmetric, within [-1, 1] with 1 on its diagonal, and positive
# definite. The factor analysis runs on it; with no customers there are no scores and no grades.

# %% when="matrix"
# NBVAL_CHECK_OUTPUT
report.table(tables, "matrix_log")

# %% [markdown] when="customers"
# ### Customer file
#
# The customer file (CSV or Excel; Chinese headers are mapped to indicator ids by the case's YAML; amounts with
# units such as 万元 and thousands separators are converted; or a warehouse's Parquet export, read by the engine)
# is cleaned by the run's engine in this order:
#
# 1. each indicator is *winsorized* at the quantiles given in the params, exact type-7 quantiles (clipping extreme
#    values such as amounts typed in the wrong unit, which would otherwise dominate correlations);
# 2. *missing values* are handled by the stated policy (listwise deletion, median / mean imputation, or pairwise
#    deletion: every observed value kept, each correlation from the customers who have both indicators);
# 3. the result is checked: no constant indicator, more customers than indicators.
#
# The cleaned indicators are written to `clean_indicators.csv` (`.parquet` above 100,000 customers).

# Rows that are not customers (blank rows, a repeated header, total, subtotal and average rows such as 合计 or
# 小计, or a row equal to the sum or mean of the others) are left out and listed in `dropped_rows.csv`.

# %% when="customers"
# NBVAL_CHECK_OUTPUT
from crmlib.families.customer_file import display as customer_file

display(Markdown(report.cleaning_rules(params)))
display(Markdown(customer_file.missing_text(tables, params)))
display(Markdown(report.dropped_rows(tables["dropped_rows"], "customers")))

# %% [markdown] when="customers"
# **Cleaning log.** Per indicator: missing cells, the value that replaced them, the winsorizing bounds (in the
# indicator's unit) and how many values were clipped at each end.

# %% when="customers"
# NBVAL_CHECK_OUTPUT
report.table(tables, "cleaning_log", params)

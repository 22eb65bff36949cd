# %% [markdown]
# ### Factor analysis and the composite score
#
# Factor analysis of the standardized indicators, as SPSS FACTOR and R's psych do it (every figure agrees with
# psych to 1e-6; see `tests/reference/`): adequacy (KMO above 0.6 is usually required; Bartlett's test),
# eigenvalues and the number of factors (Kaiser, fixed, or parallel analysis), extraction by principal
# components, minimum residual, principal axes or maximum likelihood and rotation (the first cell below says which), factor
# scores F_j (regression by default; the composite sentence names the method) and the composite score
# F = sum_j w_j F_j (params `factor_grading.factor_analysis`). The run's engine (DuckDB, or Spark with
# `--engine spark`) computes the correlation matrix from exact decimal sums of the z-scores rounded to 12 decimals
# (the same on every engine and every run, within 1e-9 of the in-memory Pearson correlation), then the scores; the
# eigen-decomposition and the rotation of the small matrix run in memory.
#
# **Sampling adequacy.** KMO per indicator (MSA) and overall, with Kaiser's (1974) word for each (marvelous from
# 0.9, meritorious 0.8, middling 0.7, mediocre 0.6, miserable 0.5, unacceptable below); Bartlett's test, with the
# natural log of its p value (the p value of a large sample is below the smallest double, about 5e-324, and is
# 0); the condition number of the correlation matrix (the run stops above the `max_condition_number` of the
# params).

# %%
from crmlib.families.factor_grading import display as factor_grading

# %%
# NBVAL_CHECK_OUTPUT
factor_grading.method(params)

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "kmo", params)

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "bartlett")

# %%
# NBVAL_CHECK_OUTPUT
factor_grading.likelihood_fit(tables, params)

# %% [markdown]
# **Eigenvalues and the number of factors.**

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "eigenvalues")

# %%
factor_grading.scree_plot(tables, params)

# %%
factor_grading.loadings_heatmap(tables, params)

# %% [markdown]
# **Total Variance Explained** (the SPSS table): initial eigenvalues, extraction and rotation sums of squared
# loadings, in percent of the total variance.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "total_variance_explained")

# %% [markdown]
# **Rotated component matrix** with communalities (the share of each indicator's variance the retained factors
# explain).

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "loadings_rotated", params)

# %% [markdown] when="oblique"
# **Oblique factors.** The loadings above are the pattern matrix P (each factor's unique contribution to an
# indicator); the structure matrix S = P Phi holds the indicators' correlations with the factors, and Phi the
# factors' correlations. Sums of squared loadings are psych's diag(Phi P'P), communalities diag(P Phi P').

# %% when="oblique"
# NBVAL_CHECK_OUTPUT
report.table(tables, "structure_matrix", params)

# %% when="oblique"
# NBVAL_CHECK_OUTPUT
report.table(tables, "oblique_factor_correlations")

# %%
# NBVAL_CHECK_OUTPUT
factor_grading.loading_intervals(tables, params)

# %% [markdown]
# **What the factors measure**: the indicators loading at least 0.5 on each factor, strongest first.

# %%
# NBVAL_CHECK_OUTPUT
factor_grading.factor_interpretation(tables, params)

# %% [markdown]
# **Factor names**: each factor is named after the two indicators whose largest loading is on it (cost indicators
# reversed), unless the params name it (`factor_grading.factor_names`).

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "factor_names")

# %% [markdown] when="pairwise"
# **Missing values, pairwise.** Each correlation above comes from the customers who have both indicators (their
# numbers per pair below); a customer with a missing indicator is scored as `factor_analysis.impute` says (psych's
# `factor.scores`): without a score and a grade (`none`), or from z-scores filled with the indicator's mean or
# median, standardized again.

# %% when="pairwise"
# NBVAL_CHECK_OUTPUT
report.table(tables, "indicator_pair_counts", params)

# %% when="pairwise"
# NBVAL_CHECK_OUTPUT
display(factor_grading.coverage(tables))
report.table(tables, "score_coverage")

# %% [markdown]
# **Component score coefficient matrix** W (SPSS's name): factor scores are F = Z W, with Z the z-scores.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "score_coefficients", params)

# %% [markdown]
# **Composite score.** The weights follow the convention in the params (`composite_weights`).

# %%
# NBVAL_CHECK_OUTPUT
display(factor_grading.composite_formula(tables, params))
report.table(tables, "composite_weights")

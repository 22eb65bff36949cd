# %% [markdown]
# ### Customer base: churn drivers
#
# Two models of the loss flag on the features in `customer_base.churn_model.features`. **Logistic regression**:
# unpenalized maximum likelihood (statsmodels) on standardized features, so each coefficient is the change in the
# log-odds of loss per standard deviation, with Wald 95% intervals and odds ratios; `rank` orders the features by
# the size of their effect.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "churn_logistic")

# %% [markdown]
# **How well the models separate lost from kept customers**, from stratified k-fold cross-validation (every
# customer is predicted by a model that did not see it): ROC AUC (pooled, and mean and SD over folds), PR AUC
# (against `lost_share`, the PR AUC of a random ranking) and the Brier score. `customers` is the number the models
# used (a seeded sample when `sample_size` is set).

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "churn_discrimination")

# %% [markdown]
# **Calibration**: customers in bins of equal size by predicted risk; a calibrated model has `mean_predicted`
# close to `observed_rate` in every bin.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "churn_calibration")

# %% [markdown]
# **Permutation importance** of the gradient-boosting model: the drop in held-out ROC AUC when one feature's
# values are shuffled (mean and SD over folds and repeats).

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "churn_importance")

# %% [markdown]
# ### Questionnaire: reliability and validity
#
# **Reliability** per dimension and of all items: Cronbach's alpha (raw, and standardized from correlations),
# Guttman's lambda 6, the average inter-item correlation, and McDonald's omega total from a one-factor minres
# solution of the dimension (0.7 is the usual floor for all three). Agrees with R psych `alpha()` and `fa()`.

# %%
from crmlib.families.survey import display as survey

# %%
# NBVAL_CHECK_OUTPUT
display(Markdown(survey.missing_text(report.read_tables(tables_dir, ["respondents"]), params)))

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "reliability")

# %% [markdown] when="dimensions"
# **Omega hierarchical** of the whole questionnaire (McDonald; psych `omega()`): a Schmid-Leiman solution with one
# group factor per designed dimension (minres, oblimin, the general factor from the factors' correlations; with two
# dimensions, psych's "equal" option) splits each item's common variance into a general and a group part.
# omega_h, the general factor's share of the total score's variance, says how far one score of all items measures
# one thing; omega total counts every common factor. An omega_h well below omega total means the dimensions are
# distinct and should be scored apart.

# %% when="dimensions"
# NBVAL_CHECK_OUTPUT
display(Markdown(survey.omega_text(tables)))
display(report.table(tables, "omega_hierarchical"))
report.table(tables, "omega_groups")

# %% [markdown]
# **Item-total statistics**: the corrected item-total correlation `r_drop` (item against the sum of the other
# items of its dimension) and alpha if the item is deleted; an item whose deletion raises alpha, or with a low
# `r_drop`, measures something else.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "item_total")

# %% [markdown]
# **Sampling adequacy of the items**: KMO per item and overall with Kaiser's (1974) word for each (marvelous from
# 0.9 down to unacceptable below 0.5), Bartlett's test with the natural log of its p value, and the eigenvalues
# with parallel analysis.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "survey_kmo")

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "survey_bartlett")

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "survey_eigenvalues")

# %%
survey.scree_plot(tables, params)

# %% [markdown]
# **Exploratory factor analysis** of all items (extraction and rotation from the params). Loadings below the
# params' `min_loading` are blanked here.

# %%
# NBVAL_CHECK_OUTPUT
survey.efa_loadings(tables, params)

# %%
survey.loadings_heatmap(tables, params)

# %% [markdown] when="pairwise"
# **Respondents per pair of items** (pairwise deletion): the n behind each correlation.

# %% when="pairwise"
# NBVAL_CHECK_OUTPUT
report.table(tables, "item_pair_counts")

# %% [markdown] when="oblique"
# **Factor correlations** of the oblique rotation:

# %% when="oblique"
# NBVAL_CHECK_OUTPUT
report.table(tables, "factor_correlations")

# %% [markdown]
# **Do items load on their declared dimension?** Each factor is attributed to the dimension most of its primary
# items belong to; `fits` is false for an item whose primary factor belongs to another dimension or whose primary
# loading is below `min_loading`.

# %%
# NBVAL_CHECK_OUTPUT
report.table(tables, "item_fit")

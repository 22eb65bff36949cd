# %% [markdown]
# ### Questionnaire: reliability and validity
#
# **Reliability** per dimension and of all items: Cronbach's alpha (raw, and standardized from correlations),
# Guttman's lambda 6, the average inter-item correlation, and McDonald's omega total from a one-factor minres
# solution of the dimension (0.7 is the usual floor for all three); for ordinal items, ordinal alpha, the alpha of
# their polychoric correlations (Zumbo et al. 2007). Agrees with R psych `alpha()`, `fa()` and `polychoric()`.

# %%
from crmlib.families.survey import display as survey

# %%
# NBVAL_CHECK_OUTPUT
display(Markdown(survey.missing_text(report.read_tables(tables_dir, ["respondents"]), params)))
display(Markdown(survey.level_text(tables, params)))

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

# %% [markdown] when="cfa"
# **Confirmatory factor analysis** of the dimensions as designed: each item loads on its own dimension only, the
# dimensions correlate, the residuals do not. Maximum likelihood with lavaan's conventions (semopy's fit): the
# covariance matrix divided by n, the first item of each dimension as its marker, standard errors from the expected
# information and, for the standardized loadings, by the delta method; respondents with a missing answer are left
# out (lavaan's listwise default). RMSEA has n in its denominator (lavaan), SRMR is Bentler's. The same figures come
# from R: `fit <- lavaan::cfa(model, data = x)`; `fitMeasures(fit)`; `standardizedSolution(fit)`.

# %% when="cfa"
# NBVAL_CHECK_OUTPUT
display(Markdown(survey.cfa_text(tables, params)))
display(report.table(tables, "cfa_fit"))
report.table(tables, "cfa_loadings")

# %% [markdown] when="constructs"
# **Construct validity** from the CFA's standardized loadings (Fornell and Larcker 1981): composite reliability
# $CR = (\sum\lambda)^2 / ((\sum\lambda)^2 + \sum(1-\lambda^2))$, at least 0.7, and the average variance
# extracted $AVE = \overline{\lambda^2}$, at least 0.5 (R: semTools `compRelSEM` and `AVE` with
# `obs.var = FALSE`, of the CFA of the standardized items). Discriminant validity: $\sqrt{AVE}$ above the dimension's
# correlations with the others (Fornell-Larcker), and the heterotrait-monotrait ratio of the item correlations
# below 0.85 (HTMT, Henseler et al. 2015; HTMT2 with geometric means, Roemer et al. 2021; semTools `htmt`).

# %% when="constructs"
# NBVAL_CHECK_OUTPUT
display(report.table(tables, "construct_validity"))
display(report.table(tables, "construct_correlations"))
report.table(tables, "htmt")

# %% [markdown] when="invariance"
# **Measurement invariance** across the groups compared in stage 04: the CFA fitted in every group at once with
# each parameter free (configural), then with the loadings equal across groups (metric). A chi-square difference
# that is not significant, or a CFI that drops by no more than 0.01 (Cheung and Rensvold 2002), lets the groups'
# dimension scores be compared. R: `cfa(model, data, group = g)` and `group.equal = "loadings"`, `lavTestLRT`.

# %% when="invariance"
# NBVAL_CHECK_OUTPUT
report.table(tables, "measurement_invariance")

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

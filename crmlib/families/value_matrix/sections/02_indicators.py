# %% [markdown]
# ### Customer value model: normalized indicators
#
# The value model weighs indicators measured in different units, so each is normalized as the params say
# (`value_matrix.model.normalization`): min-max to [0, 1] with cost indicators reversed, or z-scores. The
# normalized indicators are written to `normalized_indicators.csv`; their distribution:

# %%
# NBVAL_CHECK_OUTPUT
tables["normalized_indicators"].describe().T

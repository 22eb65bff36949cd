# %% [markdown] when="panel"
# ### Customer base: the monthly panel
#
# The monthly AUM panel (params `customer_base.panel`) is checked: every customer in the customer file,
# consecutive months per customer, no month twice, non-negative AUM. A customer whose rows stop before the last
# month closed in the month after its last row.

# %% when="panel"
# NBVAL_CHECK_OUTPUT
report.table(tables, "panel_summary")

# %% [markdown] when="no_panel"
# ### Customer base: the loss flag
#
# Without a panel, each customer's loss comes from the flag column the params name (`customer_base.churn`), and
# the tier basis is checked before cleaning: no missing, negative or infinite amount. Customers per flag value:

# %% when="no_panel"
# NBVAL_CHECK_OUTPUT
tables["churn_flags"].groupby(["status", "lost"]).size().rename("customers")

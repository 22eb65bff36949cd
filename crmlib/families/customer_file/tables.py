"""Tables of the customer file."""
from ...tables import Table

TABLES = (
    Table("clean_indicators", "01_clean", "Cleaned indicators", "清洗后的指标",
          {"customer_id": "customer id (the id column, or row<n> for data row n)",
           "<indicator>": "the indicator's cleaned value, in its own unit"}, shown="stage"),
    Table("cleaning_log", "01_clean", "Cleaning log per indicator", "各指标清洗记录",
          {"indicator": "indicator id", "n_converted": "cells converted to the indicator's unit (an amount unit "
           "in the cell, a percent-formatted Excel cell)", "n_missing": "missing cells", "fill_value": "value that replaced them "
           "(imputation), own unit", "lower_bound": "lower winsorizing bound, own unit",
           "upper_bound": "upper winsorizing bound, own unit", "n_clipped_low": "values raised to the lower bound",
           "n_clipped_high": "values lowered to the upper bound", "n_customers_in": "customers read",
           "n_customers_out": "customers kept"}),
    Table("dropped_rows", "01_clean", "Rows of the customer file that are not customers", "客户数据中不是客户的行",
          {"row": "file row", "reason": "blank row, repeated header row, total or subtotal row (合计, 小计, 总计, 平均, "
           "Total, ...), or a row equal to the sum or the mean of the others"}),
    Table("transaction_summary", "01_clean", "Transactions read", "读取的交易记录",
          {"rows": "transaction rows in the file", "rows_used": "rows before the observation end",
           "rows_after_end": "rows on or after the observation end, left out", "customers": "customers with a row "
           "used", "first_day, last_day": "first and last transaction date used", "as_of": "observation end "
           "(exclusive): the indicators are as of this date", "amount": "sum of the amounts used"}),
    Table("transaction_months", "01_clean", "Transactions per month", "各月交易情况",
          {"month": "calendar month (YYYY-MM)", "customers": "customers with a transaction in the month",
           "new_customers": "customers whose first transaction is in the month", "transactions": "transaction rows",
           "amount": "sum of the amounts"}, shown="workbook"),
    Table("input_correlations", "01_clean", "Correlation matrix as read", "读入的相关矩阵",
          {"indicator": "indicator id", "<indicator>": "the correlation (a covariance matrix turned into "
           "correlations; an empty cell filled from its mirror across the diagonal)"}, shown="workbook"),
    Table("matrix_log", "01_clean", "The published matrix", "已发表的矩阵",
          {"of": "what the file holds: correlation or covariance", "n_obs": "observations it was computed from "
           "(params data.matrix.n_obs)", "indicators": "indicators", "cells_from_mirror": "empty cells filled from "
           "their mirror across the diagonal", "smallest_eigenvalue": "smallest eigenvalue of the correlation "
           "matrix (positive: positive definite)"}),
    Table("descriptives", "02_indicators", "Descriptive statistics of the indicators (cleaned, own units)",
          "指标描述统计（清洗后，原单位）",
          {"indicator": "indicator id", "label_en": "English label", "label_zh": "Chinese label", "unit": "unit",
           "direction": "benefit or cost", "dimension": "dimension of the index system", "n": "customers",
           "mean": "mean, own unit", "sd": "standard deviation (ddof 1), own unit", "min": "minimum",
           "median": "median", "max": "maximum", "skewness": "adjusted Fisher-Pearson skewness"}),
    Table("standardized_indicators", "02_indicators", "Standardized indicators", "标准化指标",
          {"customer_id": "customer id", "<indicator>": "z-score in benefit direction (cost indicators times -1), "
           "sd with the params' ddof"}, shown="stage"),
)

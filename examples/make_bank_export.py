"""Write ``examples/bank_export.xlsx``: a small, messy workbook as a bank's system exports it, for the README's
walkthrough (``crmlib new-case`` -> ``crmlib check`` -> ``crmlib run``).

The customers are synthetic (the Shaoxing case's generator, 60 customers, seed 7); the mess is what real exports
carry: a notes sheet first, a title row and a units row above the header, units in the headers, amounts written as
text with thousands separators, a percent-formatted column, a blank row, a subtotal row per branch and a total row.
Run: ``python examples/make_bank_export.py``.
"""
from pathlib import Path

import openpyxl
import pandas as pd

from crmlib import load_params
from crmlib.synthetic import synthesize_customers

HERE = Path(__file__).resolve().parent


def main() -> None:
    params = load_params(HERE.parent / "params" / "shaoxing.yaml")
    customers = synthesize_customers(params, n_customers=60, seed=7).astype(str)
    customers.insert(1, "所属支行", ["城区支行"] * 30 + ["柯桥支行"] * 30)
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "说明"
    notes.append(["本表为示例：客户数据为合成数据（crmlib 绍兴案例的生成模型），不是任何银行的数据。"])
    sheet = workbook.create_sheet("客户指标")
    sheet.append(["某商业银行对公客户指标导出（2024年12月末）"])
    sheet.append(["金额单位：万元（另有注明者除外）"])
    sheet.append(list(customers.columns))
    ratio = list(customers.columns).index("资产负债率(%)")
    for branch, block in customers.groupby("所属支行", sort=False):
        for position, (_, row) in enumerate(block.iterrows()):
            cells = []
            for column, value in row.items():
                if column in ("客户编号", "所属支行") or value == "":
                    cells.append(value if value != "" else None)
                elif column == "日均存款余额(万元)":
                    cells.append(value)  # text with a thousands separator
                elif column == "资产负债率(%)":
                    cells.append(round(float(value) / 100, 4))  # a fraction, shown as a percentage
                else:
                    cells.append(float(value.replace(",", "")))
            sheet.append(cells)
            sheet.cell(sheet.max_row, ratio + 1).number_format = "0.0%"
            if position == 10 and branch == "城区支行":
                sheet.append([])
        sheet.append([None, f"{branch} 小计"])
    sheet.append(["合计"])
    workbook.save(HERE / "bank_export.xlsx")


if __name__ == "__main__":
    main()

"""The value analysis per customer and product.

Pure functions over pandas, like customers/analysis.py, whose `analyse()` they call:
no Django, no settings, no clock.

A history with a `product` column (str; "" where a value belongs to no product) is
analysed twice:

- over all products: `analyse()` itself sums a customer's rows of one period, whatever
  their product, so the overall type needs nothing from here;
- per customer and product (`analyse_products`): the rows of each product are analysed
  as a portfolio of their own, so that a customer's business in one product is compared
  with the other customers of that product (the typical customer, the pearls, the burrs
  are those of the product). Rows without a product count only in the overall type.

With `transactions` carrying a `product` column, each product's analysis gets the
transactions of that product (the repeat-buying forecast of its irregular buyers).
"""

from __future__ import annotations

import pandas as pd

from customers import analysis

PRODUCT = "product"


def has_products(frame: pd.DataFrame | None) -> bool:
    """Whether the frame has a product column with at least one product named."""
    return frame is not None and PRODUCT in frame and bool((frame[PRODUCT] != "").any())


def analyse_products(
    history: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon: int = 12,
    thresholds: analysis.Thresholds = analysis.Thresholds(),  # noqa: B008 - frozen
    transactions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`analyse()` per product: its output columns plus `product`, one row per customer
    and product that has business up to `as_of`, ordered by product, then customer;
    indexed by `customer_id` like `analyse()`. Empty (with the `product` column) when
    the history names no product."""
    empty = pd.DataFrame({PRODUCT: pd.Series(dtype="str")}, index=_empty_index())
    if not has_products(history):
        return empty
    named = (history[PRODUCT] != "") & (
        pd.to_datetime(history[analysis.PERIOD]) <= pd.Timestamp(as_of)
    )
    columns = [c for c in analysis.HISTORY_COLUMNS if c in history]
    history = history.loc[named, [*columns, PRODUCT]]
    by_product = _product_transactions(transactions)
    results = []
    for product, part in history.groupby(PRODUCT, sort=True, observed=True):
        result = analysis.analyse(
            part[columns],
            as_of=as_of,
            horizon=horizon,
            thresholds=thresholds,
            transactions=by_product.get(product),
        )
        results.append(result.assign(**{PRODUCT: str(product)}))
    return pd.concat(results) if results else empty


def output_frame(overall: pd.DataFrame, per_product: pd.DataFrame | None) -> pd.DataFrame:
    """The CLI's result: the overall rows as `analysis.to_output_frame` gives them; with
    products, a `product` column after `customer_id` ("" on the overall rows) and the rows
    per customer and product after the overall ones."""
    out = analysis.to_output_frame(overall)
    if per_product is None or per_product.empty:
        return out
    product_rows = analysis.to_output_frame(per_product.drop(columns=[PRODUCT]))
    product_rows.insert(1, PRODUCT, per_product[PRODUCT].to_numpy())
    out.insert(1, PRODUCT, "")
    return pd.concat([out, product_rows], ignore_index=True)


def _product_transactions(transactions: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    if not has_products(transactions):
        return {}
    columns = [c for c in analysis.TRANSACTION_COLUMNS if c in transactions]
    named = transactions.loc[transactions[PRODUCT] != "", [*columns, PRODUCT]]
    return {
        str(product): part[columns]
        for product, part in named.groupby(PRODUCT, sort=False, observed=True)
    }


def _empty_index() -> pd.Index:
    return pd.Index([], dtype="str", name=analysis.CUSTOMER_ID)

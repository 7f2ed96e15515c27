"""The value analysis per customer and product.

Pure functions over pandas, like customers/analysis.py, whose `analyse()` they call:
no Django, no settings, no clock.

A history with a `product` column (str; "" where a value belongs to no product) is
analysed twice:

- over all products: `analyse()` itself sums a customer's rows of one period, whatever
  their product, so the overall type needs nothing from here;
- per customer and product (`analyse_products`): each customer's business in one
  product is a history of its own, and all these customer-product histories are
  analysed together in one call of `analyse()`, as one portfolio: the typical customer
  (for the burrs and the relative value) and the pearls' ranking are those of the
  customer-product histories of all products. One call, not one per product, because
  the repeat-buying models are fitted once per call (seconds each on histories this
  irregular) and an article-group column can name dozens of products. Rows without a
  product count only in the overall type.

With `transactions` carrying a `product` column, the repeat-buying forecast of an
irregular customer-product history uses the transactions of that product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customers import analysis

PRODUCT = "product"
# Joins customer and product into the id of a customer-product history inside
# `analyse_products`; a control character, which the reader takes out of every id.
_JOIN = "\x1f"


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
    if not named.any():
        return empty
    if not named.all():  # a copy of 6 million rows is some 400 MB: only when needed
        history = history.loc[named]
    # One id per customer and product, as a categorical (analyse() reads its codes).
    customer_codes, customers = pd.factorize(history[analysis.CUSTOMER_ID])
    product_codes, names = pd.factorize(history[PRODUCT])
    pair_codes, pairs = pd.factorize(
        customer_codes.astype(np.int64) * len(names) + product_codes, sort=True
    )
    pair_customer = pd.Index(customers).astype(str)[pairs // len(names)]
    pair_product = pd.Index(names).astype(str)[pairs % len(names)]
    labels = pair_customer + _JOIN + pair_product
    frame = pd.DataFrame(
        {
            analysis.CUSTOMER_ID: pd.Categorical.from_codes(pair_codes, categories=labels),
            **{c: history[c].to_numpy() for c in analysis.HISTORY_COLUMNS[1:] if c in history},
        },
        copy=False,  # the history's columns as they are: 6 million rows make each count
    )
    del customer_codes, product_codes, pair_codes, named
    result = analysis.analyse(
        frame,
        as_of=as_of,
        horizon=horizon,
        thresholds=thresholds,
        transactions=_product_transactions(transactions),
    )
    position = labels.get_indexer(result.index.astype(str))
    result.index = pd.Index(pair_customer[position], name=analysis.CUSTOMER_ID)
    result[PRODUCT] = pair_product[position]
    return result.rename_axis(analysis.CUSTOMER_ID).sort_values(
        [PRODUCT, analysis.CUSTOMER_ID], kind="stable"
    )


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


def _product_transactions(transactions: pd.DataFrame | None) -> pd.DataFrame | None:
    """The transactions that name a product, their customer ids those of the
    customer-product histories."""
    if not has_products(transactions):
        return None
    named = transactions.loc[transactions[PRODUCT] != ""]
    columns = [c for c in analysis.TRANSACTION_COLUMNS if c in named and c != analysis.CUSTOMER_ID]
    ids = named[analysis.CUSTOMER_ID].astype(str) + _JOIN + named[PRODUCT].astype(str)
    return pd.DataFrame(
        {analysis.CUSTOMER_ID: ids.to_numpy(), **{c: named[c].to_numpy() for c in columns}}
    )


def _empty_index() -> pd.Index:
    return pd.Index([], dtype="str", name=analysis.CUSTOMER_ID)

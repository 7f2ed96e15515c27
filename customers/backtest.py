"""How good the forecast is on the portfolio's own data: a backtest.

Pure functions over pandas/numpy, like customers/analysis.py (no Django, no settings).

The last `horizon` periods up to `as_of` are held out: the customers are analysed as of
the period before them (the cut), exactly as an analysis run would have analysed them
then, and each customer's forecast over the horizon is compared with the value it
really brought in the held-out periods. The yardstick is the naive forecast: each
customer repeats its last 12 periods before the cut (future value = current value,
scaled to the horizon). docs/method.md ("How good is the forecast?") says how to read
the figures.

- A customer is judged when it had at least `min_history` periods since its first
  business at the cut (a full current window for the naive forecast); the others, and
  the customers whose first row lies in the held-out periods, are left out and counted.
- The value in the held-out periods follows the analysis's value rule with the basis
  and margin ratio the customer had at the cut: contribution margin (a month without a
  margin: revenue x the margin ratio), or revenue for a customer valued by revenue.
- Per value type: the type the customer had at the cut.
- Calibration: the judged customers in ten groups of (nearly) equal size by their
  forecast, the mean forecast against the mean actual value per group.
- Activity (irregular customers, forecast by the repeat-buying models): analyse()
  gives no probability of still buying, so it is taken from the BG/BB model on the
  months (customers/bgnbd.py), fitted on these customers at the cut: the probability of
  at least one period with business in the held-out periods. Per band of that
  probability, its mean against the share of the customers that did have business then.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from customers import bgnbd
from customers.analysis import (
    CURRENT_PERIODS,
    CUSTOMER_ID,
    DATE,
    MARGIN,
    MARGIN_BASIS,
    PERIOD,
    REVENUE,
    VALUE_BASIS,
    VALUE_TYPES,
    Thresholds,
    analyse,
)

CALIBRATION_GROUPS = 10
ACTIVITY_BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
REPEAT_BUYING = "repeat_buying"


def _months(values: pd.Series) -> np.ndarray:
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values)
    return values.to_numpy().astype("datetime64[M]").astype(np.int64)


def _month_start(month: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(month, "M"))


def backtest(
    history: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    thresholds: Thresholds,
    transactions: pd.DataFrame | None = None,
    min_history: int = CURRENT_PERIODS,
) -> dict:
    """The forecast of `horizon` periods ago against what happened since; JSON-able.

    `history` and `transactions` as for `analyse()`. See the module docstring.
    """
    as_of_month = int(np.datetime64(pd.Timestamp(as_of), "M").astype(np.int64))
    cut_month = as_of_month - horizon
    month = _months(history[PERIOD])
    out: dict = {
        "horizon": horizon,
        "min_history": min_history,
        "cut": _month_start(cut_month).date().isoformat(),
        "holdout_from": _month_start(cut_month + 1).date().isoformat(),
        "holdout_to": _month_start(as_of_month).date().isoformat(),
        "judged": 0,
        "left_out_short": 0,
        "left_out_new": 0,
        "overall": None,
        "types": [],
        "calibration": [],
        "activity": None,
    }
    before_rows = month <= cut_month
    holdout_rows = (month > cut_month) & (month <= as_of_month)
    ids_before = pd.Index(history.loc[before_rows, CUSTOMER_ID].astype(str).unique())
    ids_holdout = pd.Index(history.loc[holdout_rows, CUSTOMER_ID].astype(str).unique())
    out["left_out_new"] = int(len(ids_holdout.difference(ids_before)))
    if not before_rows.any():
        return out

    cut = _month_start(cut_month)
    before_tx = None
    if transactions is not None:
        # Purchases up to the end of the cut's month.
        before_tx = transactions[_months(transactions[DATE]) <= cut_month]
    result = analyse(
        history[before_rows],
        as_of=cut,
        horizon=horizon,
        thresholds=thresholds,
        transactions=before_tx,
    )
    del before_tx
    ids = result.index.astype(str)

    # The held-out value per customer of the cut analysis, with its basis then.
    part = history.loc[
        holdout_rows, [CUSTOMER_ID, REVENUE, *([MARGIN] if MARGIN in history else [])]
    ]
    row = ids.get_indexer(part[CUSTOMER_ID].astype(str))
    known = row >= 0
    row = row[known]
    revenue = np.nan_to_num(part[REVENUE].to_numpy(dtype=np.float64)[known])
    margin = (
        part[MARGIN].to_numpy(dtype=np.float64)[known]
        if MARGIN in part
        else np.full_like(revenue, np.nan)
    )
    del part
    by_margin = (result[VALUE_BASIS].to_numpy() == MARGIN_BASIS)[row]
    ratio = np.nan_to_num(result["margin_ratio"].to_numpy(dtype=np.float64), posinf=0, neginf=0)
    value = np.where(by_margin, np.where(np.isnan(margin), revenue * ratio[row], margin), revenue)
    business_row = (revenue != 0) | (np.nan_to_num(margin) != 0)
    n = len(result)
    actual = np.bincount(row, weights=value, minlength=n)
    bought = np.bincount(row, weights=business_row, minlength=n) > 0
    del row, revenue, margin, value, business_row, by_margin

    periods = result["periods"].to_numpy()
    judged = periods >= min_history
    out["judged"] = int(judged.sum())
    out["left_out_short"] = int((~judged).sum())
    if not judged.any():
        return out

    forecast = result["future_value"].to_numpy(dtype=np.float64)
    naive = result["current_value"].to_numpy(dtype=np.float64) * horizon / CURRENT_PERIODS
    types = result["value_type"].to_numpy().astype(str)
    out["overall"] = _errors(forecast[judged], naive[judged], actual[judged])
    out["types"] = [
        {"value_type": code, **_errors(forecast[m], naive[m], actual[m])}
        for code in VALUE_TYPES
        if (m := judged & (types == code)).any()
    ]
    out["calibration"] = _calibration(forecast[judged], actual[judged])

    irregular = judged & (result["forecast_method"].to_numpy().astype(str) == REPEAT_BUYING)
    if irregular.any():
        probability = _probability_buying(
            history[before_rows], ids[irregular], cut_month, horizon, thresholds
        )
        if probability is not None:
            out["activity"] = _activity(probability, bought[irregular])
    return out


def _errors(forecast: np.ndarray, naive: np.ndarray, actual: np.ndarray) -> dict:
    """Mean absolute error of the forecast and of the naive one, and their ratio."""
    mae = float(np.mean(np.abs(forecast - actual)))
    mae_naive = float(np.mean(np.abs(naive - actual)))
    return {
        "n": int(len(actual)),
        "mae": mae,
        "mae_naive": mae_naive,
        # Below 1: the forecast missed by less than the naive one. None when the naive
        # forecast was exact (no ratio to take).
        "ratio": mae / mae_naive if mae_naive > 0 else None,
        "forecast_mean": float(np.mean(forecast)),
        "naive_mean": float(np.mean(naive)),
        "actual_mean": float(np.mean(actual)),
    }


def _calibration(forecast: np.ndarray, actual: np.ndarray) -> list[dict]:
    order = np.argsort(forecast, kind="stable")
    groups = np.array_split(order, min(CALIBRATION_GROUPS, len(order)))
    return [
        {
            "n": int(len(g)),
            "forecast_mean": float(forecast[g].mean()),
            "actual_mean": float(actual[g].mean()),
        }
        for g in groups
    ]


def _activity(probability: np.ndarray, bought: np.ndarray) -> dict:
    bands = []
    edges = ACTIVITY_BANDS
    for i, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        last = i == len(edges) - 2
        m = (probability >= low) & ((probability <= high) if last else (probability < high))
        if m.any():
            bands.append(
                {
                    "low": low,
                    "high": high,
                    "n": int(m.sum()),
                    "predicted": float(probability[m].mean()),
                    "share_buying": float(bought[m].mean()),
                }
            )
    return {
        "n": int(len(probability)),
        "predicted": float(probability.mean()),
        "share_buying": float(bought.mean()),
        "bands": bands,
    }


def _probability_buying(
    history: pd.DataFrame, ids: pd.Index, cut_month: int, horizon: int, th: Thresholds
) -> np.ndarray | None:
    """P(at least one period with business among the next `horizon`) per customer of
    `ids`, from BG/BB fitted on them (as analyse() fits its monthly model; None when too
    few to fit)."""
    customers = history[CUSTOMER_ID].astype(str)
    mine = customers.isin(ids).to_numpy()
    revenue = np.nan_to_num(history[REVENUE].to_numpy(dtype=np.float64)[mine])
    margin = (
        np.nan_to_num(history[MARGIN].to_numpy(dtype=np.float64)[mine])
        if MARGIN in history
        else np.zeros_like(revenue)
    )
    business = (revenue != 0) | (margin != 0)
    code = ids.get_indexer(customers[mine])[business]
    month = _months(history[PERIOD])[mine][business]
    del customers, mine, revenue, margin
    frame = pd.DataFrame({"c": code, "m": month}).drop_duplicates()
    count = np.bincount(frame["c"], minlength=len(ids))
    first = np.full(len(ids), cut_month, dtype=np.int64)
    last = np.full(len(ids), cut_month, dtype=np.int64)
    np.minimum.at(first, frame["c"].to_numpy(), frame["m"].to_numpy())
    np.maximum.at(last, frame["c"].to_numpy(), frame["m"].to_numpy())
    first = np.where(count > 0, first, cut_month)
    last = np.where(count > 0, last, cut_month)
    x = np.maximum(count - 1, 0).astype(np.float64)
    t_x = (last - first).astype(np.float64)
    n = (cut_month - first).astype(np.float64)
    fit = np.flatnonzero(count > 0)
    if len(fit) < th.repeat_buying_min_customers:
        return None
    if len(fit) > th.repeat_buying_max_fit_customers:
        pick = np.linspace(0, len(fit) - 1, th.repeat_buying_max_fit_customers)
        fit = fit[np.round(pick).astype(np.int64)]
    try:
        params = bgnbd.fit_bgbb(x[fit], t_x[fit], n[fit])
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return None
    return bgbb_probability_buying(params, horizon, x, t_x, n)


def bgbb_probability_buying(
    params: bgnbd.BGBB, n_star: int, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """P(at least one purchase among the next `n_star` periods | x, t_x, n) under BG/BB.

    Alive after period n (posterior p ~ Beta(alpha+x, beta+n-x), theta ~ Beta(gamma,
    delta+n)), no purchase in the next n* periods means: die before period n+k+1 after
    k periods without one (k = 0..n*-1), or live through all n* without one. With p and
    theta independent: E[zero] = sum_k E[theta (1-theta)^k] E[(1-p)^k]
    + E[(1-theta)^n*] E[(1-p)^n*]. Then P = P(alive) (1 - E[zero]).
    """
    al, be, ga, de = params.alpha, params.beta, params.gamma, params.delta
    x, t_x, n = (np.asarray(v, dtype=np.float64) for v in (x, t_x, n))
    log_l = bgnbd.bgbb_log_likelihood(params, x, t_x, n)
    log_alive = (
        special.betaln(al + x, be + n - x)
        - special.betaln(al, be)
        + special.betaln(ga, de + n)
        - special.betaln(ga, de)
    )
    p_alive = np.exp(np.minimum(log_alive - log_l, 0.0))
    a_p, b_p, b_t = (al + x)[:, None], (be + n - x)[:, None], (de + n)[:, None]
    k = np.arange(n_star, dtype=np.float64)[None, :]
    no_purchase = special.betaln(a_p, b_p + k) - special.betaln(a_p, b_p)
    die = special.betaln(ga + 1, b_t + k) - special.betaln(ga, b_t)
    live = (
        special.betaln(ga, b_t[:, 0] + n_star)
        - special.betaln(ga, b_t[:, 0])
        + special.betaln(a_p[:, 0], b_p[:, 0] + n_star)
        - special.betaln(a_p[:, 0], b_p[:, 0])
    )
    zero = np.exp(no_purchase + die).sum(axis=1) + np.exp(live)
    return np.clip(p_alive * (1.0 - zero), 0.0, 1.0)

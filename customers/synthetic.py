"""Labelled synthetic value histories for testing and benchmarking the analysis.

`generate()` draws customers of all seven value types (see docs/method.md, "The value
types") with varied start dates, levels, noise and gaps, simulates their value per month
for the observed months *and* the twelve months after `as_of`, and returns

- the history frame in the shape `customers.analysis` reads (`customer_id, period,
  revenue, margin`; only periods up to `as_of`; months without business mostly have no
  row at all, a few have an explicit zero row),
- the true value type per customer (the label the generating process stands for),
- the true future value: the sum of the customer's value (margin, or revenue where the
  customer has no margins) over the twelve months after `as_of`, as the same process
  with its noise and gaps goes on.

How the types are drawn (levels are lognormal, noise multiplicative with a coefficient of
variation of 5-30 %, gaps are months without business with a probability of 0-6 %):

- steady: a start-up ramp of 0-9 months, then a constant level with a slight drift;
  at least six months after the ramp are observed.
- cyclic: at least two years observed; either a seasonal swing (level x (1 + A cos) with
  A 0.8-1.3, clipped at zero) or budget months (business only in December, in March and
  September, in June and December, or at quarter ends).
- bell: a rise of 3-12 months from about a tenth of the peak, then an exponential decay
  of 5-20 % per month until the value is down to 2-6 % of the peak and the customer is
  lost; observed far enough past the peak that the value has at least halved.
- growth: linear or exponential growth by a factor of 2-5 over the observed history.
- shrinking: linear or exponential decline from the first month to 12-50 % of the start
  by `as_of`; the linear ones go on down to zero (the relationship ends).
- burr: at least 18 months of business in most months; a contribution margin of -15 %
  to +3 % of revenue (negative for about a third), or, for customers without margins,
  a revenue of 0.1-0.6 % of a typical customer's.
- insufficient_data: first business in the last five months; the process behind it is a
  steady or growing one.

Every type is identifiable from the observed history by construction (for example, bell
customers are past their peak, cyclic customers show two cycles); real data is murkier.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from customers.analysis import (
    CUSTOMER_ID,
    MARGIN,
    PERIOD,
    REVENUE,
    VALUE_TYPES,
)

FUTURE_MONTHS = 12

# Share of each type among the generated customers (normalised, so only ratios matter).
DEFAULT_TYPE_SHARES: Mapping[str, float] = {
    "steady": 0.26,
    "cyclic": 0.13,
    "bell": 0.12,
    "growth": 0.13,
    "shrinking": 0.12,
    "burr": 0.12,
    "insufficient_data": 0.12,
}

_MEDIAN_LEVEL = 1_000.0  # median revenue per month of a typical customer, currency units
_LEVEL_SIGMA = 0.8  # spread of the levels (sigma of the log)
_NO_MARGIN_SHARE = 0.2  # customers whose data has no contribution margin
_EXPLICIT_ZERO_SHARE = 0.1  # months without business that still have a row (value 0)
_MIN_LEVEL = 250.0  # smallest revenue per month of a customer that is not a burr
_KEY_ACCOUNT_SHARE = 0.05  # steady and growth customers that are thin-margin key accounts
_HARD_MIN_TENURE, _HARD_MAX_TENURE = 18, 36  # months observed in the hard cases
# The clear cases leave no doubt: a steady customer is observed for at least a year after
# its start-up phase (else it may still look like growth), growth and shrinking
# customers for at least two years.
_CLEAR_AFTER_RAMP = 13
_CLEAR_MIN_TREND_TENURE = 24

# Budget-month patterns of cyclic customers: calendar months (1-12) with business.
_BUDGET_PATTERNS = (
    (12,),
    (3, 9),
    (6, 12),
    (3, 6, 9, 12),
)


def generate(
    n_customers: int,
    *,
    seed: int,
    as_of: pd.Timestamp,
    months: int = 60,
    type_shares: Mapping[str, float] | None = None,
    all_rows: bool = False,
    hard: bool = False,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Draw `n_customers` labelled value histories of up to `months` months up to `as_of`.

    Returns `(history, true_type, true_future)`; the two series are indexed by customer id
    (strings `C0000001`, ...); `history.customer_id` is categorical with those ids as
    categories, which keeps 100,000 customers x 60 months small. `all_rows` writes a row
    for every customer and month, zeros included (n_customers x months rows, as a file
    with a fixed size for benchmarks); by default months without business mostly have
    no row. `hard` draws the hard cases: histories of 18 to 36 months (insufficient_data
    shorter), more noise (a coefficient of variation of 10-40 %) and gaps (0-10 % of the
    months), longer start-up phases (up to 12 months) and more project customers.
    """
    history, true_type, true_future, _ = generate_with_expected(
        n_customers,
        seed=seed,
        as_of=as_of,
        months=months,
        type_shares=type_shares,
        all_rows=all_rows,
        hard=hard,
    )
    return history, true_type, true_future


def generate_with_expected(
    n_customers: int,
    *,
    seed: int,
    as_of: pd.Timestamp,
    months: int = 60,
    type_shares: Mapping[str, float] | None = None,
    all_rows: bool = False,
    hard: bool = False,
) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """`generate()`, and the expected future value as a fourth series.

    The expected future value is what the generating process brings over the twelve
    months after `as_of` on average over its noise, gaps and chance orders (with the
    customer's own drawn parameters): the best any forecast could do on average, a
    yardstick for the forecast (bench/forecast_floor.py). The random draws, and so the
    other three results, are the same as `generate()`'s for the same arguments.
    """
    if months < 24:
        raise ValueError("months must be at least 24 (cyclic customers show two cycles)")
    rng = np.random.default_rng(seed)
    shares = dict(DEFAULT_TYPE_SHARES if type_shares is None else type_shares)
    probabilities = np.array([shares.get(code, 0.0) for code in VALUE_TYPES], dtype=float)
    kind = rng.choice(len(VALUE_TYPES), size=n_customers, p=probabilities / probabilities.sum())
    code = {name: i for i, name in enumerate(VALUE_TYPES)}

    n, m_obs = n_customers, months
    total = m_obs + FUTURE_MONTHS
    last = m_obs - 1  # index of as_of
    t = np.arange(total, dtype=np.float64)[None, :]
    as_of = pd.Timestamp(as_of).to_period("M").to_timestamp()
    first_month = as_of - pd.DateOffset(months=m_obs - 1)
    calendar = ((first_month.month - 1 + np.arange(total)) % 12 + 1)[None, :]

    # Levels below a quarter of the typical customer's are left to the burr customers: a
    # loyal customer that small is a burr by the method's definition.
    level = _MEDIAN_LEVEL * np.exp(_LEVEL_SIGMA * rng.standard_normal(n)).clip(_MIN_LEVEL, None)
    noise_cv = rng.uniform(0.1, 0.4, n) if hard else rng.uniform(0.05, 0.3, n)
    gap_p = rng.uniform(0.0, 0.1 if hard else 0.06, n)
    start = np.zeros(n, dtype=np.int64)
    shape = np.zeros((n, total))
    max_tenure = min(_HARD_MAX_TENURE, m_obs) if hard else m_obs

    def uniform_start(rows: np.ndarray, min_tenure: np.ndarray | int) -> np.ndarray:
        """First months so that between `min_tenure` and `max_tenure` months are observed."""
        low = np.minimum(np.asarray(min_tenure), max_tenure)
        if hard:
            low = np.maximum(low, _HARD_MIN_TENURE)
        low = np.broadcast_to(low, (rows.sum(),)) if np.ndim(low) == 0 else low
        tenure = low + np.floor(rng.uniform(0, 1, rows.sum()) * (max_tenure - low + 1))
        return (last + 1 - tenure).astype(int)

    # steady: ramp over `ramp` months, then the level with a slight drift.
    rows = kind == code["steady"]
    ramp = np.where(rng.uniform(size=n) < 0.4, 0, rng.integers(2, 13 if hard else 10, n))
    start[rows] = uniform_start(rows, ramp[rows] + (7 if hard else _CLEAR_AFTER_RAMP))
    drift = rng.uniform(-0.003, 0.003, n)
    age = t - start[:, None]
    shape_steady = np.clip((age + 1) / (ramp[:, None] + 1), 0, 1) * (1 + drift[:, None] * age)
    shape[rows] = shape_steady[rows]

    # insufficient_data: a steady or growing customer that started in the last 5 months.
    rows = kind == code["insufficient_data"]
    start[rows] = last - rng.integers(0, 5, rows.sum())
    age = t - start[:, None]
    growing = rng.uniform(size=n) < 0.3
    shape_new = np.where(
        growing[:, None],
        np.exp(0.04 * age),
        np.clip((age + 1) / (ramp[:, None] + 1), 0, 1),
    )
    shape[rows] = shape_new[rows]

    # growth: by a factor of 2-5 over the observed months, linear or exponential.
    rows = kind == code["growth"]
    start[rows] = uniform_start(rows, 12 if hard else _CLEAR_MIN_TREND_TENURE)
    tenure = last - start + 1
    # The clear cases grow at least 2.5-fold: a doubling over five years is 1 % a month,
    # the edge of what the method's rule calls a clear trend (the hard cases keep it).
    factor = rng.uniform(2.0 if hard else 2.5, 5.0, n)
    age = t - start[:, None]
    exponential = rng.uniform(size=n) < 0.5
    rate = np.log(factor) / (tenure - 1).clip(1)
    slope = (factor - 1) / (tenure - 1).clip(1)
    shape_growth = np.where(
        exponential[:, None], np.exp(rate[:, None] * age), 1 + slope[:, None] * age
    )
    shape[rows] = shape_growth[rows]

    # shrinking: from the first month down to 12-50 % of it at as_of.
    rows = kind == code["shrinking"]
    start[rows] = uniform_start(rows, 12 if hard else _CLEAR_MIN_TREND_TENURE)
    tenure = last - start + 1
    remaining = rng.uniform(0.12, 0.5, n)
    age = t - start[:, None]
    decay = np.log(remaining) / (tenure - 1).clip(1)
    fall_per_month = (1 - remaining) / (tenure - 1).clip(1)
    # The linear ones reach zero (the relationship ends) sooner or later; the short ones
    # within the forecast months.
    shape_shrinking = np.where(
        exponential[:, None],
        np.exp(decay[:, None] * age),
        np.clip(1 - fall_per_month[:, None] * age, 0, None),
    )
    shape[rows] = shape_shrinking[rows]

    # bell: rise over `rise` months, then exponential decay; at as_of past the half-life.
    rows = kind == code["bell"]
    rise = rng.integers(3, 13, n)
    fall = rng.uniform(0.05, 0.2, n)
    left = np.exp(rng.uniform(np.log(0.01), np.log(0.45), n))  # value left at as_of
    after_peak = np.ceil(np.log(1 / left) / fall).astype(np.int64)
    after_peak = np.clip(after_peak, 6, (max_tenure - 1) - rise)
    start[rows] = (last - rise - after_peak)[rows]
    age = t - start[:, None]
    up = 0.1 + 0.9 * np.clip(age / rise[:, None], 0, 1)
    down = np.exp(-fall[:, None] * np.clip(age - rise[:, None], 0, None))
    # Once the value is down to a few per cent of the peak, the customer is lost.
    lost = rng.uniform(0.02, 0.06, n)
    shape[rows] = np.where(down < lost[:, None], 0.0, up * down)[rows]

    # cyclic: a seasonal swing or budget months; two years observed at least.
    rows = kind == code["cyclic"]
    # Budget months may come up to 11 months after the start: two years of business.
    start[rows] = uniform_start(rows, 24 if hard else 36)
    amplitude = rng.uniform(0.8, 1.3, n)
    phase = rng.uniform(0, 12, n)
    seasonal = np.clip(
        1 + amplitude[:, None] * np.cos(2 * np.pi * (calendar - phase[:, None]) / 12), 0, None
    )
    pattern = rng.integers(0, len(_BUDGET_PATTERNS), n)
    budget = np.zeros((n, total))
    for p, months_with_business in enumerate(_BUDGET_PATTERNS):
        in_pattern = np.isin(calendar, months_with_business)
        budget[pattern == p] = np.where(in_pattern, 12 / len(months_with_business), 0.0)
    # Project customers: big orders in 20-40 % of the months, nothing in between, no
    # regular period and no trend.
    order_share = rng.uniform(0.2, 0.4, n)
    ordered = rng.uniform(size=(n, total)) < order_share[:, None]
    ordered[np.arange(n), np.minimum(start, total - 1)] = True
    project = np.where(ordered, rng.lognormal(0.0, 0.3, (n, total)) / order_share[:, None], 0.0)
    variant = rng.uniform(size=n)
    shape_cyclic = np.where(
        (variant < 0.35)[:, None], budget, np.where((variant < 0.7)[:, None], seasonal, project)
    )
    shape[rows] = shape_cyclic[rows]
    project_rows = rows & (variant >= 0.7)

    # burr: loyal (long, few gaps), steady revenue, tiny or negative margin.
    rows = kind == code["burr"]
    start[rows] = uniform_start(rows, 18)
    shape[rows] = 1.0
    gap_p[rows] = rng.uniform(0.0, 0.05, rows.sum())

    # On average over the chance orders, a project customer brings the mean order size
    # (the mean of the lognormal) every month.
    expected_shape = shape.copy()
    expected_shape[project_rows] = np.exp(0.3**2 / 2)

    # Everything before the first business is zero.
    alive = t >= start[:, None]
    mean_revenue = level[:, None] * shape * alive

    sigma = np.sqrt(np.log1p(noise_cv**2))[:, None]
    noise = np.exp(sigma * rng.standard_normal((n, total)) - sigma**2 / 2)
    gap = rng.uniform(size=(n, total)) < gap_p[:, None]
    # The first month is business by definition.
    gap[np.arange(n), np.minimum(start, total - 1)] = False
    revenue = mean_revenue * noise * ~gap

    has_margin = rng.uniform(size=n) >= _NO_MARGIN_SHARE
    ratio = rng.uniform(0.12, 0.5, n)
    burr_rows = kind == code["burr"]
    # Burr customers bring very little in money: about half of those with margins lose
    # money at an ordinary revenue, the others earn an ordinary margin ratio on a tiny
    # revenue (12 a month at 30 %); without margins the tiny revenue is all there is.
    losing = burr_rows & has_margin & (rng.uniform(size=n) < 0.5)
    ratio[losing] = rng.uniform(-0.15, -0.01, losing.sum())
    tiny = burr_rows & ~losing
    tiny_factor = _MEDIAN_LEVEL / level[tiny] * rng.uniform(0.002, 0.02, tiny.sum())
    revenue[tiny] *= tiny_factor[:, None]
    # Key accounts with a thin margin ratio: large, so a large margin in money; steady
    # or growing customers, never burrs.
    key = (
        np.isin(kind, [code["steady"], code["growth"]])
        & has_margin
        & (rng.uniform(size=n) < _KEY_ACCOUNT_SHARE)
    )
    key_factor = rng.uniform(20.0, 200.0, key.sum())
    revenue[key] *= key_factor[:, None]
    ratio[key] = rng.uniform(0.02, 0.05, key.sum())
    margin_noise = np.where(losing[:, None], 0.02, 0.05 * np.abs(ratio[:, None]))
    margin = revenue * (ratio[:, None] + margin_noise * rng.standard_normal((n, total)))
    value = np.where(has_margin[:, None], margin, revenue)

    # The expected value: noise (mean 1), gaps (business with probability 1 - gap_p) and
    # the margin's noise (mean 0) averaged out.
    expected_revenue = level[:, None] * expected_shape * alive * (1.0 - gap_p[:, None])
    expected_revenue[tiny] *= tiny_factor[:, None]
    expected_revenue[key] *= key_factor[:, None]
    expected_value = np.where(
        has_margin[:, None], expected_revenue * ratio[:, None], expected_revenue
    )

    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    true_type = pd.Series(np.asarray(VALUE_TYPES)[kind], index=pd.Index(ids, name=CUSTOMER_ID))
    true_future = pd.Series(
        value[:, m_obs:].sum(axis=1), index=true_type.index, name="true_future_value"
    )

    observed_revenue = revenue[:, :m_obs]
    keep = observed_revenue != 0
    keep |= alive[:, :m_obs] & (rng.uniform(size=(n, m_obs)) < _EXPLICIT_ZERO_SHARE)
    if all_rows:
        keep[:] = True
    customer, month = np.nonzero(keep)
    periods = pd.date_range(first_month, periods=m_obs, freq="MS")
    history = pd.DataFrame(
        {
            CUSTOMER_ID: pd.Categorical.from_codes(customer, categories=ids),
            PERIOD: periods.values[month],
            REVENUE: observed_revenue[customer, month],
            MARGIN: np.where(has_margin[customer], margin[customer, month], np.nan),
        }
    )
    expected_future = pd.Series(
        expected_value[:, m_obs:].sum(axis=1), index=true_type.index, name="expected_future_value"
    )
    return history, true_type.rename("true_type"), true_future, expected_future

"""Customer value analysis: value type, current and future value per customer.

Pure functions over pandas/numpy; no Django, no settings, no clock (`as_of` comes in).

Input: the history frame, one row per customer and period (column names are the
constants `HISTORY_COLUMNS` below):

- `customer_id` (str, or categorical of str): the customer.
- `period` (datetime64, first day of the month): the month the row is about.
- `revenue` (float, currency units per period): revenue in that month.
- `margin` (float, currency units per period): contribution margin in that month;
  NaN where the data has none (the column may be missing altogether).

The *value* of a customer per period is its contribution margin where the data has
margins, else its revenue: a customer whose margins are all NaN is valued by revenue;
a customer with margins in some months only is valued by margin, and a month without
one gets revenue x the customer's margin ratio (so the series does not jump between
margin and revenue). Months without a row between the first business and `as_of` count
as 0 (no business); rows after `as_of` are ignored.

`analyse()` pivots all customers into one customers x periods matrix and computes every
figure with array operations (prefix sums for windows and moving means, closed-form
least squares, a variogram for cycles), then assigns exactly one type with `np.select`;
the first rule that matches wins, in this order (names in brackets are `Thresholds`):

1. `insufficient_data`: fewer than [min_periods] periods since the first business.
2. `burr`: loyal, at least [burr_min_periods] periods with business in at least
   [burr_min_active_share] of them, and a tiny value in money: a negative current
   value, or a `relative_value` of at most [burr_max_relative_value] that always was
   so (not a falling line from a smoothed peak above that share of the typical
   customer's). A burr is judged by what it earns, not by its margin ratio.
3. `cyclic`: strong swings. Either a regular cycle: seasonal strength at least
   [cyclic_min_strength], cv at least [cyclic_min_cv], over at least
   [cyclic_min_periods] periods and two cycles; or, over at least
   [cyclic_swing_min_periods] periods and without a clear trend (the line through the
   months as they are, gaps not bridged: |t| below [cyclic_swing_max_trend_t] or
   |relative slope| below [trend_min_slope]), a `zero_share` of at least
   [cyclic_min_zero_share] (projects, budgets, big orders now and then).
4. `bell`: rise to the peak at least [bell_min_rise], the peak at least
   [bell_min_rise_periods] periods after the start, a fall since the peak of at least
   [bell_min_decline], and a falling line since the peak (`fall_slope` at most
   -[bell_min_fall_slope], `fall_t` at most -[bell_min_fall_t]).
5. `shrinking`: a falling line over the whole history (`trend_slope` at most
   -[trend_min_slope], `trend_t` at most -[trend_min_t]) and a fall since the peak of
   at least [shrinking_min_decline].
6. `growth`: a rising line (`trend_slope` at least [trend_min_slope], `trend_t` at least
   [growth_min_t] for a regular buyer, [trend_min_t] for an irregular one) that still
   rises at the end (`end_slope` at least [growth_min_end_slope]), does not flatten out
   (`curvature_t` at least -[growth_max_flattening_t]) and peaks late (`peak_position`
   at least [growth_min_peak_position]).
7. `cyclic` again: a cv of at least [cyclic_swing_min_cv] without a clear trend (as in 3).
8. `steady`: everything else (small fluctuations only).

The shape figures (trend, parabola, peak, rise and fall) of a regular buyer (business in
at least [regular_min_active_share] of its periods) are taken with runs of at most
[gap_max_periods] periods without business between periods with business bridged by the
straight line between their neighbours: a gap is not a change of course. Values, levels,
`cv`, `zero_share` and the forecasts use the periods as they are.

Output: one row per customer, indexed by `customer_id`, these columns (units):

- `value_type` (str): one of `VALUE_TYPES`.
- `current_value` (currency): the value summed over the last 12 periods up to `as_of`.
- `future_value` (currency): the forecast summed over the next `horizon` periods.
- `value_basis` (str): `margin` (valued by contribution margin) or `revenue` (the data
  has no margins for the customer).
- `hidden_pearl` (bool): steady, valued by margin, at least [pearl_min_periods] periods,
  better than it looks (`margin_ratio_rank` at least [pearl_min_ratio_rank] or
  `margin_ratio_change` at least [pearl_min_ratio_rise]) at a modest size (a current
  value above 0 and at most the [pearl_max_value_quantile] quantile of the steady
  customers valued by margin). Never without margins.
- `cost_review` (bool): a burr customer: review the cost to serve.
- `thin_margin` (bool): valued by margin, not a burr, a margin ratio of at most
  [thin_margin_max_ratio] and a `relative_value` of at least
  [thin_margin_min_relative_value]: a large account with a thin margin ratio.
- `forecast_uncertain` (bool): the forecast is uncertain, see
  `forecast_uncertain_reason`.
- `periods` (periods): periods since the first business, `as_of` included.
- `active_share` (0..1): share of those periods with business.
- `mean_value` (currency per period): mean value per period since the first business.
- `recent_level` (currency per period): mean value of the last [recent_periods].
- `relative_value` (ratio): the current value per period / the typical customer's on
  the same basis: the median over the customers with a full window of 12 periods of
  the contribution margin (customers valued by margin) or of the revenue (customers
  valued by revenue, against every customer's revenue). NaN without a reference.
- `margin_ratio` (ratio): contribution margin / revenue over the months with both;
  empty for customers without margins.
- `margin_ratio_rank` (0..1): share of the customers with margins and at least
  [min_periods] periods whose margin ratio is lower; empty without margins.
- `margin_ratio_change` (ratio): margin ratio over the last 12 periods minus the margin
  ratio before them (0.03 = 3 percentage points); empty without margins or earlier data.
- `trend_slope` (1 per period): slope of the least-squares line over the history,
  relative to the mean value (0.02 = rises by 2 % of the mean value per period).
- `trend_r2` (0..1): how well that line fits; `trend_t` (t statistic): how sure its
  slope is (slope / standard error; |t| >= 2 is about 95 % sure).
- `end_slope` (1 per period): slope at `as_of` of the least-squares parabola over the
  history, relative to the mean value; `curvature_t` (t statistic) of its curvature:
  clearly negative when the value flattens out or turns down, positive when it speeds up.
- `peak_position` (0..1): where the peak of the smoothed value lies (0 = the first
  business, 1 = `as_of`); smoothed by a centred moving mean of [smoothing_window].
- `rise_to_peak` (0..1): 1 - start level / smoothed peak, where the start level is the
  mean of the first [start_periods] periods.
- `decline_from_peak` (ratio): 1 - recent level / smoothed peak (above 1 once the value
  turned negative).
- `fall_slope` (1 per period) and `fall_t` (t statistic): the line from the peak to
  `as_of`, relative to its mean.
- `seasonal_strength` (0..1): how strongly the value repeats after `cycle_length`
  periods: (g(L/2) - g(L)) / (g(L/2) + g(L)) with g(k) the mean squared difference of
  values k periods apart (the variogram); 1 = a perfect cycle, 0 or less = none. Cycle
  lengths 3, 4, 6 and 12 are tried (for 3, g(1) stands in for g(L/2)), the strongest
  counts. `cycle_length` (periods): that cycle; 0 = none.
- `cv` (ratio): coefficient of variation (standard deviation / |mean|) of the value.
- `zero_share` (0..1): share of the periods without business between the first and the
  last business.
- `roughness` (ratio): mean change from one period to the next / mean absolute value.
- `forecast_method` (str): `type` (the type's rule below) or `repeat_buying`.
- `forecast_uncertain_reason` (str): empty, `short_history` (insufficient_data: the
  forecast capped at [short_history_max_future] times what it brought so far),
  `model_below_growth` or `model_above_fall` (the model disagreed with the type's
  direction, which won).
- `model_future_value` (currency): the model's future value where the type's direction
  overrode it; NaN elsewhere.
- `forecast_path` (list of float, currency per period): the forecast per future period;
  `to_output_frame()` leaves it out unless asked.

Forecast per future period, by type:

- steady, burr: the level, the mean of the last [level_periods] periods (at most the
  later half of the history, so that a start-up phase does not pull it down, unless
  the smoothed value was at least [level_min_share] of that half's mean before: then
  from the end of the start-up phase on).
- growth, shrinking: a least-squares line and an exponential (a line through the logs
  of the positive values) over the last [growth_fit_periods] periods of the gap-bridged
  value; the one with the smaller squared error on the values is continued from its
  value at `as_of` with its slope (or rate) damped by [growth_damping] per period, times
  the share of periods with business in the window, never negative.
- bell: exponential decay fitted to the fall (the ratio of the means of the last two
  windows of up to [decay_window] periods after the peak), never rising.
- cyclic with a regular cycle: the mean cycle of the last full years (up to
  [cyclic_years]) again; without one: the mean of the last [cyclic_level_periods]
  periods, evenly.
- insufficient_data: the mean since the first business.

Irregular histories (business in fewer than [regular_min_active_share] of the periods,
a roughness of at least [erratic_min_roughness] without a trend type (growth, bell and
shrinking customers with business in most periods keep their trend), or fewer than
[type_forecast_min_periods] periods: too short to project a trend) are forecast by the
established repeat-buying models instead, except cyclic customers with a regular
cycle, burr and insufficient_data customers, which keep their type's forecast. The
models are fitted on all irregular customers of the portfolio (see customers/bgnbd.py),
when there are at least [repeat_buying_min_customers] of them; otherwise (or if a fit
fails) the type's forecast stays.

- From the monthly history alone: BG/BB (Fader, Hardie, Shang 2010) for the months with
  business times Gamma-Gamma (Fader, Hardie 2013) for the value per such month (every
  month with business counts, the first too: a B2B customer's first month is an
  ordinary one).
- With `transactions` (optional argument of `analyse()`; one row per purchase, the
  columns `customer_id, date, amount[, margin]` as customers/reading.py returns them for
  transaction files, `TRANSACTION_COLUMNS`): BG/NBD (Fader, Hardie, Lee 2005) for the
  number of purchases times Gamma-Gamma for the revenue per purchase, on the timing of
  the purchases that monthly sums lose. A purchase is a customer's day whose amounts sum
  to more than 0 (days with only returns are none); per customer, frequency = purchase
  days - 1, recency = first to last purchase day, T = first purchase day to the last day
  of the `as_of` month, in weeks (days / 7, the papers' unit, so that the fitted
  parameters compare with the published ones). Transactions after the `as_of` month
  are ignored. Gamma-Gamma takes the mean revenue of the repeat purchases, as published
  (a customer without one gets the portfolio mean). The expected purchases up to the
  end of each of the next `horizon` calendar months (28 to 31 days each, 30.44 on
  average), differenced, give the purchases per future month; times the expected
  revenue per purchase, times the customer's margin ratio where the customer is valued
  by margin (the value rule above), they give the forecast per future month. If the
  BG/NBD fit is not possible, the monthly models above stand in; an irregular customer
  without a purchase day (only returns) keeps its type's forecast.

Last, the forecast follows the type's direction, per period against the current value
per period (over min(periods, 12)): growth above it (else at least the current rate
rising by [trend_min_slope] per period), bell and shrinking at most it (else scaled down
to it), insufficient_data at most its mean since the first business and in all at most
[short_history_max_future] times its value so far. A customer whose
forecast was overridden so is marked `forecast_uncertain` with its reason and
`model_future_value`; insufficient_data customers are always marked (`short_history`).

On real transaction data (CDNOW) the forecast with `transactions` is compared with BG/NBD
x Gamma-Gamma in tests/customers/test_bgnbd_reference.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from customers import bgnbd

CUSTOMER_ID = "customer_id"
PERIOD = "period"
REVENUE = "revenue"
MARGIN = "margin"
HISTORY_COLUMNS = (CUSTOMER_ID, PERIOD, REVENUE, MARGIN)

# Transactions (`monthly_from_transactions`, `analyse(transactions=...)`): one row per
# purchase.
DATE = "date"  # datetime64, the day of the purchase
AMOUNT = "amount"  # float, currency units, revenue of the purchase
# The margin column of transactions has the same name as in the history: MARGIN.
TRANSACTION_COLUMNS = (CUSTOMER_ID, DATE, AMOUNT, MARGIN)

VALUE_TYPES = (
    "steady",
    "cyclic",
    "bell",
    "growth",
    "shrinking",
    "burr",
    "insufficient_data",
)
STEADY, CYCLIC, BELL, GROWTH, SHRINKING, BURR, INSUFFICIENT_DATA = VALUE_TYPES

OUTPUT_HEAD = (CUSTOMER_ID, "value_type", "current_value", "future_value")
# Right after the head: what the values are, contribution margin or revenue.
VALUE_BASIS = "value_basis"
MARGIN_BASIS, REVENUE_BASIS = "margin", "revenue"
FLAGS = ("hidden_pearl", "cost_review", "thin_margin", "forecast_uncertain")
FIGURES = (
    "periods",
    "active_share",
    "mean_value",
    "recent_level",
    "relative_value",
    "margin_ratio",
    "margin_ratio_rank",
    "margin_ratio_change",
    "trend_slope",
    "trend_r2",
    "trend_t",
    "end_slope",
    "curvature_t",
    "peak_position",
    "rise_to_peak",
    "decline_from_peak",
    "fall_slope",
    "fall_t",
    "seasonal_strength",
    "cycle_length",
    "cv",
    "zero_share",
    "roughness",
    "forecast_method",
    "forecast_uncertain_reason",
    "model_future_value",
)
FORECAST_PATH = "forecast_path"

CURRENT_PERIODS = 12  # "current value": the value over the last 12 periods (docs/method.md)
_MAX_T = 1e3  # t statistics of perfect lines are capped here
_CYCLES = ((12, 6), (6, 3), (4, 2), (3, 1))  # (cycle length L, half-cycle lag)
_WEEK_DAYS = 7.0  # time unit of the BG/NBD fit on transactions (the papers' unit)


@dataclass(frozen=True)
class Thresholds:
    """Every number the type rules and forecasts use, with its default.

    Periods are months by default; shares and ratios are fractions (0.5 = 50 %).
    """

    # Fewer periods since the first business than this: insufficient_data.
    min_periods: int = 6
    # Centred moving mean (odd number of periods) smoothing the value for peak and rise.
    smoothing_window: int = 5
    # The shape figures (trend, parabola, peak, rise and fall) bridge runs of at most this
    # many periods without business between periods with business (gaps, not a change
    # of course); 0 = none. Values, levels, swings and forecasts use the months as they are.
    gap_max_periods: int = 2
    # Periods averaged into the start level that the rise to the peak compares.
    start_periods: int = 2
    # Periods averaged into the recent level that the fall since the peak compares.
    recent_periods: int = 3
    # Periods averaged into the level that steady and burr customers keep (at most the
    # later half of a short history, so a start-up phase does not pull it down) ...
    level_periods: int = 24
    # ... unless the value was at least this share of the later half's level before
    # (smoothed): then from the end of the start-up phase on.
    level_min_share: float = 0.8

    # burr: loyal and long ...
    burr_min_periods: int = 12
    burr_min_active_share: float = 0.75
    # ... and a value in money over the current window (the last 12 periods) that is
    # negative or at most this share of the typical (median) customer's on the same basis
    # (contribution margin against margin, revenue against revenue), and not falling.
    burr_max_relative_value: float = 0.05

    # thin_margin (a flag, not a type): a margin ratio this small (or negative) on an
    # account whose margin in money is at least this multiple of the typical customer's.
    thin_margin_max_ratio: float = 0.05
    thin_margin_min_relative_value: float = 1.0

    # cyclic with a regular cycle: seasonal strength (0..1) and coefficient of variation
    # at least these ...
    cyclic_min_strength: float = 0.5
    cyclic_min_cv: float = 0.5
    # ... over at least this many periods (two years: a season must come back), and at
    # least two full cycles.
    cyclic_min_periods: int = 24
    # cyclic without a regular cycle (projects, budgets, irregular big orders): strong
    # swings without a clear trend, over at least `cyclic_swing_min_periods` periods.
    # Strong swings are months without business in at least `cyclic_min_zero_share` of the
    # months from the first to the last business, or a coefficient of variation of at
    # least `cyclic_swing_min_cv`. Among such swings only a trend with a t statistic of at
    # least `cyclic_swing_max_trend_t` counts (chance orders easily make a t of 2).
    cyclic_swing_min_periods: int = 12
    cyclic_min_zero_share: float = 0.35
    cyclic_swing_min_cv: float = 0.7
    cyclic_swing_max_trend_t: float = 3.0

    # bell: the start at most (1 - this) of the peak, at least this many periods in ...
    bell_min_rise: float = 0.5
    bell_min_rise_periods: int = 2
    # ... and the recent level at most (1 - this) of the peak, falling since the peak.
    bell_min_decline: float = 0.4
    # ... and the line since the peak falls by at least this share of its mean per period
    # (a customer on its way to almost nothing, not a steady one past a lucky month).
    bell_min_fall_slope: float = 0.03
    # ... with a t statistic of at least this: the peak is the highest point, so the line
    # after it falls more surely than its t says when the values only scatter.
    bell_min_fall_t: float = 2.5

    # A trend counts when |relative slope per period| and |t statistic| are at least these.
    trend_min_slope: float = 0.01
    trend_min_t: float = 2.0
    # shrinking: the recent level at most (1 - this) of the peak.
    shrinking_min_decline: float = 0.35
    # growth: a regular buyer's rising line with a t statistic of at least this (about
    # 99.9 % sure: a start-up phase or a run of good months easily makes a t of 2; an
    # irregular buyer's at least `trend_min_t`, its forecast comes from the
    # repeat-buying models and the type only sets the direction) ...
    growth_min_t: float = 3.0
    # ... still rising at the end (relative slope of the parabola at as_of at least
    # this), not flattening out (curvature t not below minus this), and the peak in the
    # later part of the history.
    growth_min_end_slope: float = 0.0
    growth_max_flattening_t: float = 3.0
    growth_min_peak_position: float = 0.5

    # Forecast of growth and shrinking: line or exponential fitted over this many recent
    # periods, the slope (or rate) damped by this factor per period.
    growth_fit_periods: int = 60
    growth_damping: float = 0.98
    # Forecast of bell and shrinking: at most this many periods per fitted window.
    decay_window: int = 6
    # Forecast of cyclic customers with a regular cycle: the mean cycle of at most this
    # many recent full years (the last year alone repeats its chance highs and lows).
    cyclic_years: int = 3
    # Forecast of cyclic customers without a regular cycle: the mean over at most this
    # many recent periods.
    cyclic_level_periods: int = 36

    # Irregular buyers: business in a smaller share of their periods than this, or (for
    # customers without a trend type) a value that jumps by at least
    # `erratic_min_roughness` of its mean from one period to the next. Their future
    # value comes from the repeat-buying models (BG/BB x Gamma-Gamma on the months, or
    # BG/NBD x Gamma-Gamma on the purchase days when `analyse()` gets the transactions;
    # see customers/bgnbd.py) fitted on all irregular customers, if there are at least
    # `repeat_buying_min_customers` of them (with transactions: of them with a
    # purchase). Cyclic customers with a regular cycle and burr customers keep their
    # type's forecast. Regular buyers (this share or more) have short gaps bridged for
    # their shape figures (`gap_max_periods`).
    regular_min_active_share: float = 0.75
    erratic_min_roughness: float = 0.6
    # Histories shorter than this are too short to project a trend, a decay or a cycle;
    # they get the repeat-buying forecast as well (insufficient_data keeps its mean).
    type_forecast_min_periods: int = 12
    repeat_buying_min_customers: int = 100
    # insufficient_data: the forecast over the whole horizon is at most this multiple of
    # the value brought so far (its mean per period otherwise). 2 = its pace so far for
    # about half a year of the next twelve months: between stopping now (1, the naive
    # figure) and a run rate of 2.4 to 12 times what 1 to 5 months brought, which a
    # newcomer has not proven; clearly below the 3 times of a 4-month customer's run
    # rate (see docs/method.md, "How good the types and the forecast are").
    short_history_max_future: float = 2.0
    # The monthly models' parameters are fitted on at most this many of them (evenly
    # spaced), which is plenty for four or three population parameters.
    repeat_buying_max_fit_customers: int = 2000

    # Hidden pearl: a steady customer with margins, at least this long, that is better
    # than it looks: a margin ratio in the top of the portfolio (its rank among the
    # customers with margins at least `pearl_min_ratio_rank`) or a margin ratio rising by
    # at least `pearl_min_ratio_rise` (0.03 = 3 percentage points) from the earlier
    # periods to the last 12, at a modest size: a current value above 0 and at most the
    # `pearl_max_value_quantile` quantile of the steady customers with margins (the
    # biggest steady accounts are known to everybody).
    pearl_min_periods: int = 24
    pearl_min_ratio_rank: float = 0.75
    pearl_min_ratio_rise: float = 0.03
    pearl_max_value_quantile: float = 0.75

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> Thresholds:
        """Defaults overridden by `values` (e.g. a Django setting); unknown keys raise."""
        values = dict(values or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"unknown analysis thresholds: {', '.join(unknown)}")
        cast = {name: type(getattr(cls(), name))(value) for name, value in values.items()}
        return cls(**cast)


def monthly_from_transactions(tx: pd.DataFrame) -> pd.DataFrame:
    """Sum transactions (`customer_id, date, amount[, margin]`) per customer and month.

    Returns the history frame (`HISTORY_COLUMNS`); a month's margin is NaN only when all
    its transactions lack one.
    """
    margin = tx[MARGIN] if MARGIN in tx else pd.Series(np.nan, index=tx.index)
    months = pd.to_datetime(tx[DATE]).to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    frame = pd.DataFrame(
        {
            CUSTOMER_ID: tx[CUSTOMER_ID].to_numpy(),
            PERIOD: months,
            REVENUE: tx[AMOUNT].astype(float).to_numpy(),
            MARGIN: margin.astype(float).to_numpy(),
        }
    )
    grouped = frame.groupby([CUSTOMER_ID, PERIOD], sort=True, observed=True)
    monthly = grouped[[REVENUE, MARGIN]].sum(min_count=1).reset_index()
    monthly[REVENUE] = monthly[REVENUE].fillna(0.0)
    return monthly[list(HISTORY_COLUMNS)]


# --- the matrix ---------------------------------------------------------------------


@dataclass
class Matrix:
    """A history laid out as customers x months (`pivot`): what `analyse()` works on.
    `analyse()` and `portfolio_parts()` take one instead of the history, so that the
    chunked analysis (customers/chunked.py) lays each chunk out once for its three
    passes."""

    ids: pd.Index  # customer ids, one per row
    value: np.ndarray  # customers x periods, float64, 0 where no business
    business: np.ndarray  # customers x periods, bool
    margin_ratio: np.ndarray  # per customer, NaN without margins
    value_ratio: np.ndarray  # per customer, value per unit of revenue (1 without margins)
    # Over the current window (the last CURRENT_PERIODS periods up to as_of), per customer:
    recent_revenue: np.ndarray  # revenue
    recent_margin_ratio: np.ndarray  # margin / revenue over the months with both; NaN
    earlier_margin_ratio: np.ndarray  # the same before the window; NaN


def pivot(history: pd.DataFrame, as_of: pd.Timestamp) -> Matrix:
    """All customers x the months from the earliest row to `as_of`, summed per cell."""
    as_of_month = np.datetime64(pd.Timestamp(as_of), "M").astype(np.int64)
    periods = history[PERIOD]
    if not pd.api.types.is_datetime64_any_dtype(periods):
        periods = pd.to_datetime(periods)
    when = periods.to_numpy()
    if when.dtype.kind == "M":
        # Each distinct period converted once (the calendar arithmetic is slow per row).
        period_codes, distinct = pd.factorize(when.view(np.int64))
        month = distinct.view(when.dtype).astype("datetime64[M]").astype(np.int64)[period_codes]
        del period_codes
    else:
        month = when.astype("datetime64[M]").astype(np.int64)
    del when
    keep = (month <= as_of_month) & history[CUSTOMER_ID].notna().to_numpy()
    customers = history[CUSTOMER_ID]
    if not keep.all():
        month, customers = month[keep], customers[keep]
    if isinstance(customers.dtype, pd.CategoricalDtype):
        codes = customers.cat.codes.to_numpy()
        present = np.bincount(codes, minlength=len(customers.cat.categories)) > 0
        remap = np.cumsum(present) - 1
        codes = remap[codes]
        ids = pd.Index(customers.cat.categories[present].astype(str), name=CUSTOMER_ID)
    else:
        # On the Series: pyarrow's hashing for text, five times as fast as on objects.
        codes, uniques = pd.factorize(customers, sort=True)
        ids = pd.Index(np.asarray(uniques).astype(str), name=CUSTOMER_ID)
    revenue = history[REVENUE].to_numpy(dtype=np.float64)
    margin = history[MARGIN].to_numpy(dtype=np.float64) if MARGIN in history else None
    if not keep.all():
        revenue = revenue[keep]
        margin = margin[keep] if margin is not None else None
    n = len(ids)
    if n == 0:
        empty = np.zeros(0)
        return Matrix(
            ids, np.zeros((0, 1)), np.zeros((0, 1), bool), empty, empty, empty, empty, empty
        )
    first_month = month.min()
    width = int(as_of_month - first_month) + 1
    cell = codes.astype(np.int64) * width + (month - first_month)
    recent_row = month > as_of_month - CURRENT_PERIODS
    del month  # 6 million rows make every flat array count: free them as we go

    revenue = np.nan_to_num(revenue)
    if margin is None:
        margin = np.full_like(revenue, np.nan)
    has_margin_row = ~np.isnan(margin)
    margin = np.where(has_margin_row, margin, 0.0)
    # Margin ratio per customer over the rows that have both figures.
    margin_sum = np.bincount(codes, weights=margin, minlength=n)
    revenue_with_margin = np.bincount(codes, weights=revenue * has_margin_row, minlength=n)
    has_margin = np.bincount(codes, weights=has_margin_row, minlength=n) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(has_margin, margin_sum / revenue_with_margin, np.nan)
    fill_ratio = np.where(has_margin, np.nan_to_num(ratio, posinf=0, neginf=0), 1.0)
    recent_revenue = np.bincount(codes, weights=revenue * recent_row, minlength=n)
    recent_margin = np.bincount(codes, weights=margin * recent_row, minlength=n)
    recent_with_margin = np.bincount(
        codes, weights=revenue * (has_margin_row & recent_row), minlength=n
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        recent_ratio = recent_margin / recent_with_margin
        earlier_ratio = (margin_sum - recent_margin) / (revenue_with_margin - recent_with_margin)
    recent_ratio = np.where(has_margin & np.isfinite(recent_ratio), recent_ratio, np.nan)
    earlier_ratio = np.where(has_margin & np.isfinite(earlier_ratio), earlier_ratio, np.nan)
    del recent_row
    business_row = (revenue != 0) | (margin != 0)
    row_value = np.where(has_margin_row, margin, revenue * fill_ratio[codes])
    del revenue, margin, has_margin_row, codes

    value = np.bincount(cell, weights=row_value, minlength=n * width).reshape(n, width)
    del row_value
    business = np.zeros(n * width, dtype=bool)
    business[cell[business_row]] = True
    return Matrix(
        ids,
        value,
        business.reshape(n, width),
        ratio,
        fill_ratio,
        recent_revenue,
        recent_ratio,
        earlier_ratio,
    )


@dataclass(frozen=True)
class Portfolio:
    """The portfolio-wide figures of `analyse()`, given when it analyses a part of the
    customers (customers/chunked.py: the chunks of a file too large for one process).

    With a portfolio, `analyse()` takes these instead of computing them over the customers
    it gets, lays its matrix out from `first_period` (so every customer's row is the one
    the whole portfolio's matrix has); `portfolio_parts()` gives what its customers
    contribute to them. Transactions are not supported with a portfolio.
    """

    first_period: pd.Timestamp  # the earliest month of the whole history up to as_of
    margin_reference: float = np.nan  # median current rate, customers with margins
    revenue_reference: float = np.nan  # median current revenue rate, every customer
    margin_ratios: np.ndarray = dataclasses.field(  # sorted rounded ratios of the ranked
        default_factory=lambda: np.zeros(0)
    )
    pearl_ceiling: float = -np.inf  # the quantile of the steady customers with margins
    # The monthly repeat-buying models (BG/BB, Gamma-Gamma), None: no such forecast.
    repeat_buying: tuple[Any, Any] | None = None


def _widen(m: Matrix, as_of: pd.Timestamp, first_period: pd.Timestamp) -> Matrix:
    """The matrix with leading empty periods from `first_period` on."""
    as_of_month = np.datetime64(pd.Timestamp(as_of), "M").astype(np.int64)
    first_month = np.datetime64(pd.Timestamp(first_period), "M").astype(np.int64)
    extra = int(as_of_month - first_month) + 1 - m.value.shape[1]
    if extra <= 0 or len(m.ids) == 0:
        return m
    value = np.zeros((m.value.shape[0], m.value.shape[1] + extra))
    value[:, extra:] = m.value
    business = np.zeros(value.shape, dtype=bool)
    business[:, extra:] = m.business
    return dataclasses.replace(m, value=value, business=business)


def _prefix(x: np.ndarray) -> np.ndarray:
    """Prefix sums with a leading 0 column: sum over [a, b) is P[b] - P[a]."""
    out = np.zeros((x.shape[0], x.shape[1] + 1))
    np.cumsum(x, axis=1, out=out[:, 1:])
    return out


def _take(prefix: np.ndarray, col: np.ndarray) -> np.ndarray:
    return np.take_along_axis(prefix, col[:, None], axis=1)[:, 0]


def _window_sum(prefix: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    return _take(prefix, stop) - _take(prefix, start)


def _sum_t(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Sum of t over [start, stop)."""
    return (start + stop - 1) * (stop - start) / 2.0


def _sum_t2(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    def upto(k: np.ndarray) -> np.ndarray:  # sum of t^2 for t < k
        k = k.astype(np.float64)
        return (k - 1) * k * (2 * k - 1) / 6.0

    return upto(stop) - upto(start)


@dataclass
class _Line:
    """Least-squares straight line per customer over a window of periods."""

    slope: np.ndarray  # value per period
    intercept: np.ndarray  # value at t = 0
    r2: np.ndarray  # 0..1
    t: np.ndarray  # t statistic of the slope (slope / its standard error)
    mean: np.ndarray  # mean value in the window


def _trend(
    px: np.ndarray, ptx: np.ndarray, pxx: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> _Line:
    """Least-squares line over [start, stop) per row, from prefix sums (closed form)."""
    return _line(
        start,
        stop,
        _window_sum(px, start, stop),
        _window_sum(ptx, start, stop),
        _window_sum(pxx, start, stop),
    )


def _line(
    start: np.ndarray, stop: np.ndarray, sx: np.ndarray, stx: np.ndarray, sxx: np.ndarray
) -> _Line:
    """Least-squares line over [start, stop) per row from the sums of x, t x and x^2 there."""
    n = (stop - start).astype(np.float64)
    st = _sum_t(start, stop)
    stt = _sum_t2(start, stop)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_t = n * stt - st**2
        cov = n * stx - st * sx
        var_x = np.maximum(n * sxx - sx**2, 0.0)
        slope = np.where(var_t > 0, cov / var_t, 0.0)
        intercept = np.where(n > 0, (sx - slope * st) / n, 0.0)
        r2 = np.clip(np.where((var_t > 0) & (var_x > 0), cov**2 / (var_t * var_x), 0.0), 0, 1)
        t = np.sign(slope) * np.sqrt(np.maximum(n - 2, 0) * r2 / np.maximum(1 - r2, 1e-12))
        mean = np.where(n > 0, sx / n, 0.0)
    return _Line(slope, intercept, r2, np.clip(t, -_MAX_T, _MAX_T), mean)


def _relative(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / np.abs(denominator)
    return np.where(np.isfinite(out), out, 0.0)


# --- the analysis -----------------------------------------------------------------------


def analyse(
    history: pd.DataFrame | Matrix,
    *,
    as_of: pd.Timestamp,
    horizon: int = 12,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, so a safe default
    transactions: pd.DataFrame | None = None,
    portfolio: Portfolio | None = None,
) -> pd.DataFrame:
    """Value type, current and future value and the explaining figures per customer.

    See the module docstring for the input columns, the rules and the output columns.
    `transactions` (`TRANSACTION_COLUMNS`), when the history was summed from them, gives
    the irregular customers the repeat-buying forecast from the purchase days (BG/NBD x
    Gamma-Gamma) instead of the months. `portfolio` gives the portfolio-wide figures when
    `history` holds a part of the customers (see `Portfolio`).
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1 period")
    if portfolio is not None and transactions is not None:
        raise ValueError("a portfolio part is analysed without transactions")
    return _analyse(history, as_of, horizon, thresholds, transactions, portfolio, stage=None)


def portfolio_parts(
    history: pd.DataFrame | Matrix,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    thresholds: Thresholds,
    portfolio: Portfolio,
    stage: Literal[1, 2],
) -> dict[str, np.ndarray]:
    """What the customers of `history` (a part of the portfolio) contribute to the
    portfolio-wide figures, computed only as far as they need (customers/chunked.py):

    - stage 1, before any portfolio-wide figure: the current rates of the customers with
      a full window (the medians) and their rounded margin ratios (the ranks);
    - stage 2, with `portfolio`'s references: the current values of the steady customers
      with margins (the pearls' ceiling) and the figures of the customers the monthly
      repeat-buying models are fitted on.

    Computed as `analyse()` computes them, up to where they are complete (no forecast).
    """
    return _analyse(history, as_of, horizon, thresholds, None, portfolio, stage=stage)


def portfolio_from_parts(
    portfolio: Portfolio,
    parts: list[dict[str, np.ndarray]],
    thresholds: Thresholds,
    *,
    stage: Literal[1, 2],
) -> Portfolio:
    """`portfolio` with the figures of `stage` taken from the `portfolio_parts` of all
    parts of the portfolio (in the customers' order): after stage 1 the references (the
    medians) and the sorted margin ratios, after stage 2 the pearls' ceiling and the
    monthly repeat-buying models (fitted on the same evenly spaced sample as in one
    process). Medians, quantiles and sorted ratios depend on the set of values only, so
    they are those of the whole portfolio."""

    def joined(name: str) -> np.ndarray:
        return np.concatenate([part[name] for part in parts]) if parts else np.zeros(0)

    if stage == 1:
        return dataclasses.replace(
            portfolio,
            margin_reference=_median(joined("margin_rates")),
            revenue_reference=_median(joined("revenue_rates")),
            margin_ratios=np.sort(joined("ranked_ratios")),
        )
    steady = joined("steady_margin_values")
    fit = {name: joined(name) for name in ("repeat", "t_x", "n", "count", "value")}
    return dataclasses.replace(
        portfolio,
        pearl_ceiling=(
            np.quantile(steady, thresholds.pearl_max_value_quantile) if len(steady) else -np.inf
        ),
        repeat_buying=_repeat_buying_fit(fit, thresholds),
    )


def _current_figures(
    m: Matrix, periods: np.ndarray, th: Thresholds
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The current value and rate per customer, which customers have margins, and their
    part of the medians and the margin-ratio ranks (stage 1 of `portfolio_parts`)."""
    width = m.value.shape[1]
    current_value = m.value[:, max(width - CURRENT_PERIODS, 0) :].sum(axis=1)
    by_margin = ~np.isnan(m.margin_ratio)
    window = np.clip(np.minimum(periods, CURRENT_PERIODS), 1, None)
    current_rate = current_value / window
    full = periods >= CURRENT_PERIODS
    ranked = by_margin & (periods >= th.min_periods)
    parts = {
        "margin_rates": current_rate[full & by_margin],
        "revenue_rates": m.recent_revenue[full] / CURRENT_PERIODS,
        # Ratios within a hundredth of a percentage point are equal (rounding noise).
        "ranked_ratios": np.round(m.margin_ratio[ranked], 4),
    }
    return current_value, current_rate, by_margin, parts


def _analyse(
    history: pd.DataFrame | Matrix,
    as_of: pd.Timestamp,
    horizon: int,
    th: Thresholds,
    transactions: pd.DataFrame | None,
    portfolio: Portfolio | None,
    *,
    stage: Literal[1, 2] | None,
) -> Any:
    """`analyse()`, or with `stage` the portfolio parts of `portfolio_parts()`."""
    m = history if isinstance(history, Matrix) else pivot(history, as_of)
    if portfolio is not None:
        m = _widen(m, as_of, portfolio.first_period)
    x = m.value
    n_customers, width = x.shape
    rows = np.arange(n_customers)
    t = np.arange(width)

    any_business = m.business.any(axis=1)
    first = np.where(any_business, np.argmax(m.business, axis=1), width)
    periods = width - first
    safe_first = np.minimum(first, width - 1)
    stop = np.full(n_customers, width)
    valid = t[None, :] >= first[:, None]
    span = np.maximum(periods, 1).astype(np.float64)
    current_value, current_rate, by_margin, current_parts = _current_figures(m, periods, th)
    if stage == 1:
        return current_parts

    px = _prefix(x)
    # Over the whole history (the value is 0 before the first business): row sums.
    x_total, tx_total, xx_total = px[:, -1], x @ t.astype(np.float64), np.einsum("ij,ij->i", x, x)
    active_share = np.where(periods > 0, (m.business & valid).sum(axis=1) / span, 0.0)
    # The shape (trend, peak, rise and fall) of a regular buyer is judged with short gaps
    # bridged: a month or two without business between months with business is a gap,
    # not a change of course. An irregular buyer's months are its shape.
    regular_buyer = active_share >= th.regular_min_active_share
    xs = _bridge_gaps(x, m.business & regular_buyer[:, None], th.gap_max_periods)
    sx = _prefix(xs)
    stx = _prefix(xs * t[None, :])
    sxx = _prefix(xs * xs)

    raw_mean = np.where(periods > 0, _window_sum(px, safe_first, stop) / span, 0.0)
    whole = _trend(sx, stx, sxx, safe_first, stop)
    mean_value = raw_mean
    shape_mean = np.where(periods > 0, whole.mean, 0.0)
    trend_slope = _relative(whole.slope, shape_mean)
    var = np.maximum(xx_total / span - mean_value**2, 0.0)
    cv = _relative(np.sqrt(var), mean_value)
    # Mean change from one period to the next relative to the mean absolute value.
    steps = valid[:, 1:] & valid[:, :-1]
    step_size = np.where(steps, np.abs(np.diff(x, axis=1)), 0.0).sum(axis=1)
    mean_abs = np.where(valid, np.abs(x), 0.0).sum(axis=1) / span
    roughness = _relative(step_size / np.maximum(steps.sum(axis=1), 1), mean_abs)

    # A parabola through the history: is the value still rising at the end, or does it
    # flatten out as after a start-up phase?
    end_slope, curvature_t = _quadratic(xs, first)
    end_slope = _relative(end_slope, shape_mean)

    recent_start = np.maximum(width - th.recent_periods, safe_first)
    recent_level = _window_sum(sx, recent_start, stop) / (stop - recent_start)
    level_n = np.clip(np.minimum(th.level_periods, periods // 2), 1, None)
    level = _window_sum(px, width - level_n, stop) / level_n

    # Peak of the smoothed value (centred moving mean inside the customer's history).
    half = th.smoothing_window // 2
    lo = np.minimum(np.maximum(t[None, :] - half, first[:, None]), width - 1)
    hi = np.maximum(np.minimum(t[None, :] + half + 1, width), lo + 1)
    smooth = (np.take_along_axis(sx, hi, axis=1) - np.take_along_axis(sx, lo, axis=1)) / (hi - lo)
    peak = np.argmax(np.where(valid, smooth, -np.inf), axis=1)
    peak_level = smooth[rows, peak]
    # The level goes back further than the later half where the value was already there:
    # to the end of the start-up phase (the last smoothed value below
    # [level_min_share] of the later half's level, and the smoothing window after it),
    # at most [level_periods]. A longer mean is a steadier one. (Not for a level of zero
    # or less: a loss is no start-up phase.)
    below = valid & (t[None, :] < (width - level_n)[:, None])
    below &= smooth < th.level_min_share * level[:, None]
    after_ramp = np.where(below.any(axis=1), width - np.argmax(below[:, ::-1], axis=1) + half, 0)
    begin = np.maximum(np.maximum(after_ramp, width - th.level_periods), first)
    level_n = np.where(level > 0, np.maximum(level_n, width - begin), level_n)
    level = _window_sum(px, width - level_n, stop) / level_n
    start_n = np.clip(np.minimum(th.start_periods, periods), 1, None)
    start_level = _window_sum(sx, safe_first, safe_first + start_n) / start_n
    peak_position = np.where(periods > 1, (peak - first) / np.maximum(periods - 1, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rise_to_peak = np.where(peak_level > 0, np.maximum(1 - start_level / peak_level, 0), 0.0)
        decline_from_peak = np.where(peak_level > 0, 1 - recent_level / peak_level, 0.0)
    fall = _trend(sx, stx, sxx, peak, stop)
    fall_slope = _relative(fall.slope, fall.mean)

    seasonal_strength, cycle_length = _seasonality(x, first)

    # The value basis: contribution margin where the data has margins, else revenue.
    value_basis = np.where(by_margin, MARGIN_BASIS, REVENUE_BASIS)

    # Value in money over the current window against the portfolio's typical customer on
    # the same basis: the median over the customers with a full window (margin against the
    # customers with margins, revenue against every customer's revenue), per period.
    if portfolio is None:
        margin_reference = _median(current_parts["margin_rates"])
        revenue_reference = _median(current_parts["revenue_rates"])
    else:
        margin_reference = portfolio.margin_reference
        revenue_reference = portfolio.revenue_reference
    reference = np.where(by_margin, margin_reference, revenue_reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_value = np.where(reference > 0, current_rate / reference, np.nan)

    # Swings: months without business between the first and the last business.
    last_business = width - 1 - np.argmax(m.business[:, ::-1], axis=1)
    inner = np.maximum(last_business - first + 1, 1)
    zero_share = np.where(periods > 0, 1.0 - (m.business & valid).sum(axis=1) / inner, 0.0).clip(
        0.0, 1.0
    )

    # Margin ratio: its rank among the customers with margins (the share of them with a
    # lower ratio), and its change from the
    # earlier periods to the current window (percentage points as a fraction).
    margin_ratio_rank = np.full(n_customers, np.nan)
    ratios = (
        np.sort(current_parts["ranked_ratios"]) if portfolio is None else portfolio.margin_ratios
    )
    if len(ratios):
        own = np.round(m.margin_ratio[by_margin], 4)
        margin_ratio_rank[by_margin] = np.searchsorted(ratios, own, side="left") / len(ratios)
    margin_ratio_change = m.recent_margin_ratio - m.earlier_margin_ratio

    insufficient = periods < th.min_periods
    falling = (trend_slope <= -th.trend_min_slope) & (whole.t <= -th.trend_min_t)
    loyal = (periods >= th.burr_min_periods) & (active_share >= th.burr_min_active_share)
    # A burr's value is tiny in money (not in ratio): negative over the current window,
    # or a small share of the typical customer's and always so: a customer whose value
    # fell from more than that (its smoothed peak) to a tiny one is shrinking, no burr.
    with np.errstate(divide="ignore", invalid="ignore"):
        peak_relative = np.where(reference > 0, peak_level / reference, np.nan)
    fallen = falling & ~(peak_relative <= th.burr_max_relative_value)
    burr = loyal & (
        (current_value < 0) | ((relative_value <= th.burr_max_relative_value) & ~fallen)
    )
    thin_margin = (
        by_margin
        & ~insufficient
        & ~burr
        & (m.margin_ratio <= th.thin_margin_max_ratio)
        & (relative_value >= th.thin_margin_min_relative_value)
    )
    seasonal = (
        (seasonal_strength >= th.cyclic_min_strength)
        & (cv >= th.cyclic_min_cv)
        & (periods >= np.maximum(2 * cycle_length, th.cyclic_min_periods))
    )
    # Strong swings (many months without business, or a high variation) without a clear
    # trend are cyclic: projects, budgets, big orders now and then.
    # (On the months as they are: here the months without business are the swing.)
    raw = _line(safe_first, stop, x_total, tx_total, xx_total)
    swing_trend = (np.abs(_relative(raw.slope, raw_mean)) >= th.trend_min_slope) & (
        np.abs(raw.t) >= th.cyclic_swing_max_trend_t
    )
    long_enough = periods >= th.cyclic_swing_min_periods
    intermittent = long_enough & (zero_share >= th.cyclic_min_zero_share) & ~swing_trend
    swinging = long_enough & (cv >= th.cyclic_swing_min_cv) & ~swing_trend
    cyclic = seasonal | intermittent
    bell = (
        (rise_to_peak >= th.bell_min_rise)
        & (peak - first >= th.bell_min_rise_periods)
        & (decline_from_peak >= th.bell_min_decline)
        & (fall_slope <= -th.bell_min_fall_slope)
        & (fall.t <= -th.bell_min_fall_t)
    )
    shrinking = falling & (decline_from_peak >= th.shrinking_min_decline)
    growth = (
        (trend_slope >= th.trend_min_slope)
        & (whole.t >= np.where(regular_buyer, th.growth_min_t, th.trend_min_t))
        & (end_slope >= th.growth_min_end_slope)
        & (curvature_t >= -th.growth_max_flattening_t)
        & (peak_position >= th.growth_min_peak_position)
    )
    kind = np.select(
        [insufficient, burr, cyclic, bell, shrinking, growth, swinging],
        [
            VALUE_TYPES.index(c)
            for c in (INSUFFICIENT_DATA, BURR, CYCLIC, BELL, SHRINKING, GROWTH, CYCLIC)
        ],
        default=VALUE_TYPES.index(STEADY),
    )
    is_kind = {code: kind == VALUE_TYPES.index(code) for code in VALUE_TYPES}
    regular_cycle = is_kind[CYCLIC] & seasonal

    # Erratic values without a trend are irregular buying; a trend (growth, bell,
    # shrinking) on months with business in most periods is the type's own forecast.
    trend_type = np.isin(kind, [VALUE_TYPES.index(c) for c in (GROWTH, BELL, SHRINKING)])
    irregular = (
        (periods > 0)
        & (
            (active_share < th.regular_min_active_share)
            | ((roughness >= th.erratic_min_roughness) & ~trend_type)
            | (periods < th.type_forecast_min_periods)
        )
        # A regular cycle repeats; projects and big orders now and then are irregular
        # buying, which the repeat-buying models describe.
        & ~regular_cycle
        & ~np.isin(kind, [VALUE_TYPES.index(c) for c in (BURR, INSUFFICIENT_DATA)])
    )
    steady_margin = is_kind[STEADY] & by_margin
    if stage == 2:
        # What these customers contribute to the portfolio-wide figures after the types.
        fit_rows, figures = _repeat_buying_rows(x, m.business & valid, first, irregular)
        return {
            "steady_margin_values": current_value[steady_margin],
            **{name: values[fit_rows] for name, values in figures.items()},
        }

    path = _forecast(
        x,
        kind,
        peak,
        horizon=horizon,
        thresholds=th,
        level=np.where(is_kind[INSUFFICIENT_DATA], mean_value, level),
        first=first,
        px=px,
        shape=xs,
        business=m.business,
        regular_cycle=regular_cycle,
    )

    method = np.full(n_customers, "type", dtype=object)
    repeat_path = None
    if transactions is not None:
        repeat_path = _repeat_buying_daily(
            transactions, m.ids, irregular, m.value_ratio, as_of=as_of, horizon=horizon, th=th
        )
    if portfolio is not None:
        if portfolio.repeat_buying is not None:
            repeat_path = _repeat_buying(
                x, m.business & valid, first, irregular, horizon, th, portfolio.repeat_buying
            )
    elif repeat_path is None:
        repeat_path = _repeat_buying(x, m.business & valid, first, irregular, horizon, th)
    if repeat_path is not None:
        usable = irregular & np.isfinite(repeat_path).all(axis=1)
        path[usable] = repeat_path[usable]
        method[usable] = "repeat_buying"

    # The forecast follows the type's direction: a growth customer's future value per
    # period lies above its current one, a bell or shrinking customer's does not, and a
    # customer with too little data is forecast at its mean per period since the first
    # business, but over the whole horizon at most [short_history_max_future] times what
    # it brought so far (2: a 4-month customer is not forecast at three times its value,
    # its run rate, but at its pace for half a year).
    # Where the model disagrees, the type wins and the customer is marked uncertain with
    # the model's own figure.
    model_future = path.sum(axis=1)
    future_rate = model_future / horizon
    reason = np.full(n_customers, "", dtype=object)
    too_low = is_kind[GROWTH] & ~(future_rate > current_rate)
    if too_low.any():
        # The slowest growth the type allows: the current rate rising by trend_min_slope
        # per period.
        rate = np.maximum(current_rate[too_low], 0.0)[:, None]
        floor = rate * (1.0 + th.trend_min_slope) ** np.arange(1, horizon + 1)[None, :]
        path[too_low] = np.maximum(path[too_low], floor)
        reason[too_low] = "model_below_growth"
    too_high = (is_kind[BELL] | is_kind[SHRINKING]) & (future_rate > current_rate)
    if too_high.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.maximum(current_rate[too_high], 0.0) / future_rate[too_high]
        path[too_high] *= np.nan_to_num(scale, nan=0.0, posinf=0.0)[:, None]
        reason[too_high] = "model_above_fall"
    short = is_kind[INSUFFICIENT_DATA]
    so_far = np.maximum(current_value[short], 0.0) * th.short_history_max_future / horizon
    cap = np.minimum(np.maximum(mean_value[short], 0.0), so_far)
    path[short] = np.minimum(path[short], cap[:, None])
    reason[short & (periods > 0)] = "short_history"
    forecast_uncertain = reason != ""
    corrected = too_low | too_high
    model_future_value = np.where(corrected, model_future, np.nan)

    if portfolio is not None:
        pearl_ceiling = portfolio.pearl_ceiling
    elif steady_margin.any():
        pearl_ceiling = np.quantile(current_value[steady_margin], th.pearl_max_value_quantile)
    else:
        pearl_ceiling = -np.inf
    better_than_it_looks = (margin_ratio_rank >= th.pearl_min_ratio_rank) | (
        margin_ratio_change >= th.pearl_min_ratio_rise
    )
    hidden_pearl = (
        steady_margin
        & (periods >= th.pearl_min_periods)
        & (current_value > 0)
        & (current_value <= pearl_ceiling)
        & better_than_it_looks
    )

    result = pd.DataFrame(
        {
            "value_type": pd.array(np.asarray(VALUE_TYPES, dtype=object)[kind], dtype=str),
            "current_value": current_value,
            "future_value": path.sum(axis=1),
            VALUE_BASIS: pd.array(value_basis.astype(object), dtype=str),
            "hidden_pearl": hidden_pearl,
            "cost_review": is_kind[BURR],
            "thin_margin": thin_margin,
            "forecast_uncertain": forecast_uncertain,
            "periods": periods,
            "active_share": active_share,
            "mean_value": mean_value,
            "recent_level": recent_level,
            "relative_value": relative_value,
            "margin_ratio": m.margin_ratio,
            "margin_ratio_rank": margin_ratio_rank,
            "margin_ratio_change": margin_ratio_change,
            "trend_slope": trend_slope,
            "trend_r2": whole.r2,
            "trend_t": whole.t,
            "end_slope": end_slope,
            "curvature_t": curvature_t,
            "peak_position": peak_position,
            "rise_to_peak": rise_to_peak,
            "decline_from_peak": decline_from_peak,
            "fall_slope": fall_slope,
            "fall_t": fall.t,
            "seasonal_strength": seasonal_strength,
            "cycle_length": np.where(is_kind[CYCLIC] & ~seasonal, 0, cycle_length),
            "cv": cv,
            "zero_share": zero_share,
            "roughness": roughness,
            "forecast_method": pd.array(method, dtype=str),
            "forecast_uncertain_reason": pd.array(reason, dtype=str),
            "model_future_value": model_future_value,
            FORECAST_PATH: np.round(path, 2).tolist(),  # plain floats: JSON-ready
        },
        index=m.ids,
    )
    return result


def _bridge_gaps(x: np.ndarray, business: np.ndarray, max_periods: int) -> np.ndarray:
    """`x` with runs of at most `max_periods` periods without business between two
    periods with business replaced by the straight line between those two values."""
    if max_periods < 1:
        return x
    width = x.shape[1]
    t = np.arange(width, dtype=np.int16 if width < 2**15 - 1 else np.int64)
    previous = np.maximum.accumulate(np.where(business, t, -1).astype(t.dtype), axis=1)
    following = np.where(business, t, width).astype(t.dtype)
    following = np.minimum.accumulate(following[:, ::-1], axis=1)[:, ::-1]
    gap = ~business & (previous >= 0) & (following < width)
    gap &= following - previous - 1 <= max_periods
    if not gap.any():
        return x
    rows, cols = np.nonzero(gap)
    before, after = previous[rows, cols], following[rows, cols]
    share = (cols - before) / (after - before)
    out = x.copy()
    out[rows, cols] = x[rows, before] + share * (x[rows, after] - x[rows, before])
    return out


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if len(values) else np.nan


def _quadratic(x: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares parabola over each customer's history: (end slope, curvature t).

    The slope at `as_of` is in value per period; the curvature t statistic is negative
    when the value flattens out or turns down (concave), positive when it accelerates.
    Time is centred and scaled to -1..1 per customer so the 3x3 systems are well posed.
    """
    n_customers, width = x.shape
    t = np.arange(width, dtype=np.float64)[None, :]
    # The time axis u depends on the first period alone: its rows and moments once per
    # distinct first period (a few dozen), then taken for each customer.
    firsts, which = np.unique(first, return_inverse=True)
    which = which.reshape(-1)
    n_first = (width - firsts).astype(np.float64)
    centre = (firsts + width - 1) / 2.0
    scale_first = np.maximum((n_first - 1) / 2.0, 1.0)
    u_first = np.where(t >= firsts[:, None], (t - centre[:, None]) / scale_first[:, None], 0.0)
    u2_first = u_first * u_first
    moments = [
        (width - first).astype(np.float64),
        *(
            m[which]
            for m in (
                u_first.sum(1),
                u2_first.sum(1),
                (u2_first * u_first).sum(1),
                (u2_first * u2_first).sum(1),
            )
        ),
    ]
    n, scale = moments[0], scale_first[which]
    gram = np.stack(
        [np.stack([moments[i + j] for j in range(3)], axis=-1) for i in range(3)], axis=-2
    )
    u = u_first[which]
    rhs = np.stack([x.sum(1), (x * u).sum(1), (x * np.multiply(u, u, out=u)).sum(1)], axis=-1)
    del u
    # Too short for a parabola: make the system solvable; the rules never look at them.
    short = n < 4
    gram[short] = np.eye(3)
    rhs[short] = 0.0
    inverse = np.linalg.inv(gram)
    beta = np.einsum("nij,nj->ni", inverse, rhs)
    sse = np.maximum((x * x).sum(1) - (beta * rhs).sum(1), 0.0)
    sigma2 = sse / np.maximum(n - 3, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        curvature_t = beta[:, 2] / np.sqrt(sigma2 * inverse[:, 2, 2])
    curvature_t = np.where(np.isfinite(curvature_t), curvature_t, 0.0)
    end_slope = (beta[:, 1] + 2 * beta[:, 2]) / scale  # d/dt at u = 1
    return end_slope, np.clip(curvature_t, -_MAX_T, _MAX_T)


def _repeat_buying_rows(
    x: np.ndarray, active: np.ndarray, first: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The customers of `rows` the monthly models are fitted on and forecast for (a mask),
    and per customer the figures they take (`repeat`, `t_x`, `n`, `count`, `value`)."""
    width = x.shape[1]
    count = active.sum(axis=1)
    value_per_period = np.where(count > 0, x.sum(axis=1) / np.maximum(count, 1), 0.0)
    fit_rows = rows & (count > 0) & (value_per_period > 0)
    last = width - 1 - np.argmax(active[:, ::-1], axis=1)
    figures = {
        "repeat": (count - 1).astype(np.float64),
        "t_x": (last - first).astype(np.float64),
        "n": (width - 1 - first).astype(np.float64),
        "count": count,
        "value": value_per_period,
    }
    return fit_rows, figures


def _repeat_buying_fit(figures: Mapping[str, np.ndarray], th: Thresholds) -> tuple | None:
    """The monthly models (BG/BB, Gamma-Gamma) fitted on the customers in `figures`
    (`_repeat_buying_rows`' figures of the fit rows, in the customers' order), or None
    when there are too few of them or a fit fails."""
    if len(figures["repeat"]) < th.repeat_buying_min_customers:
        return None
    # The population parameters need no more than a few thousand customers; an evenly
    # spaced sample of them keeps a large portfolio's fit fast (it costs per distinct
    # history, and project customers make many).
    sample = np.arange(len(figures["repeat"]))
    if len(sample) > th.repeat_buying_max_fit_customers:
        pick = np.linspace(0, len(sample) - 1, th.repeat_buying_max_fit_customers)
        sample = sample[np.round(pick).astype(np.int64)]
    f = {name: values[sample] for name, values in figures.items()}
    try:
        periods_model = bgnbd.fit_bgbb(f["repeat"], f["t_x"], f["n"])
        spend_model = bgnbd.fit_gamma_gamma(f["count"], f["value"])
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return None
    return periods_model, spend_model


def _repeat_buying(
    x: np.ndarray,
    active: np.ndarray,
    first: np.ndarray,
    rows: np.ndarray,
    horizon: int,
    th: Thresholds,
    models: tuple | None = None,
) -> np.ndarray | None:
    """Forecast per future period from the repeat-buying models, for `rows` (else NaN).

    BG/BB (which periods have business) x Gamma-Gamma (value per period with business),
    both fitted on the customers in `rows` unless `models` are given; see
    customers/bgnbd.py. None when there are too few such customers to fit the population
    parameters.
    """
    n_customers = x.shape[0]
    fit_rows, figures = _repeat_buying_rows(x, active, first, rows)
    if models is None:
        models = _repeat_buying_fit({k: v[fit_rows] for k, v in figures.items()}, th)
        if models is None:
            return None
    periods_model, spend_model = models
    count, value_per_period = figures["count"], figures["value"]
    repeat, t_x, n = figures["repeat"], figures["t_x"], figures["n"]
    # Every period with business tells about the customer's value level, the first too
    # (unlike CDNOW's first purchases, a B2B customer's first month is an ordinary one).
    spend = bgnbd.expected_spend(spend_model, count[fit_rows], value_per_period[fit_rows])
    # Expected periods with business among the next 1..horizon, on the distinct
    # (x, t_x, n) so that 100,000 customers cost a few hundred evaluations.
    keys = np.column_stack([repeat[fit_rows], t_x[fit_rows], n[fit_rows]])
    distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
    h = np.arange(1, horizon + 1, dtype=np.float64)[None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        cumulative = bgnbd.bgbb_expected_purchases(
            periods_model, h, distinct[:, 0], distinct[:, 1], distinct[:, 2]
        )
    per_period = np.diff(cumulative, axis=1, prepend=0.0)[inverse.ravel()]
    out = np.full((n_customers, horizon), np.nan)
    out[fit_rows] = per_period * spend[:, None]
    return out


def _repeat_buying_daily(
    transactions: pd.DataFrame,
    ids: pd.Index,
    rows: np.ndarray,
    value_ratio: np.ndarray,
    *,
    as_of: pd.Timestamp,
    horizon: int,
    th: Thresholds,
) -> np.ndarray | None:
    """Forecast per future month from the purchase days, for `rows` (else NaN).

    BG/NBD (purchases) x Gamma-Gamma (revenue per purchase) x `value_ratio`, both fitted
    on the customers in `rows` that have a purchase up to the end of the `as_of` month;
    see the module docstring. None when there are too few of them or a fit fails.
    """
    n_customers = len(ids)
    # Last days of the as_of month and of the `horizon` months after it, as day numbers.
    month = np.datetime64(pd.Timestamp(as_of), "M")
    month_ends = (month + np.arange(1, horizon + 2)).astype("datetime64[D]") - 1
    month_ends = month_ends.astype(np.int64)
    end = month_ends[0]

    code = ids.get_indexer(transactions[CUSTOMER_ID].astype(str))
    day = pd.to_datetime(transactions[DATE]).to_numpy().astype("datetime64[D]").astype(np.int64)
    amount = transactions[AMOUNT].to_numpy(dtype=np.float64)
    keep = (code >= 0) & (day <= end) & np.isfinite(amount)
    keep[keep] = rows[code[keep]]
    frame = pd.DataFrame({"customer": code[keep], "day": day[keep], "amount": amount[keep]})
    daily = frame.groupby(["customer", "day"], sort=True)["amount"].sum().reset_index()
    # A purchase is a day that brought revenue; a day with only returns is none.
    daily = daily[daily["amount"] > 0]
    stats = daily.groupby("customer", sort=True).agg(
        first=("day", "min"),
        last=("day", "max"),
        days=("day", "size"),
        total=("amount", "sum"),
        first_amount=("amount", "first"),
    )
    customers = stats.index.to_numpy()
    if len(customers) < th.repeat_buying_min_customers:
        return None
    frequency = (stats["days"] - 1).to_numpy(dtype=np.float64)
    recency = (stats["last"] - stats["first"]).to_numpy() / _WEEK_DAYS
    age = (end - stats["first"]).to_numpy() / _WEEK_DAYS
    # Mean revenue of the repeat purchases, as Gamma-Gamma is published.
    monetary = np.where(
        frequency > 0,
        (stats["total"] - stats["first_amount"]).to_numpy() / np.maximum(frequency, 1),
        0.0,
    )
    if not (frequency > 0).any():
        return None
    try:
        purchases_model = bgnbd.fit_bgnbd(frequency, recency, age)
        spend_model = bgnbd.fit_gamma_gamma(frequency, monetary)
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return None
    if spend_model.q <= 1:  # no finite mean revenue per purchase
        return None
    spend = bgnbd.expected_spend(spend_model, frequency, monetary)
    # Expected purchases up to the end of each future month, on the distinct
    # (x, t_x, T), then per month.
    keys = np.column_stack([frequency, recency, age])
    distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
    t = ((month_ends[1:] - end) / _WEEK_DAYS)[None, :]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        cumulative = bgnbd.expected_purchases(
            purchases_model, t, distinct[:, :1], distinct[:, 1:2], distinct[:, 2:]
        )
    per_month = np.diff(cumulative, axis=1, prepend=0.0)[inverse.ravel()]
    out = np.full((n_customers, horizon), np.nan)
    out[customers] = per_month * (spend * value_ratio[customers])[:, None]
    return out


def _seasonality(x: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strongest cycle per customer: (seasonal strength 0..1, cycle length in periods)."""
    n_customers, width = x.shape
    t = np.arange(width)
    gamma: dict[int, np.ndarray] = {}
    pairs: dict[int, np.ndarray] = {}
    for lag in sorted({k for pair in _CYCLES for k in pair}):
        if lag >= width:
            gamma[lag] = np.full(n_customers, np.nan)
            pairs[lag] = np.zeros(n_customers)
            continue
        # Squared differences in place, 0 before the first business: one matrix, not three.
        squared = x[:, lag:] - x[:, :-lag]
        np.multiply(squared, squared, out=squared)
        inside = t[None, lag:] - lag >= first[:, None]
        np.copyto(squared, 0.0, where=~inside)
        count = inside.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma[lag] = squared.sum(axis=1) / count
        del squared
        pairs[lag] = count
    strength = np.zeros(n_customers)
    length = np.zeros(n_customers, dtype=np.int64)
    for cycle, half_lag in _CYCLES:
        g_cycle, g_half = gamma[cycle], gamma[half_lag]
        with np.errstate(divide="ignore", invalid="ignore"):
            score = (g_half - g_cycle) / (g_half + g_cycle)
        # At least one full cycle of pairs, so two cycles of history.
        score = np.where((pairs[cycle] >= cycle) & np.isfinite(score), score, 0.0)
        better = score > strength
        strength = np.where(better, score, strength)
        length = np.where(better, cycle, length)
    return np.clip(strength, 0.0, 1.0), length


def _forecast(
    x: np.ndarray,
    kind: np.ndarray,
    peak: np.ndarray,
    *,
    horizon: int,
    thresholds: Thresholds,
    level: np.ndarray,
    first: np.ndarray,
    px: np.ndarray,
    shape: np.ndarray,
    business: np.ndarray,
    regular_cycle: np.ndarray,
) -> np.ndarray:
    """Forecast value per future period (customers x horizon), following the type."""
    th = thresholds
    n_customers, width = x.shape
    h = np.arange(1, horizon + 1, dtype=np.float64)[None, :]
    stop = np.full(n_customers, width)
    safe_first = np.minimum(first, width - 1)

    # steady, burr, insufficient_data: a level.
    path = np.repeat(level[:, None], horizon, axis=1)

    # growth: a damped trend, straight or exponential, never negative.
    is_growth = kind == VALUE_TYPES.index(GROWTH)
    if is_growth.any():
        path[is_growth] = _trend_path(
            shape[is_growth], business[is_growth], first[is_growth], horizon=horizon, th=th
        )

    # bell: exponential decay from the ratio of the last two windows after the peak.
    after_peak = width - peak
    k = np.clip(after_peak // 2, 1, th.decay_window)
    late = _window_sum(px, width - k, stop) / k
    early_start = np.maximum(width - 2 * k, 0)
    early = _window_sum(px, early_start, width - k) / np.maximum(width - k - early_start, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((early > 0) & (late > 0), late / early, 0.0)
    decay = np.clip(ratio, 0.0, 1.0) ** (1.0 / k)
    # `late` is the mean of the last k periods, centred (k - 1) / 2 periods before as_of.
    now = np.maximum(late, 0.0) * decay ** ((k - 1) / 2.0)
    decay_path = now[:, None] * decay[:, None] ** h
    is_bell = kind == VALUE_TYPES.index(BELL)
    path[is_bell] = decay_path[is_bell]
    # shrinking: the line or exponential through its history, like growth (down to zero:
    # the relationship ends).
    is_shrinking = kind == VALUE_TYPES.index(SHRINKING)
    if is_shrinking.any():
        path[is_shrinking] = _trend_path(
            shape[is_shrinking], business[is_shrinking], first[is_shrinking], horizon=horizon, th=th
        )

    # cyclic: the mean cycle of the last full years (up to [cyclic_years]) again.
    is_cyclic = kind == VALUE_TYPES.index(CYCLIC)
    if is_cyclic.any():
        xc = x[is_cyclic]
        years = np.clip((width - first[is_cyclic]) // CURRENT_PERIODS, 1, th.cyclic_years)
        profile = np.zeros((xc.shape[0], CURRENT_PERIODS))
        for back in range(th.cyclic_years):
            stop_col = width - back * CURRENT_PERIODS
            if stop_col <= 0:
                break
            year = np.zeros_like(profile)
            part = xc[:, max(stop_col - CURRENT_PERIODS, 0) : stop_col]
            year[:, CURRENT_PERIODS - part.shape[1] :] = part
            profile += np.where((back < years)[:, None], year, 0.0)
        profile /= years[:, None]
        cycle_idx = np.arange(horizon) % CURRENT_PERIODS
        path[is_cyclic] = profile[:, cycle_idx]
    # cyclic without a regular cycle (projects, big orders now and then): no month is
    # more likely than another, so the mean over the last years, evenly.
    irregular_cycle = is_cyclic & ~regular_cycle
    if irregular_cycle.any():
        begin = np.maximum(width - th.cyclic_level_periods, safe_first)
        mean = _window_sum(px, begin, stop) / np.maximum(stop - begin, 1)
        path[irregular_cycle] = mean[irregular_cycle, None]
    return path


def _trend_path(
    xs: np.ndarray, business: np.ndarray, first: np.ndarray, *, horizon: int, th: Thresholds
) -> np.ndarray:
    """Forecast per future period of growth and shrinking customers (rows of `xs`, the
    gap-bridged value).

    Over the last [growth_fit_periods] periods: a straight line and an exponential (a line
    through the logs of the positive values), whichever is closer to the values; continued
    from its value at `as_of` with its slope (or rate) damped by [growth_damping] per
    period, times the share of periods with business in the window (gaps go on).
    """
    n, width = xs.shape
    t = np.arange(width, dtype=np.float64)[None, :]
    window = t >= np.maximum(first, width - th.growth_fit_periods)[:, None]
    line_start, line_slope = _least_squares(t, xs, window)
    positive = window & (xs > 0)
    logs = np.log(np.where(positive, xs, 1.0))
    log_start, rate = _least_squares(t, logs, positive)
    residual = np.where(positive, logs - log_start - rate * t, 0.0)
    log_var = (residual**2).sum(axis=1, keepdims=True) / np.maximum(
        positive.sum(axis=1, keepdims=True) - 2, 1
    )
    line_fit = line_start + line_slope * t
    with np.errstate(over="ignore"):
        curve_fit = np.exp(log_start + rate * t)
    line_sse = np.where(window, (xs - line_fit) ** 2, 0.0).sum(axis=1)
    curve_sse = np.where(window, (xs - curve_fit) ** 2, 0.0).sum(axis=1)
    exponential = (curve_sse < line_sse) & (positive.sum(axis=1) >= 3)

    steps = np.cumsum(th.growth_damping ** np.arange(1, horizon + 1, dtype=np.float64))[None, :]
    now = width - 1.0
    straight = line_start + line_slope * (now + steps)
    with np.errstate(over="ignore"):
        curved = np.exp(log_start + rate * (now + steps) + log_var / 2)
    active = (window & business).sum(axis=1) / np.maximum(window.sum(axis=1), 1)
    out = np.where(exponential[:, None], curved, straight) * active[:, None]
    return np.maximum(np.nan_to_num(out, nan=0.0, posinf=0.0), 0.0)


def _least_squares(
    t: np.ndarray, y: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Intercept (at t = 0) and slope of the line through y over the periods in `weight`."""
    w = weight.astype(np.float64)
    sw, st, stt = w.sum(axis=1), (w * t).sum(axis=1), (w * t * t).sum(axis=1)
    sy, sty = (w * y).sum(axis=1), (w * t * y).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = sw * stt - st**2
        slope = np.where(den > 0, (sw * sty - st * sy) / den, 0.0)
        intercept = np.where(sw > 0, (sy - slope * st) / np.maximum(sw, 1e-12), 0.0)
    return intercept[:, None], slope[:, None]


def to_output_frame(result: pd.DataFrame, *, include_path: bool = False) -> pd.DataFrame:
    """The analysis result in the CLI's column order: the four heads, the value basis,
    flags, figures.

    `forecast_path` (the forecast per future period, a list per customer) is left out
    unless asked for: it does not fit a CSV cell, but an assessment may store it.
    """
    frame = result.reset_index()
    columns = [*OUTPUT_HEAD, VALUE_BASIS, *FLAGS, *FIGURES]
    extra = [c for c in frame.columns if c not in columns and c != FORECAST_PATH]
    if include_path:
        extra.append(FORECAST_PATH)
    return frame[[c for c in columns if c in frame.columns] + extra]

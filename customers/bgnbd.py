"""BG/NBD repeat-buying model with the Gamma-Gamma spend model; vectorised, no Django.

The established probabilistic models of customer-base analysis for non-contractual
settings ("buy till you die"), implemented from the papers:

- BG/NBD: P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), "'Counting Your Customers' the
  Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284.
  While alive, a customer buys with Poisson rate lambda ~ Gamma(r, alpha); after each
  purchase they drop out with probability p ~ Beta(a, b). Per customer the data are
  x (repeat purchases), t_x (time of the last purchase) and T (time observed), all
  measured from the customer's first purchase.
  Log-likelihood (their eq. 6), with B the beta function:
      L = Gamma(r+x) alpha^r / Gamma(r) * [ B(a, b+x) / B(a, b) / (alpha+T)^(r+x)
          + [x > 0] B(a+1, b+x-1) / B(a, b) / (alpha+t_x)^(r+x) ]
  Conditional expected purchases in the next t (their eq. 10):
      E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1)
          * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
          / [1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)]
  The bracket is evaluated as 1 - 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T)) (Pfaff's
  transformation 2F1(a, b; c; z) = (1-z)^-a 2F1(a, c-b; c; z/(z-1)) absorbs the power):
  the same number, but finite for customers with thousands of purchases, where the
  power underflows and the original 2F1 overflows.
  Probability alive (their eq. 12 / the denominator above):
      P(alive | x, t_x, T) = 1 / [1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)]
- BG/BB, the discrete-time counterpart for data in periods (did the customer buy in
  this month or not): P. S. Fader, B. G. S. Hardie, J. Shang (2010), "Customer-Base
  Analysis in a Discrete-Time Noncontractual Setting", Marketing Science 29(6),
  1086-1108. While alive, a customer buys in a period with probability p ~ Beta(alpha,
  beta) and dies before a period with probability theta ~ Beta(gamma, delta). Per
  customer: x (periods with a repeat purchase), t_x (the last of them) and n (periods
  observed after the first purchase). Log-likelihood (their eq. 5):
      L = B(alpha+x, beta+n-x) / B(alpha, beta) * B(gamma, delta+n) / B(gamma, delta)
          + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i) / B(alpha, beta)
                                * B(gamma+1, delta+t_x+i) / B(gamma, delta)
  Conditional expected purchase periods among the next n* (their eq. 13):
      E[X(n, n+n*) | x, t_x, n] = 1/L * B(alpha+x+1, beta+n-x) / B(alpha, beta)
          * delta / (gamma-1) * Gamma(gamma+delta) / Gamma(1+delta)
          * [Gamma(1+delta+n) / Gamma(gamma+delta+n)
             - Gamma(1+delta+n+n*) / Gamma(gamma+delta+n+n*)]
- Gamma-Gamma: P. S. Fader, B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary
  Value" (note, brucehardie.com/notes/025); first in Fader, Hardie, Lee (2005), "RFM and
  CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4). Transaction values
  are Gamma(p, nu) with nu ~ Gamma(q, gamma). For a customer with x transactions of mean
  value m_x (their eq. 1 and 3):
      f(m_x | x) = Gamma(px+q) / (Gamma(px) Gamma(q)) gamma^q m_x^(px-1) x^(px)
                   / (gamma + m_x x)^(px+q)
      E[M | m_x, x] = p (gamma + m_x x) / (p x + q - 1)
  (for x = 0 this is the population mean p gamma / (q - 1)).

Both fits are maximum likelihood with scipy.optimize over the log of the parameters, on
the distinct data points weighted by how many customers share them (so 100,000 customers
cost no more than their distinct (x, t_x, T) combinations).

Published estimates reproduced in tests/customers/test_bgnbd_reference.py: BG/NBD on the
CDNOW sample (2,357 customers, 39 weeks of calibration) r = 0.243, alpha = 4.414,
a = 0.793, b = 2.426; Gamma-Gamma on its 946 repeat buyers p = 6.25, q = 3.74,
gamma = 15.44; BG/BB on the donations data of Fader, Hardie and Shang (11,104 donors,
6 years) alpha = 1.204, beta = 0.750, gamma = 0.657, delta = 2.783.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

FREQUENCY = "frequency"  # repeat purchases (distinct purchase times after the first)
RECENCY = "recency"  # time from the first to the last purchase, in units
AGE = "T"  # time from the first purchase to the end of the calibration, in units
MONETARY = "monetary_value"  # mean value of the repeat purchases; 0 without any


@dataclass(frozen=True)
class BGNBD:
    """Fitted BG/NBD parameters (purchase rate Gamma(r, alpha), dropout Beta(a, b))."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class BGBB:
    """Fitted BG/BB parameters (purchase Beta(alpha, beta), dropout Beta(gamma, delta))."""

    alpha: float
    beta: float
    gamma: float
    delta: float


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters (spend Gamma(p, nu), nu ~ Gamma(q, gamma))."""

    p: float
    q: float
    gamma: float


# The objectives are mean log-likelihoods per customer (so the tolerances mean the same
# for 500 customers and for 500,000). L-BFGS-B gets close; the simplex then polishes
# within a bounded number of evaluations, so that a flat surface (a parameter running to
# its bound, as delta does when nobody drops out) cannot keep it going for thousands.
_LBFGS_OPTIONS = {"ftol": 1e-13, "gtol": 1e-9, "maxiter": 1000}
_NM_OPTIONS = {"maxfev": 600, "xatol": 1e-6, "fatol": 1e-12}
# Parameters are fitted as logs within these bounds (e^-12 .. e^12): degenerate data (no
# heterogeneity left) sends some to infinity, where the formulas lose their precision.
_LOG_BOUND = 12.0


def _minimise(negative: Callable[[np.ndarray], float], x0: np.ndarray) -> np.ndarray:
    """L-BFGS-B from x0, then Nelder-Mead from its answer, within the log bounds.

    The gradient method gets close in a few hundred evaluations; the simplex makes
    sure a flat or ragged likelihood surface did not stop it early.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    first = optimize.minimize(
        negative, x0, method="L-BFGS-B", bounds=bounds, options=_LBFGS_OPTIONS
    )
    second = optimize.minimize(
        negative, first.x, method="Nelder-Mead", bounds=bounds, options=_NM_OPTIONS
    )
    return second.x if second.fun <= first.fun else first.x


def rfm_summary(
    customer: pd.Series | np.ndarray,
    when: pd.Series | np.ndarray,
    amount: pd.Series | np.ndarray,
    *,
    end: pd.Timestamp,
    unit_days: float = 7.0,
) -> pd.DataFrame:
    """Frequency, recency, T (in units of `unit_days`) and monetary value per customer.

    Purchases on the same day count as one purchase of their summed amount (the usual
    convention); purchases after `end` are ignored. The monetary value is the mean of
    the repeat purchases (the first purchase is left out, as in Fader and Hardie).
    """
    frame = pd.DataFrame(
        {
            "customer": np.asarray(customer),
            "day": pd.to_datetime(np.asarray(when)).normalize(),
            "amount": np.asarray(amount, dtype=float),
        }
    )
    frame = frame[frame["day"] <= pd.Timestamp(end)]
    daily = frame.groupby(["customer", "day"], sort=True)["amount"].sum().reset_index()
    first_amount = daily.groupby("customer", sort=True)["amount"].first()
    grouped = daily.groupby("customer", sort=True)
    stats = grouped.agg(first=("day", "min"), last=("day", "max"), n=("day", "size"))
    total = grouped["amount"].sum()
    unit = pd.Timedelta(days=unit_days)
    frequency = stats["n"] - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(frequency > 0, (total - first_amount) / frequency, 0.0)
    return pd.DataFrame(
        {
            FREQUENCY: frequency.astype(float),
            RECENCY: (stats["last"] - stats["first"]) / unit,
            AGE: (pd.Timestamp(end) - stats["first"]) / unit,
            MONETARY: monetary,
        },
        index=stats.index.rename("customer_id"),
    )


def _distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns and how many times each occurs."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def bgnbd_log_likelihood(
    params: BGNBD, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Log-likelihood per customer (Fader, Hardie, Lee 2005, eq. 6)."""
    x = np.asarray(x, dtype=float)
    counts, which = np.unique(x, return_inverse=True)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    return _bgnbd_log_likelihood(params, counts, which.reshape(x.shape), x, t_x, T)


def _bgnbd_log_likelihood(
    params: BGNBD,
    counts: np.ndarray,
    which: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
) -> np.ndarray:
    """`bgnbd_log_likelihood` with the distinct x (`counts`, x = counts[which]) given.

    The gamma and beta functions depend on x alone, which takes few distinct values
    (purchase counts): evaluated once per count they cost almost nothing, which makes a
    fit on 100,000 customers several times faster.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    beta_ab = special.betaln(a, b)
    base = special.gammaln(r + counts) - special.gammaln(r) + r * np.log(alpha)
    alive = special.betaln(a, b + counts) - beta_ab
    repeat = counts > 0
    # x = 0 has no second term; b + x - 1 would be invalid there.
    safe = np.where(repeat, counts, 1.0)
    dropped = np.where(repeat, special.betaln(a + 1, b + safe - 1) - beta_ab, -np.inf)
    rx = r + x
    return base[which] + np.logaddexp(
        alive[which] - rx * np.log(alpha + T), dropped[which] - rx * np.log(alpha + t_x)
    )


def fit_bgnbd(
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    *,
    start: BGNBD = BGNBD(1.0, 1.0, 1.0, 1.0),  # noqa: B008 - frozen, so a safe default
) -> BGNBD:
    """Maximum-likelihood BG/NBD parameters for the customers' (x, t_x, T)."""
    (x, t_x, age), weight = _distinct(frequency, recency, T)
    counts, which = np.unique(x, return_inverse=True)
    total_weight = max(float(weight.sum()), 1.0)

    def negative(log_params: np.ndarray) -> float:
        params = BGNBD(*np.exp(log_params))
        ll = _bgnbd_log_likelihood(params, counts, which, x, t_x, age)
        mean = float(np.dot(weight, ll)) / total_weight
        return -mean if np.isfinite(mean) else 1e300

    best = _minimise(negative, np.log([start.r, start.alpha, start.a, start.b]))
    return BGNBD(*(float(v) for v in np.exp(best)))


def expected_purchases(
    params: BGNBD, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchases in the next `t` units given (x, t_x, T) (FHL 2005, eq. 10).

    `t` broadcasts against the customers: pass `t[None, :]` with customers as `[:, None]`
    columns to get several horizons at once. Computed through Pfaff's transformation
    (see the module docstring), which stays finite for very frequent buyers.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    hyp = special.hyp2f1(r + x, a - 1, a + b + x - 1, -np.asarray(t, dtype=float) / (alpha + T))
    numerator = (a + b + x - 1) / (a - 1) * (1 - hyp)
    return numerator * probability_alive(params, x, t_x, T)


def probability_alive(params: BGNBD, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Probability that the customer is still active at T (FHL 2005, eq. 12)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(x, dtype=float)
    repeat = x > 0
    safe_x = np.where(repeat, x, 1.0)
    odds = a / (b + safe_x - 1) * ((alpha + np.asarray(T)) / (alpha + np.asarray(t_x))) ** (r + x)
    return 1.0 / (1.0 + np.where(repeat, odds, 0.0))


def bgbb_log_likelihood(params: BGBB, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Log-likelihood per customer (Fader, Hardie, Shang 2010, eq. 5)."""
    return _BGBBData(x, t_x, n).log_likelihood(params)


class _BGBBData:
    """Customers' (x, t_x, n) prepared for many evaluations of the BG/BB log-likelihood,
    as a fit makes: each beta function of the data is evaluated once per distinct value
    it takes (the data are whole periods: 60 months give a few dozen n), and the sum
    over the periods one may have died before only for the customers with more than one.
    Element by element the same arithmetic as on every customer, so the same numbers."""

    def __init__(self, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> None:
        x, t_x, n = np.broadcast_arrays(*(np.asarray(c, dtype=float) for c in (x, t_x, n)))
        self.shape = x.shape
        x, t_x, n = x.ravel(), t_x.ravel(), n.ravel()
        self.x, self.t_x, self.n = x, t_x, n
        self.n_values, self.n_which = _distinct_rows(n)
        self.t_values, self.t_which = _distinct_rows(t_x)
        self.alive_values, self.alive_which = _distinct_rows(x, n)
        self.died_values, self.died_which = _distinct_rows(x, t_x)
        self.terms = n - t_x  # how many periods the customer may have died before
        self.width = int(np.max(self.terms)) if x.size else 0
        if self.width > 1:
            self.long = np.flatnonzero(self.terms > 1)
            i = np.arange(self.width - 1, dtype=float)[None, :]
            self.i = i
            self.beyond = i + 1 >= self.terms[self.long][:, None]

    def log_likelihood(self, params: BGBB) -> np.ndarray:
        al, be, ga, de = params.alpha, params.beta, params.gamma, params.delta
        beta_ab, beta_gd = special.betaln(al, be), special.betaln(ga, de)
        (x_n, n), (x_t, t) = self.alive_values, self.died_values
        alive = (
            special.betaln(al + x_n, be + n - x_n)[self.alive_which]
            - beta_ab
            + special.betaln(ga, de + self.n_values[0])[self.n_which]
            - beta_gd
        )
        died_0 = (
            special.betaln(al + x_t, be + t - x_t)[self.died_which]
            - beta_ab
            + special.betaln(ga + 1, de + self.t_values[0])[self.t_which]
            - beta_gd
        )
        # Died before one of the periods t_x + 1 .. n (i counts them); one column per i.
        # The terms of the sum fall from the first on: term i+1 / term i is
        # (b1 / (alpha + x + b1)) * (d1 / (gamma + 1 + d1)) with b1 = beta + t_x - x + i
        # and d1 = delta + t_x + i (each beta function's step B(a, b+1) / B(a, b) =
        # b / (a + b)). So the sum is term 0 times 1 + the cumulative products of these
        # ratios (all below 1: no overflow), one column per further term, cheaper than a
        # betaln per term.
        rest = np.zeros_like(self.x)
        if self.width > 1:
            x, t_x, i = self.x[self.long], self.t_x[self.long], self.i
            b1 = (be + t_x - x)[:, None] + i
            d1 = (de + t_x)[:, None] + i
            ratios = np.cumprod((b1 * d1) / ((al + x[:, None] + b1) * (ga + 1 + d1)), axis=1)
            ratios[self.beyond] = 0.0
            rest[self.long] = ratios.sum(axis=1)
        died = np.where(self.terms > 0, died_0 + np.log1p(rest), -np.inf)
        return np.logaddexp(alive, died).reshape(self.shape)


def _distinct_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the columns (as columns) and each row's index among them."""
    stacked = np.column_stack(columns) if columns[0].size else np.zeros((0, len(columns)))
    unique, which = np.unique(stacked, axis=0, return_inverse=True)
    return [unique[:, k] for k in range(len(columns))], which.reshape(-1)


def fit_bgbb(
    x: np.ndarray,
    t_x: np.ndarray,
    n: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    start: BGBB = BGBB(1.0, 1.0, 1.0, 1.0),  # noqa: B008 - frozen, so a safe default
) -> BGBB:
    """Maximum-likelihood BG/BB parameters for the customers' (x, t_x, n).

    `weights` (optional) says how many customers each row stands for, as in the
    published donation data.
    """
    if weights is None:
        (x, t_x, n), weights = _distinct(x, t_x, n)
    else:
        x, t_x, n = (np.asarray(c, dtype=float) for c in (x, t_x, n))
        weights = np.asarray(weights, dtype=float)

    total_weight = max(float(weights.sum()), 1.0)

    data = _BGBBData(x, t_x, n)

    def negative(log_params: np.ndarray) -> float:
        ll = data.log_likelihood(BGBB(*np.exp(log_params)))
        mean = float(np.dot(weights, ll)) / total_weight
        return -mean if np.isfinite(mean) else 1e300

    best = _minimise(negative, np.log([start.alpha, start.beta, start.gamma, start.delta]))
    return BGBB(*(float(v) for v in np.exp(best)))


def bgbb_expected_purchases(
    params: BGBB, n_star: np.ndarray | float, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Expected periods with a purchase among the next `n_star` (FHS 2010, eq. 13).

    `n_star` broadcasts against the customers: pass `h[None, :]` with customers as
    `[:, None]` columns to get every horizon at once.
    """
    al, be, de = params.alpha, params.beta, params.delta
    # The closed form divides by gamma - 1; nudge the (measure-zero) case gamma == 1.
    ga = params.gamma if abs(params.gamma - 1.0) > 1e-9 else 1.0 + 1e-9
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    log_l = bgbb_log_likelihood(params, x, np.asarray(t_x, dtype=float), n)
    log_lead = special.betaln(al + x + 1, be + n - x) - special.betaln(al, be) - log_l
    log_lead += special.gammaln(ga + de) - special.gammaln(1 + de)
    n_star = np.asarray(n_star, dtype=float)
    if log_lead.ndim < n_star.ndim:
        log_lead, n = log_lead[:, None], n[:, None]
    # Gamma ratios in logs, combined before exp: the fitted parameters can be large.
    log_now = special.gammaln(1 + de + n) - special.gammaln(ga + de + n)
    log_later = special.gammaln(1 + de + n + n_star) - special.gammaln(ga + de + n + n_star)
    # now - later = now * (1 - later / now); the sign of (gamma - 1) cancels with it.
    return de / (ga - 1) * np.exp(log_lead + log_now) * -np.expm1(log_later - log_now)


def gamma_gamma_log_likelihood(
    params: GammaGamma, frequency: np.ndarray, monetary: np.ndarray
) -> np.ndarray:
    """Log-likelihood of the mean spend per customer (Fader and Hardie 2013, eq. 3)."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    counts, which = np.unique(x, return_inverse=True)
    return _gamma_gamma_log_likelihood(params, counts, which.reshape(x.shape), x, m, np.log(m))


def _gamma_gamma_log_likelihood(
    params: GammaGamma,
    counts: np.ndarray,
    which: np.ndarray,
    x: np.ndarray,
    m: np.ndarray,
    log_m: np.ndarray,
) -> np.ndarray:
    """`gamma_gamma_log_likelihood` with the distinct x and log(m) given (as for BG/NBD,
    the gamma functions are evaluated once per distinct purchase count)."""
    p, q, gamma = params.p, params.q, params.gamma
    pc = p * counts
    per_count = (
        special.gammaln(pc + q)
        - special.gammaln(pc)
        - special.gammaln(q)
        + q * np.log(gamma)
        + pc * np.log(counts)
    )
    px = p * x
    return per_count[which] + (px - 1) * log_m - (px + q) * np.log(gamma + m * x)


def fit_gamma_gamma(
    frequency: np.ndarray,
    monetary: np.ndarray,
    *,
    start: GammaGamma = GammaGamma(1.0, 1.0, 1.0),  # noqa: B008 - frozen, so a safe default
) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from customers with repeat purchases.

    Customers without a repeat purchase (frequency 0) or with a mean spend <= 0 carry no
    information about spend and are left out.
    """
    frequency = np.asarray(frequency, dtype=float)
    monetary = np.asarray(monetary, dtype=float)
    keep = (frequency > 0) & (monetary > 0)
    (x, m), weight = _distinct(frequency[keep], monetary[keep])
    counts, which = np.unique(x, return_inverse=True)
    # Spend in units of its median: gamma carries the currency unit (p and q do not), so
    # the fit is the same in euros and in cents, and gamma stays far from its log bound
    # (e^12) for portfolios that spend tens of thousands a period.
    unit = float(np.median(m)) if m.size else 1.0
    m = m / unit
    log_m = np.log(m)
    total_weight = max(float(weight.sum()), 1.0)

    def negative(log_params: np.ndarray) -> float:
        params = GammaGamma(*np.exp(log_params))
        ll = _gamma_gamma_log_likelihood(params, counts, which, x, m, log_m)
        mean = float(np.dot(weight, ll)) / total_weight
        return -mean if np.isfinite(mean) else 1e300

    best = _minimise(negative, np.log([start.p, start.q, start.gamma / unit]))
    p, q, gamma = (float(v) for v in np.exp(best))
    return GammaGamma(p, q, gamma * unit)


def expected_spend(params: GammaGamma, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Expected mean spend per future purchase (Fader and Hardie 2013, eq. 5)."""
    p, q, gamma = params.p, params.q, params.gamma
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary, dtype=float), 0.0)
    return p * (gamma + m * x) / (p * x + q - 1)

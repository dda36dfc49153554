"""Demand calibration: orders per day (Poisson or negative binomial), order sizes, seasonality.

For every customer x product of an order history, the daily order counts over the observed
period (days without orders count as zero) are fitted twice:

- **Poisson** with rate lambda (the scenario's ``process: poisson``);
- **negative binomial** with mean mu and size r (variance mu + mu^2/r): the same mean with extra
  day-to-day variability (overdispersion), as when orders come in bursts.

The two are compared by AIC and by the likelihood-ratio test of r = infinity, whose null
distribution sits on the boundary of the parameter space: half a chi-square with one degree of
freedom (Self & Liang, *JASA* 82, 1987).

A yearly seasonality of the scenario's form, rate(d) = lambda (1 + A cos(2 pi (d - peak)/365)), is
fitted by Poisson maximum likelihood (as a cos + b sin, so the fit is smooth) and kept only when
the likelihood-ratio test against a flat rate rejects at 5 % and the history spans a year.

The scenario's demand process is Poisson arrivals with an order-size distribution. Where the
negative binomial wins, its overdispersion is carried by the order sizes: the compound-Poisson
daily quantity has variance lambda E[S^2], so the order-size cv is chosen to give the observed
variance of daily units (moment matching); the report says that this was done.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from supplytwin.calibrate.fitting import fit_family

#: fewest orders for which a stream is fitted
MIN_ORDERS = 30
#: shortest history (days) for which a yearly seasonality is estimated
MIN_SEASONAL_SPAN_DAYS = 365
OMEGA = 2 * math.pi / 365.0


def negbin_fit(y: np.ndarray, mean: np.ndarray) -> tuple[float, float]:
    """(size r, log-likelihood) of the negative binomial with the given daily means, r by
    maximum likelihood (profile over r); r = inf when the data are not overdispersed."""
    ll_pois = float(np.sum(stats.poisson.logpmf(y, mean)))
    if float(np.sum((y - mean) ** 2 - y)) <= 0:  # no variance beyond Poisson's
        return math.inf, ll_pois

    def nll(log_r: float) -> float:
        r = math.exp(log_r)
        return -float(np.sum(special.gammaln(y + r) - special.gammaln(r) - special.gammaln(y + 1)
                             + r * np.log(r / (r + mean)) + y * np.log(mean / (r + mean))))

    excess = float(np.sum((y - mean) ** 2 - y)) / float(np.sum(mean * mean))
    r0 = 1.0 / excess  # method of moments: var = mu + mu^2 / r
    res = optimize.minimize_scalar(nll, bounds=(math.log(r0) - 8, math.log(r0) + 8),
                                   method="bounded")
    if -res.fun < ll_pois:
        return math.inf, ll_pois
    return math.exp(res.x), -float(res.fun)


def seasonal_fit(days_of_year: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(amplitude, peak day, likelihood-ratio p-value) of rate = lam (1 + a cos + b sin)."""
    lam = y.mean()
    c, s = np.cos(OMEGA * days_of_year), np.sin(OMEGA * days_of_year)

    def nll(theta: np.ndarray) -> float:
        lam_t, a, b = theta
        rate = lam_t * (1 + a * c + b * s)
        if lam_t <= 0 or np.any(rate <= 0):
            return 1e300
        return -float(np.sum(y * np.log(rate) - rate))

    res = optimize.minimize(nll, x0=np.array([lam, 0.0, 0.0]), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000})
    flat = -float(np.sum(y * math.log(lam) - lam)) if lam > 0 else 0.0
    lr = max(0.0, 2 * (flat - res.fun))
    _, a, b = res.x
    amplitude = float(min(math.hypot(a, b), 0.95))
    peak = float((math.atan2(b, a) / OMEGA) % 365.0)
    return amplitude, peak, float(stats.chi2.sf(lr, 2))


@dataclass
class DemandFit:
    customer: str
    product: str
    orders: int
    days: int
    status: str = "fitted"
    orders_per_day: float = math.nan
    poisson_aic: float = math.nan
    negbin_aic: float = math.nan
    negbin_size: float = math.nan
    overdispersion_p_value: float = math.nan
    chosen: str = ""
    order_size: str = ""
    order_size_note: str = ""
    seasonality_amplitude: float = 0.0
    seasonality_peak_day: float = 0.0
    seasonality_p_value: float = math.nan
    notes: list[str] = field(default_factory=list)

    def as_row(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "notes"} | {
            "notes": "; ".join(self.notes)}


def _order_size(q: np.ndarray, lam: float, daily_units: np.ndarray, negbin: bool) -> tuple[str, str]:
    if negbin:
        m, v = daily_units.mean(), daily_units.var(ddof=1)
        mean_s = m / lam
        cv2 = v * lam / (m * m) - 1
        if cv2 > 1e-6:
            return (f"gamma(mean={mean_s:.4g}, cv={math.sqrt(cv2):.4g})",
                    ("negative binomial counts: order-size cv set so that the daily units have the "
                    "observed variance (moment matching)"))
    if np.allclose(q, q[0]):
        return f"fixed({q[0]:.4g})", "every order the same size"
    best = min((fit_family(f, q) for f in ("gamma", "lognormal")), key=lambda f: f.aic)
    return best.text, f"{best.family} by AIC on {len(q)} order sizes"


def calibrate_demand(orders: pd.DataFrame) -> list[DemandFit]:
    """Fit every customer x product stream of ``orders`` (columns customer, product,
    order_date, quantity); streams are counted over the whole history's period."""
    start = orders["order_date"].min().normalize()
    end = orders["order_date"].max().normalize()
    all_days = pd.date_range(start, end, freq="D")
    doy = (all_days.day_of_year.to_numpy() - 1).astype(float)
    span = len(all_days)
    out = []
    for (customer, product), g in orders.groupby(["customer", "product"], sort=True):
        fit = DemandFit(str(customer), str(product), len(g), span)
        out.append(fit)
        if len(g) < MIN_ORDERS:
            fit.status = f"too few orders to fit (n={len(g)} < {MIN_ORDERS})"
            continue
        day = g["order_date"].dt.normalize()
        counts = day.value_counts().reindex(all_days, fill_value=0).to_numpy(dtype=float)
        units = g.groupby(day)["quantity"].sum().reindex(all_days, fill_value=0.0).to_numpy()
        lam = float(counts.mean())
        fit.orders_per_day = lam
        shape = np.ones_like(counts)
        if span >= MIN_SEASONAL_SPAN_DAYS:
            amp, peak, p = seasonal_fit(doy, counts)
            fit.seasonality_p_value = p
            if p < 0.05:
                fit.seasonality_amplitude, fit.seasonality_peak_day = amp, peak
                shape = 1 + amp * np.cos(OMEGA * (doy - peak))
            else:
                fit.notes.append(f"no significant yearly seasonality (p={p:.2g})")
        else:
            fit.notes.append(f"history of {span} days: too short for a yearly seasonality")
        # Poisson against negative binomial on the same (seasonal) daily means, so that a
        # seasonality is not mistaken for overdispersion
        mean = lam * shape / shape.mean()
        ll_p = float(np.sum(stats.poisson.logpmf(counts, mean)))
        r, ll_nb = negbin_fit(counts, mean)
        k = 1 + (2 if fit.seasonality_amplitude else 0)
        fit.poisson_aic = 2 * k - 2 * ll_p
        fit.negbin_aic = 2 * (k + 1) - 2 * ll_nb
        fit.negbin_size = r
        fit.overdispersion_p_value = float(0.5 * stats.chi2.sf(max(0.0, 2 * (ll_nb - ll_p)), 1))
        fit.chosen = "negative_binomial" if fit.negbin_aic < fit.poisson_aic else "poisson"
        fit.order_size, fit.order_size_note = _order_size(
            g["quantity"].to_numpy(dtype=float), lam, units / shape,
            fit.chosen == "negative_binomial")
    return out


def demand_rows(fits: list[DemandFit]) -> pd.DataFrame:
    """The fitted streams as rows of the scenario's demand table (``process: poisson``)."""
    from supplytwin.calibrate.lanes import slug

    rows = [{
        "customer_id": slug(f.customer), "product_id": slug(f.product), "process": "poisson",
        "orders_per_day": round(f.orders_per_day, 6), "order_size_units": f.order_size,
        "seasonality_amplitude": round(f.seasonality_amplitude, 4),
        "seasonality_peak_day": round(f.seasonality_peak_day, 1),
    } for f in fits if f.status == "fitted"]
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "process", "orders_per_day",
                                       "order_size_units", "seasonality_amplitude",
                                       "seasonality_peak_day"])

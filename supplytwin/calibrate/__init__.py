"""Calibration: learn a scenario's parameters from what really happened.

A simulation model becomes a twin when its parameters come from the real system and it says how
well it predicts it. This package reads histories a planner already has and turns them into
scenario parameters:

- :mod:`~supplytwin.calibrate.history` reads a shipment or order history (any CSV, columns named
  with a ``COLUMN=FIELD`` map), cleans text flags out of dates and numbers and reports every row
  it drops and why;
- :mod:`~supplytwin.calibrate.fitting` fits transit-time distributions by maximum likelihood
  (lognormal, gamma, Weibull, exponential), picks one by AIC and tests its goodness of fit with a
  parametric-bootstrap Kolmogorov-Smirnov test;
- :mod:`~supplytwin.calibrate.lanes` calibrates lanes (transit times per lane and mode, on-time
  rates, delays) and writes them in the scenario format;
- :mod:`~supplytwin.calibrate.demand` fits demand per customer and product (Poisson against
  negative binomial, yearly seasonality) and writes demand rows;
- :mod:`~supplytwin.calibrate.backtest` calibrates on an earlier period and scores the prediction
  of a later one (errors and prediction-interval coverage);
- :mod:`~supplytwin.calibrate.monitor` checks newer actuals against a calibration's prediction
  intervals and flags drift.

Nothing here imports the simulator: a calibration is data in, parameters and evidence out.
"""

from supplytwin.calibrate.history import (
    ORDER_FIELDS,
    SCMS_ORDER_MAP,
    SCMS_SHIPMENT_MAP,
    SHIPMENT_FIELDS,
    CleaningReport,
    read_orders,
    read_shipments,
)

__all__ = [
    "ORDER_FIELDS", "SCMS_ORDER_MAP", "SCMS_SHIPMENT_MAP", "SHIPMENT_FIELDS", "CleaningReport",
    "read_orders", "read_shipments",
]

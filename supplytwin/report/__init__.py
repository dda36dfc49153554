"""Human-readable outputs: KPI reference documentation (and, later, HTML reports)."""

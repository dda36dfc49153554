"""The result of a battery in one plain structure: what-ifs, node risks, breaches, headline.

:func:`node_risks` puts the TTS LP beside the simulation: per node, TTS (from the base's mean
stock at the disruption start), TTR (battery, else the sites-table column, else the battery's
default), whether TTS < TTR, the demand and patients the TTR LP loses, and the simulated time
to first stockout and patients affected of the node's longest outage in the battery, with a
reason where the LP and the simulation disagree. Nodes at risk come first, ordered by patients
at risk; then the others by simulated patients affected.

:func:`build_summary` returns the JSON summary (``summary.json`` of the artefacts, the
registry's headline figures).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

import supplytwin
from supplytwin.stress.battery import LoadedBattery
from supplytwin.stress.runner import BatteryRun
from supplytwin.stress.tts import candidate_nodes, survival_table, why_they_differ

#: figures shown by ``supplytwin stress history`` (and stored in the registry)
HEADLINE = ["whatifs", "failed", "breaches", "worst_fill_rate", "nodes_at_risk",
            "patients_at_risk", "min_tts_days", "replications_used"]


def ttr_by_node(loaded: LoadedBattery, run: BatteryRun) -> dict[str, float]:
    b = loaded.battery
    out: dict[str, float] = {}
    for node in candidate_nodes(run.base.network):
        site = run.base.network.sites[node]
        ttr = b.time_to_recover_days.get(node, site.time_to_recover_days)
        if ttr is None:
            ttr = b.default_time_to_recover_days
        if ttr is not None:
            out[node] = float(ttr)
    return out


def node_risks(loaded: LoadedBattery, run: BatteryRun, table: pd.DataFrame | None = None
               ) -> pd.DataFrame:
    net = run.base.network
    table = run.whatif_table() if table is None else table
    ttr = ttr_by_node(loaded, run)
    stock = run.stock_at_start()
    rows = []
    outages = table[(table["kind"].isin(["site_outage", "supplier_loss"]))
                    & (table["status"] == "ok")]
    makers: dict[str, set[str]] = {}
    for (site, product) in net.production:
        if net.sites[site].is_open:
            makers.setdefault(product, set()).add(site)
    for r in survival_table(net, ttr, stock=stock or None):
        mine = outages[outages["target"] == r.node].sort_values("duration_days")
        sim = mine.iloc[-1] if len(mine) else None
        sim_first = None if sim is None else sim["time_to_first_stockout_days"]
        sim_share = None if sim is None else sim["time_to_first_stockout_days_share"]
        reason = why_they_differ(r.tts_days, sim_first)
        no_stockout = sim_first is None or (isinstance(sim_first, float) and math.isnan(sim_first))
        if (sim is not None and not math.isinf(r.tts_days) and r.tts_days > sim["duration_days"]
                and no_stockout):
            reason = (f"agree: the simulated outage ({sim['duration_days']:g} days) is "
                      "shorter than the TTS")
        rows.append({
            "node": r.node, "kind": net.sites[r.node].kind.value,
            "tts_days": r.tts_days, "ttr_days": r.ttr_days, "at_risk": r.at_risk,
            "lost_units_at_ttr": r.lost_units_at_ttr, "patients_at_risk": r.patients_at_risk,
            "patients_at_risk_by_product": r.patients_by_product,
            "sole_source_of": sorted(p for p, sites in makers.items() if sites == {r.node}),
            "simulated_whatif": None if sim is None else sim["whatif"],
            "simulated_time_to_first_stockout_days": sim_first,
            "simulated_stockout_share": sim_share,
            "simulated_patients_affected_diff": (None if sim is None
                                                 else sim["patients_affected_diff"]),
            "why_they_differ": reason if sim is not None else "no outage of this node simulated",
            "lp_seconds": r.solve_seconds,
        })
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["_sim"] = pd.to_numeric(df["simulated_patients_affected_diff"], errors="coerce").fillna(0)
    df = df.sort_values(["at_risk", "patients_at_risk", "_sim", "node"],
                        ascending=[False, False, False, True]).drop(columns="_sim")
    df.insert(0, "rank", range(1, len(df) + 1))
    return df.reset_index(drop=True)


def _clean(x: Any) -> Any:
    """JSON-safe: NaN -> None, inf -> "inf", numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):
        x = x.item()
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x


def headline(run: BatteryRun, table: pd.DataFrame, risks: pd.DataFrame,
             breaches: list[dict]) -> dict[str, Any]:
    ok = table[table["status"] == "ok"]
    worst = ok.sort_values("fill_rate").iloc[0] if len(ok) else None
    finite_tts = [t for t in (risks["tts_days"] if len(risks) else []) if math.isfinite(t)]
    return {
        "whatifs": len(table), "failed": int((table["status"] == "failed").sum()),
        "breaches": len({b["whatif"] for b in breaches}),
        "worst_fill_rate": None if worst is None else float(worst["fill_rate"]),
        "worst_whatif": None if worst is None else worst["whatif"],
        "nodes_at_risk": int(risks["at_risk"].sum()) if len(risks) else 0,
        "patients_at_risk": float(risks["patients_at_risk"].sum()) if len(risks) else 0.0,
        "min_tts_days": min(finite_tts) if finite_tts else None,
        "replications_used": run.replications_used,
        "uniform_equivalent": run.uniform_equivalent,
        "wall_seconds": run.wall_seconds,
    }


def build_summary(loaded: LoadedBattery, run: BatteryRun, *, run_id: str | None = None
                  ) -> dict[str, Any]:
    table = run.whatif_table()
    risks = node_risks(loaded, run, table)
    breaches = run.breaches()
    base = run.base
    return _clean({
        "battery": loaded.name, "battery_file": str(loaded.path), "run_id": run_id,
        "base_scenario": base.name,
        "settings": {"replications": run.settings.reps, "adaptive": run.settings.adaptive,
                     "thresholds": run.settings.thresholds, "top_n": run.settings.top_n,
                     "ranking_kpi": run.settings.ranking_kpi,
                     "recovery_window_days": run.settings.recovery_window_days,
                     "recovery_tolerance": run.settings.recovery_tolerance},
        "headline": headline(run, table, risks, breaches),
        "breaches": breaches,
        "failed": [{"whatif": run.whatifs[w].name, "error": e} for w, e in run.failed().items()],
        "ranking": run.ranking()[: run.settings.top_n],
        "base": run.base_summary(),
        "whatifs": table.to_dict("records"),
        "node_risks": risks.to_dict("records"),
        "customers": run.customer_table().to_dict("records"),
        "products": run.product_table().to_dict("records"),
        "adaptive": {"rounds": run.rounds, "replications_used": run.replications_used,
                     "uniform_equivalent": run.uniform_equivalent,
                     "procedure": "sequential Bonferroni elimination" if run.settings.adaptive
                     else "uniform"},
        "lineage": {"supplytwin_version": supplytwin.__version__, "seed": run.seed,
                    "executor": run.executor, "scenario_file": str(base.source or ""),
                    "file_sha256": dict(base.file_hashes),
                    "horizon_days": base.simulation.horizon_days,
                    "warmup_days": base.simulation.warmup_days},
    })

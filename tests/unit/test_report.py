"""HTML reports and their figures, on a small real experiment of the tiny network.

The figures are checked against numbers computed here from the same tables with plain
pandas/numpy/scipy; the HTML is checked for what makes it sendable: one file that needs no
network, every section titled, the lineage an auditor checks, and user text escaped.
"""

from __future__ import annotations

import html
import math
import os
import stat
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs
from scipy import stats

import supplytwin
from supplytwin.experiment import paired_difference, run_experiment
from supplytwin.report import figures as F
from supplytwin.report import html as H
from supplytwin.sim.kpis import KPI_DOCS
from supplytwin.store.results import manifest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny.yaml"
REPS = 4
EVIL_NAME = 'Tiny <script>alert("name")</script> & co'
EVIL_DESCRIPTION = "Ships <b>fast</b> <img src=https://example.com/x.png onerror=alert(1)>"
WHATIF_NAME = "Lean DC <script>alert(2)</script>"
SECTIONS = ["At a glance", "Service levels", "All KPIs", "Stock and backlog over time",
            "Stock by stock point", "Waste",
            "Cost", "Network map", "Lineage"]


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def experiment():
    sc = supplytwin.load_scenario(TINY, [f"name={EVIL_NAME}", f"description={EVIL_DESCRIPTION}"])
    started = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    result = run_experiment(sc, REPS, seed=11)
    m = manifest(sc, [result.seed], started, started + timedelta(seconds=2),
                 replications=result.n, replication_indices=result.replications,
                 executor=result.executor, warmup_days=sc.simulation.warmup_days,
                 horizon_days=sc.simulation.horizon_days)
    return result, m


@pytest.fixture(scope="module")
def whatif():
    sc = supplytwin.load_scenario(TINY, [f"name={WHATIF_NAME}",
                                         "edits.policies.DC/MAB-T.order_up_to_units=120"])
    return run_experiment(sc, REPS, seed=11)


@pytest.fixture(scope="module")
def report(experiment) -> str:
    result, m = experiment
    return H.render_experiment_report(result, m)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.h2: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "h2":
            self.h2.append(data)


def _parse(text: str) -> _Tags:
    p = _Tags()
    p.feed(text)
    return p


def _differences(base, others) -> pd.DataFrame:
    """A paired-difference table built here, in the figure module's own column names."""
    bt, rows = base.kpi_table(), []
    for o in others:
        ot = o.kpi_table()
        for k in ("fill_rate", "avg_on_hand_units", "cost_total_usd"):
            e = paired_difference(bt[k].to_numpy(), ot[k].to_numpy())
            rows.append({"scenario": o.scenario.name, "kpi": k, "mean": e.mean,
                         "ci_low": e.ci95[0], "ci_high": e.ci95[1], "n": e.n,
                         "base_mean": bt[k].mean()})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------- the HTML file


def test_report_needs_no_network(report: str) -> None:
    parsed = _parse(report)
    external = [(t, k, v) for t, a in parsed.tags for k, v in a.items()
                if k in ("src", "href", "data", "action", "poster", "srcset")
                and v and v.strip().lower().startswith(("http:", "https:", "//", "ftp:"))]
    assert external == []
    assert not [a for t, a in parsed.tags if t == "script" and a.get("src")]
    assert not [a for t, a in parsed.tags if t == "link"]
    assert not [t for t, _a in parsed.tags if t in ("iframe", "img", "object", "embed")]
    assert "url(http" not in report and "@import" not in report
    assert report.lstrip().startswith("<!DOCTYPE html>") and report.rstrip().endswith("</html>")


def test_plotly_bundle_is_inline_once(report: str) -> None:
    bundle = get_plotlyjs()
    assert bundle in report
    assert report.count(bundle[:200]) == 1
    assert report.count("Plotly.newPlot(") >= 5


def test_every_section_has_a_title_and_a_how_to_read_line(report: str) -> None:
    h2 = _parse(report).h2
    for title in SECTIONS:
        assert title in h2
    assert report.count("How to read this:") == len(SECTIONS)
    assert f"<title>supplytwin report: {html.escape(EVIL_NAME)}</title>" in report


def test_lineage_has_hashes_seeds_and_replications(report: str, experiment) -> None:
    result, m = experiment
    sc = result.scenario
    assert sc.file_hashes and len(sc.file_hashes) >= 2
    for name, digest in sc.file_hashes.items():
        assert len(digest) == 64
        assert digest in report
        assert html.escape(name) in report
    assert str(result.seed) in report and result.seed == 11
    assert f"{REPS} (indices 0–{REPS - 1})" in report
    assert supplytwin.__version__ in report
    assert m["python"] in report
    assert m["started_at"] in report and m["ended_at"] in report
    assert html.escape(m["scenario_file"]) in report
    assert "in-process" in report


def test_user_text_is_escaped(report: str) -> None:
    assert "<script>alert" not in report
    assert "<b>fast</b>" not in report and "<img" not in report
    assert html.escape(EVIL_NAME) in report
    assert html.escape(EVIL_DESCRIPTION) in report


def test_kpi_table_has_every_kpi_with_unit_definition_and_n(report: str, experiment) -> None:
    result, _m = experiment
    summary = result.summary()
    for k in ("fill_rate", "otif", "lost_units", "cost_total_usd", "co2_kg_total", "demand_units"):
        _unit, doc = KPI_DOCS[k]
        assert f'title="{html.escape(doc)}">{k}</span>' in report
        assert summary[k].n == REPS
    assert "fraction (shown in %)" in report and "kg CO2e" in report
    assert f'<td class="num">{REPS}</td>' in report
    # the mean fill rate, to the decimals the table chose, is in the table
    fr = summary["fill_rate"]
    assert H._formatted(fr, "fraction")[0] in report


def test_default_stock_points_are_the_busiest_distribution_centres(experiment) -> None:
    result, _m = experiment
    assert H.default_sites_products(result.scenario, result.timeseries()) == [("DC", "MAB-T")]
    assert H.default_sites_products(result.scenario, limit=0) == []


def test_chosen_sites_products_are_drawn(experiment) -> None:
    result, m = experiment
    text = H.render_experiment_report(result, m, sites_products=[("PLANT", "MAB-T")])
    plant = result.scenario.network.sites["PLANT"].name
    dc = result.scenario.network.sites["DC"].name
    assert f"<h3>{html.escape(plant)} (PLANT) · " in text
    assert f"<h3>{html.escape(dc)} (DC) · " not in text


def test_map_without_bundled_world_draws_no_base_layer(experiment, monkeypatch, tmp_path) -> None:
    result, m = experiment
    monkeypatch.setattr(H, "TOPOJSON_FILE", tmp_path / "missing.json")
    text = H.render_experiment_report(result, m)
    assert "PlotlyGeoAssets" not in text.replace(get_plotlyjs(), "")
    assert '"showland":false' in text and '"showcoastlines":false' in text


def test_map_with_bundled_world_inlines_it_before_plotly(experiment, monkeypatch, tmp_path):
    result, m = experiment
    topo = tmp_path / "world_110m.json"
    topo.write_text('{"type":"Topology","objects":{"land":{"type":"GeometryCollection",'
                    '"geometries":[]}},"arcs":[],"note":"</script>"}')
    monkeypatch.setattr(H, "TOPOJSON_FILE", topo)
    text = H.render_experiment_report(result, m)
    at = text.index("window.PlotlyGeoAssets.topojson['world_110m']=")
    assert at < text.index(get_plotlyjs()[:200])
    assert '"note":"<\\/script>"' in text
    assert '"showland":true' in text


def test_single_replication_report_renders_with_a_warning() -> None:
    result = run_experiment(supplytwin.load_scenario(TINY), 1)
    text = H.render_experiment_report(result, {})
    assert "Fewer than two replications" in text
    assert "1 (indices 0)" in text


def test_write_report_is_atomic_and_readable(tmp_path: Path, report: str) -> None:
    path = tmp_path / "out" / "report.html"
    assert H.write_report(path, report) == path
    assert path.read_text(encoding="utf-8") == report
    assert os.listdir(path.parent) == ["report.html"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    H.write_report(path, "<!DOCTYPE html><html></html>")
    assert path.read_text(encoding="utf-8") == "<!DOCTYPE html><html></html>"


# ------------------------------------------------------------------- the comparison report


def test_comparison_report(experiment, whatif) -> None:
    result, m = experiment
    from supplytwin.experiment.recorded import differences_table

    diffs = differences_table(result, [whatif])
    text = H.render_comparison_report(result, [whatif], diffs, {**m, "kind": "compare"})
    parsed = _parse(text)
    for title in ("Differences", "KPIs side by side", "Cost", "Base network", "Lineage"):
        assert title in parsed.h2
    assert text.count("How to read this:") == 5
    assert "<script>alert" not in text
    assert html.escape(WHATIF_NAME) in text and html.escape(EVIL_NAME) in text
    for digest in {*result.scenario.file_hashes.values(), *whatif.scenario.file_hashes.values()}:
        assert digest in text
    assert text.count(get_plotlyjs()[:200]) == 1
    assert "unpaired 95 % CI" in text
    # every significant paired difference is marked
    n_sig = int(diffs["significant"].sum())
    assert n_sig > 0
    assert text.count("<span class=yes>yes</span>") == n_sig


def test_comparison_accepts_the_figure_modules_columns(experiment, whatif) -> None:
    result, m = experiment
    text = H.render_comparison_report(result, [whatif], _differences(result, [whatif]), m)
    assert "unpaired 95 % CI" not in text
    assert "cost_total_usd" in text


# ------------------------------------------------------------------------------ figures


def test_kpi_ci_figure(experiment) -> None:
    result, _m = experiment
    summary = result.summary()
    fig = F.kpi_ci_figure(summary)
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    tab = result.kpi_table()
    expected = [k for k in F.SERVICE_KPIS if not math.isnan(tab[k].mean())]
    tr = fig.data[0]
    assert list(tr.y) == expected
    assert np.allclose(tr.x, [tab[k].mean() for k in expected])
    for k, plus in zip(expected, tr.error_x.array, strict=True):
        x = tab[k].to_numpy()
        # a rate's interval is on the logit scale (docs/kpis.md), written out here again
        m, se = x.mean(), x.std(ddof=1) / math.sqrt(len(x))
        half = stats.t.ppf(0.975, len(x) - 1) * se / (m * (1 - m)) if 0 < m < 1 else 0.0
        hi = 1 / (1 + math.exp(-(math.log(m / (1 - m)) + half))) if 0 < m < 1 else m
        assert plus == pytest.approx(hi - m, abs=1e-12)
    one = F.kpi_ci_figure(summary, ["cost_total_usd"])
    assert list(one.data[0].y) == ["cost_total_usd"]


def test_inventory_band_figure_matches_pandas(experiment) -> None:
    result, _m = experiment
    ts = result.timeseries()
    warm = result.scenario.simulation.warmup_days
    fig = F.inventory_band_figure(ts, "DC", "MAB-T", warm)
    assert isinstance(fig, go.Figure) and len(fig.data) == 4
    band, mean, bband, bmean = fig.data
    sel = ts[(ts.site_id == "DC") & (ts.product_id == "MAB-T")]
    wide = sel.pivot(index="time_days", columns="replication", values="on_hand_units").sort_index()
    assert wide.shape[1] == REPS
    assert np.allclose(mean.x, wide.index.to_numpy())
    assert np.allclose(mean.y, wide.mean(axis=1).to_numpy())
    lo, hi = np.percentile(wide.to_numpy(), [5, 95], axis=1)
    assert len(band.x) == 2 * len(wide)
    assert np.allclose(band.y, np.concatenate([hi, lo[::-1]]))
    back = sel.groupby("time_days")["backlog_units"].mean()
    assert np.allclose(bmean.y, back.to_numpy())
    assert len(bband.y) == 2 * len(back)
    assert any(s.x1 == warm for s in fig.layout.shapes)
    empty = F.inventory_band_figure(ts, "NOWHERE", "MAB-T", warm)
    assert len(empty.data) == 0


def test_cost_breakdown_figure_matches_t_intervals(experiment, whatif) -> None:
    result, _m = experiment
    tab = result.kpi_table()
    fig = F.cost_breakdown_figure(tab)
    assert len(fig.data) == 1
    bar = fig.data[0]
    cats = list(F.COST_CATEGORIES)
    assert len(cats) == 7 and list(bar.x) == list(F.COST_CATEGORIES.values())
    assert np.allclose(bar.y, tab[cats].mean().to_numpy())
    n = len(tab)
    half = stats.t.ppf(0.975, n - 1) * tab[cats].std(ddof=1).to_numpy() / math.sqrt(n)
    assert np.allclose(bar.error_y.array, half)
    assert np.allclose(bar.error_y.arrayminus, np.minimum(half, tab[cats].mean().to_numpy()))
    both = pd.concat([tab.assign(scenario="base"), whatif.kpi_table().assign(scenario="lean")])
    fig2 = F.cost_breakdown_figure(both)
    assert [t.name for t in fig2.data] == ["base", "lean"]
    assert np.allclose(fig2.data[1].y, whatif.kpi_table()[cats].mean().to_numpy())


def test_waste_figure_matches_groupby(experiment) -> None:
    result, _m = experiment
    bp = result.by_product()
    fig = F.waste_figure(bp)
    assert len(fig.data) == 3
    products = sorted(bp["product_id"].unique())
    means = bp.groupby("product_id")[["expired_units", "excursion_loss_units",
                                      "qc_rejected_batches"]].mean()
    for tr, col in zip(fig.data, means.columns, strict=True):
        assert list(tr.x) == products
        assert np.allclose(tr.y, means.loc[products, col].to_numpy())
    assert fig.data[2].xaxis == "x2"  # batches on their own panel


def test_network_map_figure(experiment) -> None:
    result, _m = experiment
    net = result.scenario.network
    fig = F.network_map_figure(net)
    assert all(isinstance(t, go.Scattergeo) for t in fig.data)
    modes = {lane.mode.value for lane in net.lanes.values()}
    kinds = {s.kind.value for s in net.sites.values()}
    assert len(fig.data) == len(modes) + len(kinds)
    lines = [t for t in fig.data if t.mode == "lines"]
    markers = [t for t in fig.data if t.mode == "markers"]
    assert sum(len(t.lat) for t in lines) == 3 * len(net.lanes)
    assert sum(len(t.lat) for t in markers) == len(net.sites)
    assert len({t.marker.symbol for t in markers}) == len(kinds)
    assert len({t.line.color for t in lines}) == len(modes)
    hover = " ".join(h for t in markers for h in t.hovertext)
    for s in net.sites.values():
        assert html.escape(s.name) in hover
    assert fig.layout.geo.showland is True


def test_network_map_escapes_site_names(experiment) -> None:
    result, _m = experiment
    net = result.scenario.network
    evil = {k: s.model_copy(update={"name": "<img src=x onerror=alert(1)>"})
            for k, s in net.sites.items()}
    from dataclasses import replace

    fig = F.network_map_figure(replace(net, sites=evil))
    text = " ".join(h for t in fig.data for h in t.hovertext if h)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_paired_difference_figure(experiment, whatif) -> None:
    result, _m = experiment
    diffs = _differences(result, [whatif, whatif])
    fig = F.paired_difference_figure(diffs)
    assert len(fig.data) == 3  # one panel per KPI
    for tr, k in zip(fig.data, ("fill_rate", "avg_on_hand_units", "cost_total_usd"), strict=True):
        sub = diffs[diffs.kpi == k]
        assert len(tr.x) == 2  # one point per what-if (the same name twice is one row each)
        diff = whatif.kpi_table()[k].to_numpy() - result.kpi_table()[k].to_numpy()
        scale = 100 if k == "fill_rate" else 1  # a rate's difference is drawn in pp
        assert np.allclose(tr.x, scale * diff.mean())
        assert np.allclose(tr.error_x.array, scale * (sub["ci_high"] - sub["mean"]))
        sig = bool(sub["ci_low"].iloc[0] > 0 or sub["ci_high"].iloc[0] < 0)
        assert (tr.marker.color[0] != "white") == sig
    picked = F.paired_difference_figure(diffs, ["cost_total_usd"])
    assert len(picked.data) == 1


def test_normalise_differences_accepts_the_recorded_spelling() -> None:
    raw = pd.DataFrame([{"whatif": "w", "kpi": "fill_rate", "difference": -0.01,
                         "ci95_low": -0.02, "ci95_high": 0.001, "n": 5, "base_mean": 0.9}])
    d = F.normalise_differences(raw)
    assert list(d.columns) == list(F.DIFFERENCE_COLUMNS)
    assert d.loc[0, "scenario"] == "w" and d.loc[0, "mean"] == -0.01
    assert not d.loc[0, "significant"]


def test_figures_of_empty_tables_say_so() -> None:
    assert len(F.waste_figure(pd.DataFrame()).data) == 0
    assert len(F.cost_breakdown_figure(pd.DataFrame()).data) == 0
    assert len(F.kpi_ci_figure({}).data) == 0
    assert len(F.paired_difference_figure(pd.DataFrame(columns=["scenario", "kpi", "mean",
                                                                "ci_low", "ci_high"])).data) == 0


def test_clip_ci_and_number_format() -> None:
    assert F.clip_ci((-3.0, 5.0), "units") == (0.0, 5.0)
    assert F.clip_ci((0.98, 1.01), "fraction") == (0.98, 1.0)
    assert H._num(-0.0001, "units", 0) == "0"
    assert H._num(-1234.4, "USD", 0) == "−$1,234"
    assert H._num(0.5, "fraction", 1, sign=True) == "+50.0 %"


def test_stock_by_stock_point_lists_each_stock_point_by_echelon(report: str, experiment) -> None:
    result, _m = experiment
    ts = result.timeseries()
    warm = result.scenario.simulation.warmup_days
    assert 'id="stock-points"' in report
    section = report.split('id="stock-points"', 1)[1].split("</section>", 1)[0]
    # one row per stock point of the run, with the mean over replications of the end-of-day
    # levels after the warm-up, computed here from the daily table directly
    measured = ts[ts["time_days"] > warm]
    for (site, product), g in measured.groupby(["site_id", "product_id"]):
        mean = g.groupby("replication")["on_hand_units"].mean().mean()
        echelon = "dcs" if site == "DC" else "plants"
        assert (f"<td>{echelon}</td><td>{site}</td><td>{product}</td>"
                f'<td class="num">{mean:,.1f}</td>') in section

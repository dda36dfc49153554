"""Path safety: from the browser, scenario files are read only from the bundled scenarios folder
and the saved-scenarios folder, written only to the latter, and reports and artefacts are read
only from the runs folder. Hostile names get a clear message, never a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dashboard import services
from dashboard.services import UserError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

HOSTILE_NAMES = [
    "../../etc/passwd", "..", ".", "/etc/passwd", "/tmp/x", "a/b", "a\\b", "C:\\x",
    "name\x00.yaml", "x" * 65, "x" * 10_000, "", "   ", "with space", "dots.in.name",
    "-leading-dash", "émoji🙂", "name.yaml", "~root", "$(rm -rf ~)", "%2e%2e%2fetc",
]


@pytest.fixture
def ws(tmp_path) -> services.Workspace:
    return services.make_workspace(tmp_path / "runs", ROOT / "scenarios")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_scenario_names_are_refused_with_a_message(ws, tmp_path, name):
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(UserError) as exc:
        services.save_scenario(ws, "bundled/tiny.yaml", services.Knobs(), name)
    text = str(exc.value)
    assert text and "Traceback" not in text and "\x00" not in text
    assert len(text) < 400  # a long name is not echoed back in full
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written anywhere
    assert not Path("/etc/passwd.yaml").exists()


def test_non_string_names_are_refused(ws):
    for name in (None, 5, ["a"], {"a": 1}):
        with pytest.raises(UserError, match="name"):
            services.check_name(name)


@pytest.mark.parametrize("key", [
    "../../etc/passwd", "bundled/../../etc/passwd", "bundled/../baseline.yaml",
    "/etc/passwd", "bundled//etc/passwd", "bundled/", "saved/../../../etc/passwd.yaml",
    "bundled/tiny.yaml\x00", "other/tiny.yaml", "bundled/tiny.yml", "bundled/.hidden.yaml",
    "saved/missing.yaml", "bundled/" + "x" * 500 + ".yaml", "", None, 3, ["bundled/tiny.yaml"],
])
def test_hostile_scenario_keys_are_refused(ws, key):
    with pytest.raises(UserError):
        services.scenario_path(ws, key)


def test_keys_map_only_into_the_two_folders(ws):
    assert services.scenario_path(ws, "bundled/tiny.yaml") == ws.scenarios_dir / "tiny.yaml"
    keys = [e["key"] for e in services.list_scenarios(ws)]
    assert "bundled/baseline.yaml" in keys and all(
        k.startswith(("bundled/", "saved/")) for k in keys)


def test_a_symlink_leading_out_of_the_saved_folder_is_neither_listed_nor_read(ws, tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text("name: secret\n")
    (ws.saved_dir / "evil.yaml").symlink_to(outside)
    assert "saved/evil.yaml" not in [e["key"] for e in services.list_scenarios(ws)]
    with pytest.raises(UserError):
        services.scenario_path(ws, "saved/evil.yaml")


def test_saving_writes_only_into_the_saved_folder_and_never_overwrites(ws):
    saved = services.save_scenario(ws, "bundled/tiny.yaml", services.Knobs(horizon_days=60),
                                   "short-tiny")
    assert saved.path == ws.saved_dir / "short-tiny.yaml" and saved.key == "saved/short-tiny.yaml"
    assert [p.name for p in ws.saved_dir.iterdir()] == ["short-tiny.yaml"]  # no temp file left
    with pytest.raises(UserError, match="exists already"):
        services.save_scenario(ws, "bundled/tiny.yaml", services.Knobs(), "short-tiny")
    with pytest.raises(UserError, match="extend itself"):
        services.save_scenario(ws, "saved/short-tiny.yaml", services.Knobs(), "short-tiny",
                               overwrite=True)


@pytest.mark.parametrize("run_id", ["../../etc/passwd", "/etc/passwd", "a/b", "..", "",
                                    "x\x00", "x" * 500, None, "%2e%2e"])
def test_hostile_run_ids_are_refused(ws, run_id):
    for fn in (services.report_path, services.load_run, services.run_record):
        with pytest.raises(UserError):
            fn(ws, run_id)


def _fake_run(ws: services.Workspace, run_id: str, folder: Path) -> None:
    reg = ws.registry()
    reg.start("run", scenario_name="x", scenario_file=None, scenario_sha256=None,
              data_sha256={}, version="0", seed=1, replications=1, executor="in-process",
              artefacts=str(folder), command="test", run_id=run_id)
    reg.finish(run_id, kpi_summary={}, replications=1, artefacts=str(folder))


def test_artefacts_and_reports_outside_the_runs_folder_are_not_opened(ws, tmp_path):
    outside = tmp_path / "elsewhere" / "run1"
    outside.mkdir(parents=True)
    (outside / "report.html").write_text("<html>secret</html>")
    (outside / "manifest.json").write_text(json.dumps({}))
    _fake_run(ws, "run-outside", outside)
    with pytest.raises(UserError, match="outside the runs folder"):
        services.load_run(ws, "run-outside")
    with pytest.raises(UserError, match="no HTML report"):
        services.report_path(ws, "run-outside")
    assert services.run_record(ws, "run-outside")["artefacts_inside_runs"] is False
    # a prefix of a run id names no report from a URL
    with pytest.raises(UserError):
        services.report_path(ws, "run-out")


def test_report_route_serves_only_reports_of_the_runs_folder(ws, tmp_path):
    from dashboard.app import create_app

    inside = ws.runs_dir / "run-inside"
    inside.mkdir()
    (inside / "report.html").write_text("<html>report</html>")
    _fake_run(ws, "run-inside", inside)
    app = create_app(ws.runs_dir, ws.scenarios_dir)
    client = app.server.test_client()
    r = client.get("/reports/run-inside")
    assert r.status_code == 200 and b"report" in r.data
    for hostile in ("..%2F..%2Fetc%2Fpasswd", "run-inside%00", "nope", "run-ins"):
        r = client.get(f"/reports/{hostile}")
        assert b"root:x:0:0" not in r.data
        assert r.status_code in (404, 200)
        if r.status_code == 200:  # not the route: Dash's page for unknown paths
            assert b"_dash-renderer" in r.data
    assert client.get("/reports/nope").status_code == 404
    assert client.get("/_supplytwin/topojson/world_110m.json").status_code == 200
    assert client.get("/_supplytwin/topojson/other.json").status_code == 404
    r = client.get("/_supplytwin/topojson/..%2F..%2Fetc%2Fpasswd.json")
    assert b"root:x:0:0" not in r.data and (r.status_code == 404 or b"_dash-renderer" in r.data)
    assert client.get("/network").status_code == 302


def test_workspace_folders_are_absolute(tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        w = services.make_workspace("runs", ROOT / "scenarios")
    finally:
        os.chdir(cwd)
    assert w.runs_dir.is_absolute() and w.saved_dir == w.runs_dir / "scenarios"

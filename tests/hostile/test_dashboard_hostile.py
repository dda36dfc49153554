"""The dashboard against hostile requests: foreign Host headers (DNS rebinding), malformed
callback requests, and every callback called with values of the wrong type.

Nothing may answer 500, show a traceback, or say "Something went wrong (TypeError)": a foreign
host gets 421, a malformed request 400, and a callback that cannot use a value says so in plain
words.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dash._utils import split_callback_id

pytestmark = pytest.mark.integration

REPO = Path(__file__).parents[2]
HOSTILE_VALUES = [None, 1, -1, 1e308, "x", "", "[/]", "../../etc/passwd", [], {}, [1, "a", None],
                  {"a": [1]}, True, "\x1b[2J"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from dashboard.app import create_app

    runs = tmp_path_factory.mktemp("dash-runs")
    app = create_app(runs_dir=runs, scenarios_dir=REPO / "scenarios", hosts=["twin.example.org"])
    return app.server.test_client()


@pytest.mark.parametrize("host", ["127.0.0.1:8050", "localhost", "[::1]:8050", "LOCALHOST:1",
                                  "twin.example.org"])
def test_own_host_names_are_served(client, host: str) -> None:
    assert client.get("/", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example:8050", "",
                                  "twin.example.org.evil"])
def test_foreign_host_names_are_refused(client, host: str) -> None:
    page = client.get("/", headers={"Host": host})
    assert page.status_code == 421
    assert b"does not answer to the host name" in page.data
    post = client.post("/_dash-update-component", headers={"Host": host}, json={})
    assert post.status_code == 421


def test_allowed_hosts_from_the_environment(monkeypatch) -> None:
    from dashboard.app import allowed_hosts

    monkeypatch.setenv("SUPPLYTWIN_ALLOWED_HOSTS", "a.example, B.example:443")
    assert {"a.example", "b.example", "127.0.0.1", "localhost"} <= allowed_hosts()


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'"text"', b'{"output": 1}', b'{"output": "x.y", "inputs": "a"}',
    b'{"output": "no-such.children", "inputs": []}',
    b'{"output": "runs-table.children", "inputs": [{"id": 1}]}',
    b'{"output": "runs-table.children", "inputs": [], "changedPropIds": [1]}',
])
def test_malformed_callback_requests_get_400(client, body: bytes) -> None:
    r = client.post("/_dash-update-component", data=body, headers={"Host": "127.0.0.1"},
                    content_type="application/json")
    assert r.status_code == 400, r.data[:300]
    assert b"Request refused" in r.data


def _concrete(ident: str):
    """A pattern-matching id (``{"type": "x", "id": ["MATCH"]}``) made concrete."""
    if not ident.startswith("{"):
        return ident
    return {k: ("x" if isinstance(v, list) else v) for k, v in json.loads(ident).items()}


def _outputs(output: str):
    parts = split_callback_id(output)
    for p in parts if isinstance(parts, list) else [parts]:
        p["id"] = _concrete(p["id"])
    return parts


def _items(deps: list[dict], value) -> list:
    out = []
    for d in deps:
        ident = d["id"]
        if ident.startswith("{"):  # a pattern-matching id: a list of matches
            pattern = json.loads(ident)
            concrete = {k: ("x" if isinstance(v, list) else v) for k, v in pattern.items()}
            out.append([{"id": concrete, "property": d["property"], "value": value}])
        else:
            out.append({"id": ident, "property": d["property"], "value": value})
    return out


def test_every_callback_answers_hostile_values_in_plain_words(client) -> None:
    deps = client.get("/_dash-dependencies", headers={"Host": "127.0.0.1"}).get_json()
    assert len(deps) > 10
    answered = 0
    plain = 0
    for cb in deps:
        for value in HOSTILE_VALUES:
            inputs = _items(cb["inputs"], value)
            changed = [f"{i['id']}.{i['property']}" for i in cb["inputs"]
                       if not i["id"].startswith("{")][:1]
            payload = {"output": cb["output"], "outputs": _outputs(cb["output"]),
                       "inputs": inputs, "state": _items(cb["state"], value),
                       "changedPropIds": changed}
            r = client.post("/_dash-update-component", json=payload,
                            headers={"Host": "127.0.0.1"})
            text = r.get_data(as_text=True)
            where = f"{cb['output']} with {value!r}: {r.status_code} {text[:300]}"
            assert r.status_code in (200, 204, 400), where
            assert "Something went wrong (" not in text, where
            assert "Traceback" not in text, where
            answered += 1
            plain += "A value sent by this page could not be used" in text
    assert answered == len(deps) * len(HOSTILE_VALUES)
    assert plain > 0, "no callback answered a wrong-type value in plain words"

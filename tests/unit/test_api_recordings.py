"""REST recordings: search, metadata, Range streaming, token and signed-URL access."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask

from cti_middleware.api import api_bp
from cti_middleware.api.recordings import playback_signature, signed_audio_url
from cti_middleware.config import Settings
from cti_middleware.control import Actor
from cti_middleware.store import recent_audit
from cti_middleware.store.agents import add_agent, set_active
from cti_middleware.store.calls import record_call
from cti_middleware.store.recordings import Recording, index_call
from cti_middleware.store.tokens import create_token
from cti_middleware.web.recordings_http import recording_url
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_store_recordings import ANSWERED, U1, U2, U3, day_of

SECRET = "test-secret-0123456789abcdef"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


@pytest.fixture
def app(db, root):  # noqa: F811
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY=SECRET, CTI_RECORDINGS_DIR=str(root))
    app.register_blueprint(api_bp)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(scopes=("data:read",), name="crm", **kwargs) -> dict[str, str]:
    _, plain = create_token(name, list(scopes), **kwargs)
    return {"Authorization": f"Bearer {plain}"}


def recorded(root: Path, uuid: str, *, size: int, agent="1000@default", queue="support@default",
             answered=ANSWERED, talk=60.0, number="13800138000", ext=".wav") -> Recording:
    """A finished call with an audio file of exactly ``size`` bytes, indexed."""
    record_call(uuid, caller_number=number, queue=queue, agent=agent, joined_at=answered - 3,
                answered_at=answered, ended_at=answered + talk)
    path = root / day_of(answered) / f"{uuid}{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(i % 251 for i in range(size)))
    found = index_call(uuid, root)
    assert found is not None
    return found


@pytest.fixture
def people(db):  # noqa: F811
    add_agent("1000@default", "pw-000000", name="Alice")
    add_agent("1001@default", "pw-000000", name="Bob")
    add_agent("9000@default", "pw-000000", role="supervisor", name="Sue")
    add_agent("9001@default", "pw-000000", role="admin", name="Ada")


# -- search --------------------------------------------------------------------------

def test_search_filters_paginates_and_respects_token_queues(client, root, people):
    recorded(root, U1, size=100, answered=ANSWERED, talk=20)
    recorded(root, U2, size=100, agent="1001@default", queue="sales@default",
             number="13900139000", answered=ANSWERED + 60, talk=200)
    recorded(root, U3, size=100, answered=ANSWERED + 120, talk=90)
    auth = bearer()

    def ids(query: str, headers=auth) -> list[str]:
        r = client.get(f"/api/recordings{query}", headers=headers)
        assert r.status_code == 200, r.get_json()
        return [item["call_uuid"] for item in r.get_json()["items"]]

    assert ids("") == [U3, U2, U1]
    assert ids("?agent=1000@default") == [U3, U1]
    assert ids("?agent_name=BO") == [U2]
    assert ids("?number=%2B86%20139-0013-9000") == [U2]
    assert ids(f"?since={ANSWERED + 60}&until={ANSWERED + 120}") == [U2]
    assert ids("?min_duration=60&max_duration=100") == [U3]
    page = client.get("/api/recordings?per_page=2&page=2", headers=auth).get_json()
    assert (page["total"], page["page"], page["per_page"]) == (3, 2, 2)
    assert [i["call_uuid"] for i in page["items"]] == [U1]
    item = page["items"][0]
    assert item["agent_name"] == "Alice" and item["size"] == 100 and item["duration"] == 20
    assert ids("", bearer(name="sales", queues=["sales@default"])) == [U2]
    assert client.get("/api/recordings?since=yesterday", headers=auth).status_code == 400
    assert client.get(f"/api/recordings?agent_name={'x' * 65}", headers=auth).status_code == 400


def test_metadata_and_scope_refusals(client, root, people):
    found = recorded(root, U1, size=10)
    r = client.get(f"/api/recordings/{found.id}", headers=bearer())
    assert r.status_code == 200 and r.get_json()["path"].endswith(f"{U1}.wav")
    assert client.get("/api/recordings/9999", headers=bearer(name="b")).status_code == 404
    assert client.get("/api/recordings").status_code == 401
    no_scope = bearer(["events:read"], name="events")
    assert client.get("/api/recordings", headers=no_scope).status_code == 403
    r = client.get(f"/api/recordings/{found.id}/audio", headers=no_scope)
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    assert client.get(f"/api/recordings/{found.id}/audio").status_code == 401
    other = bearer(name="sales", queues=["sales@default"])
    assert client.get(f"/api/recordings/{found.id}/audio", headers=other).status_code == 404


# -- streaming with Range ------------------------------------------------------------

@pytest.mark.parametrize("size", [150, 4140, 250_000])
def test_ranges(client, root, people, size):
    found = recorded(root, U1, size=size)
    body = bytes(i % 251 for i in range(size))
    url, auth = f"/api/recordings/{found.id}/audio", bearer()

    full = client.get(url, headers=auth)
    assert full.status_code == 200 and full.data == body
    assert full.headers["Accept-Ranges"] == "bytes"
    assert full.headers["Content-Type"] == "audio/wav"
    assert full.headers["Content-Length"] == str(size)

    cases = {"bytes=0-99": (0, 99), "bytes=100-": (100, size - 1), "bytes=-50": (size - 50, size - 1)}
    for header, (first, last) in cases.items():
        r = client.get(url, headers={**auth, "Range": header})
        assert r.status_code == 206, header
        assert r.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert r.headers["Content-Length"] == str(last - first + 1)
        assert r.data == body[first:last + 1]

    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=abc", "bytes=9-3"):
        r = client.get(url, headers={**auth, "Range": header})
        assert r.status_code == 416, header
        assert r.headers["Content-Range"] == f"bytes */{size}"
        assert r.get_json()["error"] == "range_not_satisfiable"


def test_mp3_content_type_and_plays_are_audited(client, root, people):
    found = recorded(root, U1, size=300, ext=".mp3")
    r = client.get(f"/api/recordings/{found.id}/audio",
                   headers={**bearer(), "Range": "bytes=0-9"})
    assert r.status_code == 206 and r.headers["Content-Type"] == "audio/mpeg"
    entry = recent_audit(1)[0]
    assert (entry["actor"], entry["action"], entry["target"], entry["result"]) == (
        "token:crm", "recording.play", str(found.id), "ok")
    assert entry["arguments"] == {"range": "bytes=0-9", "status": 206}


def test_missing_file_is_404_with_a_clear_message(client, root, people):
    found = recorded(root, U1, size=10)
    (root / found.path).unlink()
    r = client.get(f"/api/recordings/{found.id}/audio", headers=bearer())
    assert r.status_code == 404
    assert r.get_json()["message"] == (
        f"the audio file of recording {found.id} ({found.path}) is missing")
    assert recent_audit(1)[0]["result"].startswith("refused: the audio file")


@pytest.mark.parametrize("poisoned", ["../../../etc/passwd.wav", "/etc/passwd.wav", "link.wav"])
def test_paths_leaving_the_directory_are_refused(client, root, people, poisoned, tmp_path):
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"not for you")
    os.symlink(secret, root / "link.wav")
    found = recorded(root, U1, size=10)
    Recording.update(path=poisoned).where(Recording.id == found.id).execute()
    r = client.get(f"/api/recordings/{found.id}/audio", headers=bearer())
    assert r.status_code == 403
    assert "leaves the recordings directory" in r.get_json()["message"]
    assert b"not for you" not in r.data


# -- signed URLs (desktops) ------------------------------------------------------------

def _signed(app, recording_id: int, agent: str, ttl: int = 60) -> str:
    with app.test_request_context():
        return signed_audio_url(recording_id, agent, ttl)[0]


def test_signed_url_plays_with_ranges_and_is_audited(app, client, root, people):
    found = recorded(root, U1, size=500)
    url = _signed(app, found.id, "1000@default")
    r = client.get(url, headers={"Range": "bytes=-50"})
    assert r.status_code == 206 and r.headers["Content-Range"] == "bytes 450-499/500"
    assert r.headers["Cache-Control"] == "private, no-store"
    assert recent_audit(1)[0]["actor"] == "1000@default"


def test_signed_url_refusals(app, client, root, people):
    first = recorded(root, U1, size=50)
    second = recorded(root, U2, size=50, agent="1001@default")
    url = _signed(app, first.id, "1000@default")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

    def get(recording_id: int, **changes: str):
        query = urlencode({**params, **changes})
        return client.get(f"/api/recordings/{recording_id}/audio?{query}")

    assert get(first.id).status_code == 200
    # One recording's signature does not open another.
    assert get(second.id).status_code == 403
    # Forged: another agent's name, a flipped digit, a later expiry.
    assert get(first.id, agent="1001@default").status_code == 403
    flipped = ("0" if params["sig"][0] != "0" else "1") + params["sig"][1:]
    assert get(first.id, sig=flipped).get_json()["message"] == "invalid playback signature"
    assert get(first.id, exp=str(int(params["exp"]) + 3600)).status_code == 403
    # Expired, though correctly signed.
    past = int(time.time()) - 1
    with app.test_request_context():
        old = playback_signature(first.id, "1000@default", past)
    r = get(first.id, exp=str(past), sig=old)
    assert r.status_code == 403 and r.get_json()["message"] == "playback link expired"
    for exp in ("soon", "\u00b2", "1" * 13):
        assert get(first.id, exp=exp).status_code == 401
    # The agent was disabled after the link was issued.
    set_active("1000@default", False)
    assert get(first.id).get_json()["message"] == "agent account is disabled"
    refusals = [e for e in recent_audit(20) if e["result"].startswith("refused")]
    assert len(refusals) >= 7


def test_signed_urls_need_a_real_secret(app, client, root, people):
    found = recorded(root, U1, size=50)
    url = _signed(app, found.id, "1000@default")
    app.config["SECRET_KEY"] = "change-me"
    r = client.get(url)
    assert r.status_code == 403 and "CTI_SECRET_KEY" in r.get_json()["message"]


# -- who may ask for a URL (the /agent socket action) ------------------------------------

class FakeRuntime:
    """What the call-control service reads from a running middleware."""

    def __init__(self, tiers: list[tuple[str, str]]) -> None:
        self.state = SimpleNamespace(agents={}, members={}, calls={})
        self.link = SimpleNamespace(api=None, bgapi=None)
        self.pipeline = SimpleNamespace(tiers=[SimpleNamespace(queue=q, agent=a) for q, a in tiers])
        self.settings = Settings(recording_url_ttl=120)
        self.screen_pops = SimpleNamespace(attach=lambda *_a: None)


def test_who_may_get_a_playback_url(app, client, root, people):
    mine = recorded(root, U1, size=40, agent="1000@default", queue="support@default")
    bobs = recorded(root, U2, size=40, agent="1001@default", queue="sales@default")
    runtime = FakeRuntime([("support@default", "1000@default"), ("support@default", "9000@default"),
                           ("sales@default", "1001@default")])

    def ask(agent: str, role: str, data) -> dict:
        with app.test_request_context():
            return recording_url(runtime, Actor(agent, role), data)

    ok = ask("1000@default", "agent", {"id": mine.id})
    assert ok["ok"] is True and ok["expires_at"] - time.time() == pytest.approx(120, abs=5)
    assert client.get(ok["url"]).status_code == 200
    assert ask("1000@default", "agent", {"id": bobs.id})["error"] == "forbidden"
    assert ask("9000@default", "supervisor", {"id": mine.id})["ok"] is True
    assert ask("9000@default", "supervisor", {"id": bobs.id})["error"] == "forbidden"
    assert ask("9001@default", "admin", {"id": bobs.id})["ok"] is True
    assert ask("1000@default", "agent", {"id": 424242})["error"] == "not_found"
    for bad in (None, {}, {"id": "1"}, {"id": True}, {"id": -1}, [mine.id]):
        assert ask("1000@default", "agent", bad)["error"] == "invalid_argument"
    refused = [e for e in recent_audit(50) if e["action"] == "recording.url"
               and e["result"].startswith("refused")]
    assert len(refused) >= 9

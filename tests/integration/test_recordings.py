"""A recorded queue call, end to end: indexed when its record is written, found over
REST, played by its agent's desktop through a signed URL with Range requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cti_middleware.store import db as store_db
from cti_middleware.store.audit import recent_audit
from cti_middleware.store.recordings import Recording
from cti_middleware.store.tokens import create_token
from tests.harness import Desktop, EslTestClient, Proc, start_middleware
from tests.integration.conftest import AGENT_PASSWORD
from tests.integration.test_walking_skeleton import _only_1000_available, _originate
from tests.unit.test_store_recordings import write_wav

SECRET = "integration-secret-7c1d0a"


@pytest.fixture
def recordings_dir(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


@pytest.fixture
def recording_middleware(simulator: tuple[Proc, int], seeded_db: str, recordings_dir: Path,
                         tmp_path: Path) -> Iterator[str]:
    proc, url = start_middleware(
        simulator[1], seeded_db, log_path=tmp_path / "middleware.log",
        extra_env={"CTI_RECORDINGS_DIR": str(recordings_dir), "CTI_SECRET_KEY": SECRET,
                   "CTI_RECORDING_URL_TTL": "60"})
    try:
        proc.wait_for(r"resynced from FreeSWITCH")
        yield url
    finally:
        proc.stop()


def _indexed(db_url: str, call_uuid: str, timeout: float = 10.0) -> Recording | None:
    """The index row, once the middleware's background indexer has written it."""
    store_db.open_database(db_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = Recording.get_or_none(Recording.call_uuid == call_uuid)
            if row is not None:
                return row
            time.sleep(0.05)
        return None
    finally:
        store_db.close_database()


def _token(db_url: str) -> str:
    store_db.open_database(db_url)
    try:
        return create_token("qa", ["data:read"])[1]
    finally:
        store_db.close_database()


def test_recorded_call_is_indexed_searchable_and_playable(
        recording_middleware: str, esl: EslTestClient, seeded_db: str, recordings_dir: Path):
    url = recording_middleware
    desk = Desktop(url, "1000@default", AGENT_PASSWORD)
    other = Desktop(url, "1001@default", AGENT_PASSWORD)
    boss = Desktop(url, "9000@default", AGENT_PASSWORD)
    try:
        _only_1000_available(esl)
        desk.wait("agent.state", lambda d: d["status"] == "Available")
        _originate(esl, "13800138000", "张三")
        bridged = desk.wait("screen.pop", lambda d: d["stage"] == "bridged")
        member_uuid = bridged["call_uuid"]
        # What FreeSWITCH's record-template writes when the call is bridged.
        day = time.strftime("%Y/%m/%d", time.localtime(bridged["answered_at"]))
        audio = write_wav(recordings_dir / day / f"{member_uuid}.wav", 1.0)
        esl.api(f"uuid_kill {member_uuid}")
        desk.wait("call.ended", lambda d: d["call_uuid"] == member_uuid)

        row = _indexed(seeded_db, member_uuid)
        assert row is not None, "recording not indexed"
        assert (row.agent, row.agent_name, row.queue) == ("1000@default", "Alice", "support@default")
        assert row.caller_number == "13800138000"
        assert row.path == f"{day}/{member_uuid}.wav"
        assert row.size == audio.stat().st_size and row.duration == 1.0

        headers = {"Authorization": f"Bearer {_token(seeded_db)}"}
        found = requests.get(f"{url}/api/recordings", params={"number": "+86 138 0013 8000"},
                             headers=headers, timeout=10).json()
        assert [i["id"] for i in found["items"]] == [row.id]

        ack = desk.call("recording.url", {"id": row.id})
        assert ack["ok"] is True, ack
        part = requests.get(url + ack["url"], headers={"Range": "bytes=0-99"}, timeout=10)
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes 0-99/{row.size}"
        assert part.content == audio.read_bytes()[:100]
        tail = requests.get(url + ack["url"], headers={"Range": "bytes=-50"}, timeout=10)
        assert tail.status_code == 206 and tail.content == audio.read_bytes()[-50:]
        beyond = requests.get(url + ack["url"], headers={"Range": f"bytes={row.size}-"},
                              timeout=10)
        assert beyond.status_code == 416

        assert other.call("recording.url", {"id": row.id})["error"] == "forbidden"
        assert boss.call("recording.url", {"id": row.id})["ok"] is True
        forged = ack["url"].replace("1000%40default", "1001%40default")
        assert requests.get(url + forged, timeout=10).status_code == 403
    finally:
        for d in (desk, other, boss):
            d.close()

    store_db.open_database(seeded_db)
    try:
        plays = [e for e in recent_audit(50) if e["action"] == "recording.play"]
    finally:
        store_db.close_database()
    assert {e["result"] for e in plays} >= {"ok", "refused: invalid playback signature"}

"""A known caller's recorded past call, played from the screen pop's history.

The caller has two past calls; only the newer was recorded (an index row and a small
WAV file in CTI_RECORDINGS_DIR). When the caller rings again the pop lists both, with a
Play button on the recorded one only. Play asks ``recording.url`` over the socket and the
page's <audio> element must load that signed URL from the middleware, which records the
accepted playback in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cti_middleware.store import db as store_db
from cti_middleware.store.agents import add_agent
from cti_middleware.store.audit import recent_audit
from cti_middleware.store.calls import record_call
from cti_middleware.store.customers import add_customer
from cti_middleware.store.recordings import Recording
from tests.browser.runner import run_scenario
from tests.harness import EslTestClient, start_middleware, start_simulator
from tests.unit.test_store_recordings import write_wav

AGENT, PASSWORD = "1000@default", "desk-pass"
NUMBER = "13800138000"
ANSWERED = 1_795_000_000.0  # a past afternoon, epoch seconds
RECORDED, UNRECORDED = "past-call-recorded", "past-call-unrecorded"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, str, EslTestClient, int]]:
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    recordings = tmp_path / "recordings"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent(AGENT, PASSWORD, name="Alice")
    add_customer("张三", [NUMBER], address="北京市朝阳区建国路88号")
    record_call(UNRECORDED, caller_number=NUMBER, queue="support@default", agent=AGENT,
                joined_at=ANSWERED - 86400 - 4, answered_at=ANSWERED - 86400, ended_at=ANSWERED - 86400 + 30)
    record_call(RECORDED, caller_number=NUMBER, queue="support@default", agent=AGENT,
                joined_at=ANSWERED - 4, answered_at=ANSWERED, ended_at=ANSWERED + 2)
    relative = f"2026/11/18/{RECORDED}.wav"
    wav = write_wav(recordings / relative, 2.0)
    rec = Recording.create(call_uuid=RECORDED, agent=AGENT, agent_name="Alice", caller_number=NUMBER,
                           queue="support@default", started_at=datetime.fromtimestamp(ANSWERED, UTC),
                           duration=2.0, path=relative, size=wav.stat().st_size)
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log", extra_env={
        "CTI_RECORDINGS_DIR": str(recordings), "CTI_SECRET_KEY": "browser-test-secret-5d2e",
        "CTI_RECORDING_URL_TTL": "120"})
    esl = EslTestClient(port)
    try:
        mw.wait_for("resynced from FreeSWITCH")
        yield base + "/", url, esl, rec.id
    finally:
        esl.close()
        mw.stop()
        sim.stop()


def test_play_a_recorded_past_call_from_the_pop(stack) -> None:
    page_url, db_url, esl, rec_id = stack

    def on_sync(name: str) -> None:
        if name == "available":
            for other in ("1001@default", "1002@default"):
                esl.api(f"callcenter_config agent set status {other} 'Logged Out'")
            esl.api(f"callcenter_config agent set status {AGENT} Available")
        elif name == "call":
            esl.api(f"originate {{origination_caller_id_number={NUMBER},origination_caller_id_name=张三}}"
                    "loopback/support/default &park()")

    calls = "#pop-calls li[data-testid=pop-call]"
    recorded = f"{calls}[data-recording='{rec_id}']"
    signed = rf"^/api/recordings/{rec_id}/audio\?agent=1000%40default&exp=\d+&sig=[0-9a-f]{{64}}$"
    run_scenario(page_url, {"name": "desktop-recordings", "lang": "en", "steps": [
        {"login": {"agent": AGENT, "password": PASSWORD}},
        {"visible": "#desktop-view"},
        {"sync": "available"},
        {"text": {"selector": "#state-status", "equals": "Available"}},
        {"sync": "call"},
        {"text": {"selector": "#pop-customer-name", "equals": "张三"}},
        {"count": {"selector": calls, "equals": 2}},
        {"count": {"selector": "#pop-calls button[data-testid=pop-play]", "equals": 1}},
        {"text": {"selector": f"{recorded} button[data-testid=pop-play]", "equals": "Play"}},
        {"hidden": "#pop-player"},
        {"click": f"{recorded} button[data-testid=pop-play]"},
        {"visible": "#pop-player"},
        {"assert": f"new RegExp({signed!r}).test(document.querySelector('#pop-audio').getAttribute('src'))"},
        {"attr": {"selector": "#pop-audio", "name": "data-recording-id", "equals": str(rec_id)}},
        {"assert": "document.querySelector('#pop-audio').readyState >= 1"},
        {"assert": "Math.abs(document.querySelector('#pop-audio').duration - 2) < 0.1"},
        {"text": {"selector": "#status-line", "equals": "Play: done"}},
        {"screenshot": "desktop-recording-playback"},
    ]}, on_sync=on_sync)

    store_db.open_database(db_url)
    try:
        entries = recent_audit(200)
    finally:
        store_db.close_database()
    asked = [e for e in entries if e["action"] == "recording.url" and e["target"] == str(rec_id)]
    assert [(e["actor"], e["result"]) for e in asked] == [(AGENT, "ok")]
    played = [e for e in entries if e["action"] == "recording.play" and e["target"] == str(rec_id)]
    assert played and all(e["actor"] == AGENT and e["result"] == "ok" for e in played), played
    assert {e["arguments"]["status"] for e in played} <= {200, 206}

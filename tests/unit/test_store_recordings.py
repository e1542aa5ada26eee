"""Recording index: from call records, from the directory, search, and path safety."""

from __future__ import annotations

import os
import wave
from datetime import datetime
from pathlib import Path

import gevent
import pytest

from cti_middleware.sinks.recording_index import RecordingIndexer
from cti_middleware.sinks.records import CallRecordSink
from cti_middleware.store import recordings as rec
from cti_middleware.store.agents import add_agent
from cti_middleware.store.call_batch import record_calls
from cti_middleware.store.calls import record_call
from cti_middleware.store.db import to_epoch
from cti_middleware.store.routing import Queue
from cti_middleware.store.validate import StoreError
from tests.store_fixtures import db, db_url  # noqa: F401

ANSWERED = 1_795_457_104.0
U1 = "0f0e0d0c-0b0a-4909-8807-060504030201"
U2 = "11111111-2222-4333-8444-555555555555"
U3 = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def day_of(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y/%m/%d")


def write_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return path


def answered_call(uuid: str, *, agent="1000@default", number="+86 138-0013-8000",
                  queue="support@default", answered=ANSWERED, talk=42.0, **extra):
    return record_call(uuid, caller_number=number, queue=queue, agent=agent,
                       joined_at=answered - 4, answered_at=answered, ended_at=answered + talk,
                       **extra)


def test_index_from_call_record_finds_the_file_by_convention(db, tmp_path):  # noqa: F811
    add_agent("1000@default", "pw-000000", name="Alice Wong")
    answered_call(U1)
    write_wav(tmp_path / day_of(ANSWERED) / f"{U1}.wav", 2.5)
    found = rec.index_call(U1, tmp_path)
    assert found is not None
    view = rec.recording_to_dict(found)
    assert view["call_uuid"] == U1
    assert view["agent"] == "1000@default" and view["agent_name"] == "Alice Wong"
    assert view["caller_number"] == "13800138000"
    assert view["queue"] == "support@default"
    assert view["started_at"] == ANSWERED
    assert view["duration"] == 2.5  # from the WAV header, not the call's times
    assert view["path"] == f"{day_of(ANSWERED)}/{U1}.wav"
    assert view["size"] == (tmp_path / view["path"]).stat().st_size
    assert view["content_type"] == "audio/wav"
    # Indexing again updates the same row.
    assert rec.index_call(U1, tmp_path).id == found.id
    assert rec.Recording.select().count() == 1


def test_recording_path_variable_wins_and_is_made_relative(db, tmp_path):  # noqa: F811
    answered_call(U2, recording_path=f"/mnt/fs/recordings/2026/01/02/{U2}.wav")
    found = rec.index_call(U2, tmp_path)
    assert found.path == f"2026/01/02/{U2}.wav"
    assert found.size is None and found.duration == 42.0  # no file (yet): the call's talk time


def test_unrecorded_or_unanswered_calls_are_not_indexed(db, tmp_path):  # noqa: F811
    record_call(U1, queue="support@default", joined_at=ANSWERED, ended_at=ANSWERED + 9,
                abandoned=True)
    assert rec.index_call(U1, tmp_path) is None
    answered_call(U2, queue="norec@default")  # no file, queue unknown
    assert rec.index_call(U2, tmp_path) is None
    Queue.create(name="sales@default", record_calls=True)
    answered_call(U3, queue="sales@default")  # the queue records: indexed, file pending
    pending = rec.index_call(U3, tmp_path)
    assert pending.path == f"{day_of(ANSWERED)}/{U3}.wav" and pending.size is None


def test_scan_backfills_and_skips_what_does_not_fit(db, tmp_path):  # noqa: F811
    answered_call(U1, agent="1001@default")
    write_wav(tmp_path / "2026/11/27" / f"{U1}.wav", 1.0)
    (tmp_path / "2026/11/27" / f"{U2}.mp3").write_bytes(b"ID3" + b"\0" * 300)
    write_wav(tmp_path / "misc" / "notes.wav", 0.1)
    outside = write_wav(tmp_path.parent / f"outside-{tmp_path.name}.wav", 0.1)
    os.symlink(outside, tmp_path / "2026/11/27" / f"{U3}.wav")
    result = rec.scan(tmp_path)
    assert result.indexed == 2
    assert sorted(s.split(":")[0] for s in result.skipped) == [
        f"2026/11/27/{U3}.wav", "misc/notes.wav"]
    assert any("leaves the recordings directory" in s for s in result.skipped)
    by_uuid = {r.call_uuid: r for r in rec.Recording.select()}
    assert by_uuid[U1].agent == "1001@default" and by_uuid[U1].duration == 1.0
    assert by_uuid[U2].agent is None and by_uuid[U2].size == 303
    assert rec.recording_to_dict(by_uuid[U2])["content_type"] == "audio/mpeg"
    with pytest.raises(StoreError):
        rec.scan(tmp_path / "nope")


@pytest.mark.parametrize("bad", [
    "../secret.wav", "2026/../../secret.wav", "/etc/passwd.wav", "", "a\0b.wav",
    "2026/11/27/x.txt",
])
def test_resolve_refuses_ways_out(tmp_path, bad):
    with pytest.raises(rec.RecordingPathError):
        rec.resolve(tmp_path, bad)


def test_resolve_follows_links_only_inside(tmp_path):
    real = write_wav(tmp_path / "2026/11/27/a.wav", 0.1)
    os.symlink(real, tmp_path / "2026/11/27/b.wav")
    assert rec.resolve(tmp_path, "2026/11/27/b.wav") == real.resolve()
    os.symlink("/etc", tmp_path / "etc")
    with pytest.raises(rec.RecordingPathError):
        rec.resolve(tmp_path, "etc/passwd.wav")


def _ids(query) -> list[str]:
    return [r.call_uuid for r in query]


def test_search_filters_and_orders_newest_first(db, tmp_path):  # noqa: F811
    add_agent("1000@default", "pw-000000", name="Alice Wong")
    add_agent("1001@default", "pw-000000", name="Bob_Li")
    Queue.create(name="support@default", record_calls=True)
    answered_call(U1, answered=ANSWERED, talk=30)
    answered_call(U2, agent="1001@default", number="13900139000", answered=ANSWERED + 100,
                  talk=300)
    answered_call(U3, answered=ANSWERED + 200, talk=5, queue="support@default")
    for uuid in (U1, U2, U3):
        assert rec.index_call(uuid, tmp_path) is not None
    assert _ids(rec.search()) == [U3, U2, U1]
    assert _ids(rec.search(agent="1000@default")) == [U3, U1]
    assert _ids(rec.search(agent_name="alice")) == [U3, U1]
    assert _ids(rec.search(agent_name="b_l")) == [U2]
    assert _ids(rec.search(agent_name="%")) == []  # wildcards are literal
    assert _ids(rec.search(number="+86 139 0013 9000")) == [U2]
    assert _ids(rec.search(number="0086-138-0013-8000")) == [U3, U1]
    assert _ids(rec.search(since=ANSWERED + 100)) == [U3, U2]
    assert _ids(rec.search(until=ANSWERED + 100)) == [U1]
    assert _ids(rec.search(min_duration=10, max_duration=60)) == [U1]
    assert _ids(rec.search(queues=["other@default"])) == []
    with pytest.raises(StoreError):
        rec.search(agent_name="x" * 65)
    assert to_epoch(rec.get_recording(rec.search().first().id).started_at) == ANSWERED + 200


def test_call_record_sink_indexes_after_the_write_off_the_event_path(db, tmp_path):  # noqa: F811
    Queue.create(name="support@default", record_calls=True)
    write_wav(tmp_path / day_of(ANSWERED) / f"{U1}.wav", 0.5)
    indexer = RecordingIndexer(tmp_path)
    sink = CallRecordSink(record_calls, on_ended=indexer.submit)
    sink._put(U1, {"queue": "support@default", "agent": "1000@default",
                   "answered_at": datetime.fromtimestamp(ANSWERED), "ended_at": None})
    sink._put(U1, {"ended_at": datetime.fromtimestamp(ANSWERED + 3)})
    assert sink.flush() and indexer.flush()
    assert indexer.indexed == 1
    assert rec.Recording.get(rec.Recording.call_uuid == U1).size > 0


def test_indexer_survives_failures_and_never_blocks(tmp_path):
    calls: list[str] = []

    def broken(call_uuid: str, root: str):
        calls.append(call_uuid)
        raise RuntimeError("boom")

    indexer = RecordingIndexer(tmp_path, index=broken, max_pending=1)
    indexer.submit("a")
    indexer.submit("b")  # queue full: counted, not waited for
    assert indexer.failed == 1
    assert indexer.flush()
    gevent.sleep(0)
    assert calls == ["a"] and indexer.failed == 2


def test_scan_command_backfills_from_the_configured_directory(db_url, tmp_path, monkeypatch,  # noqa: F811
                                                               capsys):
    from cti_middleware.cli import main
    from cti_middleware.store import db as store_db

    write_wav(tmp_path / "2026/11/27" / f"{U1}.wav", 0.2)
    (tmp_path / "stray.wav").write_bytes(b"RIFF")
    monkeypatch.setenv("CTI_DATABASE_URL", db_url)
    monkeypatch.setenv("CTI_RECORDINGS_DIR", str(tmp_path))
    try:
        assert main(["recordings", "scan"]) == 0
        out = capsys.readouterr()
        assert f"1 recording(s) indexed from {tmp_path}, 1 skipped" in out.out
        assert "skipped stray.wav" in out.err
        assert rec.Recording.get().call_uuid == U1
        assert main(["recordings", "scan", "--dir", str(tmp_path / "missing")]) == 2
        assert "does not exist" in capsys.readouterr().err
    finally:
        store_db.close_database()
        store_db.database.initialize(None)

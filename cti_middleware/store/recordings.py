"""Call recordings: where each recorded call's audio file is, and what it was.

FreeSWITCH writes the files (mod_callcenter's ``record-template`` for queue
calls, ``record_session`` in the dialplan for direct and outbound calls) to
``<recordings dir>/YYYY/MM/DD/<call uuid>.wav``; see
:func:`cti_middleware.dialplan.route.parse_recording_path`. The index keeps
one row per call with what a search needs (agent, caller, queue, start,
duration) and the file's path *relative* to the recordings directory, so the
directory can move without rewriting rows.

A stored path is never trusted: every read goes through :func:`resolve`,
which refuses absolute paths, ``..`` and symlinks leading out of the
directory, so a poisoned row or a planted link cannot serve other files.
"""

from __future__ import annotations

import logging
import os
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from peewee import (
    EXCLUDED,
    SQL,
    AutoField,
    BigIntegerField,
    CharField,
    FloatField,
    ModelSelect,
    NodeList,
    fn,
)

from ..dialplan.route import parse_recording_path
from .call_batch import WrittenCall
from .calls import caller_key
from .db import BaseModel, UTCDateTimeField, connected, database, to_epoch, utcnow
from .models import (
    AGENT_MAX,
    NAME_MAX,
    NUMBER_MAX,
    PATH_MAX,
    QUEUE_MAX,
    UUID_MAX,
    AgentAccount,
    CallRecord,
)
from .validate import StoreError, clip

log = logging.getLogger(__name__)

__all__ = [
    "CONTENT_TYPES",
    "Recording",
    "RecordingPathError",
    "get_recording",
    "index_call",
    "index_file",
    "recording_ids",
    "recording_to_dict",
    "resolve",
    "scan",
    "search",
]

CONTENT_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg"}
NAME_FRAGMENT_MAX = 64


class RecordingPathError(StoreError):
    """A recording path that would leave the recordings directory."""


class Recording(BaseModel):
    id = AutoField()
    call_uuid = CharField(max_length=UUID_MAX, unique=True)
    agent = CharField(max_length=AGENT_MAX, null=True, index=True)
    agent_name = CharField(max_length=NAME_MAX, null=True)
    caller_number = CharField(max_length=NUMBER_MAX, null=True, index=True)
    queue = CharField(max_length=QUEUE_MAX, null=True, index=True)
    started_at = UTCDateTimeField(null=True, index=True)
    duration = FloatField(null=True)
    path = CharField(max_length=PATH_MAX)
    size = BigIntegerField(null=True)
    indexed_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "recording"


# -- paths ----------------------------------------------------------------------


def _relative_form(relative: str) -> PurePosixPath:
    if not isinstance(relative, str) or not relative or "\x00" in relative:
        raise RecordingPathError("recording path is empty or malformed")
    rel = PurePosixPath(relative.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or len(relative) > PATH_MAX:
        raise RecordingPathError("recording path leaves the recordings directory")
    if rel.suffix.lower() not in CONTENT_TYPES:
        raise RecordingPathError("recording path is not a .wav or .mp3 file")
    return rel


def resolve(root: str | os.PathLike[str], relative: str) -> Path:
    """The real location of ``relative`` inside ``root``; refuses any way out.

    Symlinks are followed and the target must still lie inside ``root``: a
    link to ``/etc/passwd`` planted in the tree is refused like ``../``.
    """
    rel = _relative_form(relative)
    base = Path(root).resolve()
    real = (base / rel).resolve()
    if not real.is_relative_to(base):
        raise RecordingPathError("recording path leaves the recordings directory")
    return real


def relative_to_root(root: str | os.PathLike[str], path: str) -> str | None:
    """``path`` as FreeSWITCH wrote it -> the index's relative form, or None.

    An absolute path under ``root`` keeps its tail; one elsewhere (the switch
    mounts the directory at another place) is reduced to the convention's
    ``YYYY/MM/DD/<uuid>.<ext>``. Anything that fits neither is not indexed.
    """
    if not path:
        return None
    base = str(Path(root)).rstrip("/") + "/"
    if path.startswith(base):
        candidate = path[len(base):]
        try:
            _relative_form(candidate)
            return candidate
        except RecordingPathError:
            return None
    suffix = PurePosixPath(path).suffix.lower()
    parsed = parse_recording_path(path[: -len(suffix)] + ".wav") if suffix in CONTENT_TYPES else None
    return f"{parsed[0]}/{parsed[1]}{suffix}" if parsed else None


def _days(epoch: float) -> list[str]:
    """Folders a recording started at ``epoch`` may sit in.

    The folder is the switch's local date at answer time; the switch may not
    share this box's zone, so the UTC date and the neighbouring days follow.
    """
    local = datetime.fromtimestamp(epoch).date()
    utc = datetime.fromtimestamp(epoch, UTC).date()
    days: list[date] = [local, utc, local - timedelta(days=1), local + timedelta(days=1)]
    seen: list[str] = []
    for day in days:
        text = day.strftime("%Y/%m/%d")
        if text not in seen:
            seen.append(text)
    return seen


def _stat(root: str | os.PathLike[str], relative: str) -> os.stat_result | None:
    try:
        # Most looks find nothing: a plain stat says so without resolving the path.
        os.stat(os.path.join(root, relative))
    except (OSError, ValueError):
        return None
    try:
        real = resolve(root, relative)
        result = real.stat()
    except (RecordingPathError, OSError):
        return None
    return result if real.is_file() else None


def _wav_seconds(path: Path) -> float | None:
    """Length from the WAV header; None when it is not plain PCM WAV or unreadable."""
    if path.suffix.lower() != ".wav":
        return None
    try:
        with wave.open(str(path), "rb") as audio:
            rate = audio.getframerate()
            return round(audio.getnframes() / rate, 3) if rate else None
    except (wave.Error, EOFError, OSError):
        return None


# -- writing the index ----------------------------------------------------------------


@dataclass
class _Meta:
    agent: str | None = None
    agent_name: str | None = None
    caller_number: str | None = None
    queue: str | None = None
    started_at: datetime | None = None
    duration: float | None = None


def _agent_name(agent: str | None) -> str | None:
    if not agent:
        return None
    account = AgentAccount.get_or_none(AgentAccount.agent_id == agent)
    return account.display_name if account is not None else None


def _meta_from_call(record: CallRecord | None) -> _Meta:
    if record is None:
        return _Meta()
    start = record.answered_at or record.joined_at
    duration = None
    if record.answered_at is not None and record.ended_at is not None:
        duration = max(0.0, (record.ended_at - record.answered_at).total_seconds())
    return _Meta(record.agent, _agent_name(record.agent), record.caller_number,
                 record.queue, start, duration)


def _upsert(root: str | os.PathLike[str], call_uuid: str, relative: str, meta: _Meta) -> Recording:
    real = resolve(root, relative)
    info = _stat(root, relative)
    seconds = _wav_seconds(real) if info is not None else None
    row = {
        "call_uuid": call_uuid,
        "agent": clip(meta.agent, AGENT_MAX),
        "agent_name": clip(meta.agent_name, NAME_MAX),
        "caller_number": clip(meta.caller_number, NUMBER_MAX),
        "queue": clip(meta.queue, QUEUE_MAX),
        "started_at": meta.started_at,
        "duration": seconds if seconds is not None else meta.duration,
        "path": relative,
        "size": info.st_size if info is not None else None,
        "indexed_at": utcnow(),
    }
    updates = {Recording._meta.fields[name]: getattr(EXCLUDED, name)
               for name in row if name != "call_uuid"}
    Recording.insert(**row).on_conflict(
        conflict_target=[Recording.call_uuid], update=updates).execute()
    return Recording.get(Recording.call_uuid == call_uuid)


def _queue_records(queue: str | None) -> bool:
    """Whether the queue's configuration records calls (unknown queue: no)."""
    from .routing import Queue  # the routing tables are optional for the index

    if not queue:
        return False
    table, name, flag = Queue._meta.table_name, Queue.name.column_name, Queue.record_calls
    rows = database.execute_sql(
        f"SELECT {flag.column_name} FROM {table} WHERE {name} = {database.param}", (queue,)
    ).fetchall()
    return bool(rows and flag.python_value(rows[0][0]))


@connected
def index_call(call: str | WrittenCall, root: str | os.PathLike[str]) -> Recording | None:
    """Index the recording of a finished call from its call record.

    ``call`` is the call uuid, or the record as the call-record writer just wrote
    it (which spares reading it back). The file is looked for where the call
    record's ``recording_path`` says, else where the path convention puts it. A
    call whose queue records calls is indexed even before its file shows up (size
    unknown, filled by a later ``recordings scan``); an unanswered call has no
    recording.
    """
    if isinstance(call, str):
        call_uuid, record = call, CallRecord.get_or_none(CallRecord.call_uuid == call)
    else:
        call_uuid, record = call.call_uuid, call
    if record is None or record.answered_at is None:
        return None
    if record.recording_path:
        relative = relative_to_root(root, record.recording_path)
        if relative is None:
            log.warning("recording path of call %s is outside the convention: %r",
                        call_uuid, record.recording_path[:200])
            return None
        return _upsert(root, call_uuid, relative, _meta_from_call(record))
    candidates = [f"{day}/{call_uuid}{ext}"
                  for day in _days(record.answered_at.timestamp()) for ext in CONTENT_TYPES]
    found = next((c for c in candidates if _stat(root, c) is not None), None)
    if found is None and not _queue_records(record.queue):
        return None
    return _upsert(root, call_uuid, found or candidates[0], _meta_from_call(record))


@connected
def index_file(root: str | os.PathLike[str], relative: str) -> Recording | None:
    """Index one file found in the directory (the back-fill); None if off-convention."""
    rel = _relative_form(relative)
    parsed = parse_recording_path(str(rel.with_suffix(".wav")))
    if parsed is None or str(rel.parent) != parsed[0]:
        return None
    call_uuid = parsed[1]
    resolve(root, relative)  # a link out of the directory is refused as such
    info = _stat(root, relative)
    if info is None:
        raise RecordingPathError(f"{relative} is not a file inside the recordings directory")
    meta = _meta_from_call(CallRecord.get_or_none(CallRecord.call_uuid == call_uuid))
    if meta.started_at is None:
        # No call record: the file was last written when the call ended.
        seconds = _wav_seconds(resolve(root, relative)) or 0.0
        meta.started_at = datetime.fromtimestamp(info.st_mtime - seconds, UTC)
    return _upsert(root, call_uuid, str(rel), meta)


@dataclass
class ScanResult:
    indexed: int = 0
    skipped: list[str] = field(default_factory=list)


def scan(root: str | os.PathLike[str]) -> ScanResult:
    """Index every file under ``root`` that follows the path convention.

    Symlinked folders are not entered and files whose real location is
    outside ``root`` are skipped, each reported in ``skipped`` with why.
    """
    base = Path(root)
    if not base.is_dir():
        raise StoreError(f"recordings directory {root} does not exist")
    result = ScanResult()
    for folder, dirs, files in os.walk(base, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            relative = (Path(folder) / name).relative_to(base).as_posix()
            if PurePosixPath(name).suffix.lower() not in CONTENT_TYPES:
                continue
            try:
                recording = index_file(root, relative)
            except RecordingPathError as exc:
                result.skipped.append(f"{relative}: {exc}")
                continue
            if recording is None:
                result.skipped.append(f"{relative}: not YYYY/MM/DD/<call uuid>.wav|.mp3")
            else:
                result.indexed += 1
    return result


# -- reading ---------------------------------------------------------------------------


def recording_to_dict(rec: Recording) -> dict[str, Any]:
    """JSON-ready view (times as epoch seconds; the path stays relative)."""
    return {
        "id": rec.id,
        "call_uuid": rec.call_uuid,
        "agent": rec.agent,
        "agent_name": rec.agent_name,
        "caller_number": rec.caller_number,
        "queue": rec.queue,
        "started_at": to_epoch(rec.started_at),
        "duration": rec.duration,
        "path": rec.path,
        "size": rec.size,
        "content_type": CONTENT_TYPES.get(PurePosixPath(rec.path).suffix.lower()),
    }


@connected
def get_recording(recording_id: int) -> Recording | None:
    return Recording.get_or_none(Recording.id == recording_id)


@connected
def recording_ids(call_uuids: Iterable[str]) -> dict[str, int]:
    """call uuid -> recording id for those of ``call_uuids`` that were recorded.

    One probe on the unique call-uuid index, so a screen pop can offer playback
    of the caller's past calls without a query per call.
    """
    wanted = [u for u in dict.fromkeys(call_uuids) if u]
    if not wanted:
        return {}
    rows = Recording.select(Recording.id, Recording.call_uuid).where(Recording.call_uuid.in_(wanted))
    return {row.call_uuid: row.id for row in rows}


def _like_fragment(fragment: str) -> str:
    escaped = fragment.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    *,
    agent: str | None = None,
    agent_name: str | None = None,
    number: str | None = None,
    since: float | datetime | None = None,
    until: float | datetime | None = None,
    min_duration: float | None = None,
    max_duration: float | None = None,
    queues: list[str] | None = None,
) -> ModelSelect:
    """Recordings matching every filter given, newest first (a query to paginate).

    ``number`` is matched in normalised form, so ``+86 138-0013-8000`` finds
    ``13800138000``; ``agent_name`` is a case-insensitive fragment;
    ``since``/``until`` bound the start (``until`` exclusive); ``queues``
    limits to those queues (a queue-restricted token).
    """
    query = Recording.select()
    if agent:
        query = query.where(Recording.agent == agent)
    if agent_name:
        if len(agent_name) > NAME_FRAGMENT_MAX:
            raise StoreError(f"agent_name is longer than {NAME_FRAGMENT_MAX} characters")
        pattern = _like_fragment(agent_name)
        query = query.where(NodeList((fn.LOWER(Recording.agent_name), SQL("LIKE"), pattern,
                                      SQL("ESCAPE '\\'"))))
    if number:
        query = query.where(Recording.caller_number == caller_key(number))
    if since is not None:
        query = query.where(Recording.started_at >= since)
    if until is not None:
        query = query.where(Recording.started_at < until)
    if min_duration is not None:
        query = query.where(Recording.duration >= min_duration)
    if max_duration is not None:
        query = query.where(Recording.duration <= max_duration)
    if queues is not None:
        query = query.where(Recording.queue.in_(queues))
    return query.order_by(Recording.started_at.desc(nulls="LAST"), Recording.id.desc())

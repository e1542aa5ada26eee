"""Recordings: search the index, fetch one, stream its audio with HTTP Range.

The audio is served with Werkzeug's conditional ``send_file`` (206 partial
content, ``Accept-Ranges``, ``Content-Range``, 416), so seeking in a player
fetches only what it needs. Two kinds of callers may stream:

* REST clients with a ``data:read`` bearer token (limited to the token's
  queues when it has any);
* agent desktops, which hold no token: they ask their ``/agent`` socket for a
  signed URL (see :mod:`cti_middleware.web.recordings_http`). The signature
  is an HMAC-SHA256, under a key derived from the app secret, of the
  recording id, the agent and the expiry; it is checked here.

Every served request and every refusal goes to the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlencode

from flask import current_app, jsonify, request, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from ..store import recordings as store
from ..store.agents import get_agent
from ..store.audit import audit
from ..store.db import connected
from ..store.validate import StoreError
from . import openapi
from .auth import current_token, require
from .blueprint import api_bp
from .errors import ApiError
from .params import paginate, query_float

DEFAULT_ROOT = "/var/lib/freeswitch/recordings/cti"
# Flask's built-in default; signatures under a published secret are forgeable.
INSECURE_SECRETS = frozenset({"", "change-me"})
SIGNATURE_CONTEXT = b"cti-recording-playback-v1"
SIGNED_PARAMS = ("agent", "exp", "sig")
EXPIRY = re.compile(r"[0-9]{1,12}")


def recordings_root() -> str:
    """The recordings directory: app config, else ``CTI_RECORDINGS_DIR``."""
    return (current_app.config.get("CTI_RECORDINGS_DIR")
            or os.environ.get("CTI_RECORDINGS_DIR") or DEFAULT_ROOT)


# -- signed playback URLs --------------------------------------------------------------


def _signing_key() -> bytes:
    secret = current_app.secret_key
    if isinstance(secret, str):
        secret = secret.encode()
    if not secret or secret.decode(errors="replace") in INSECURE_SECRETS:
        raise ApiError(403, "signed playback is disabled until CTI_SECRET_KEY is set")
    # A key of its own, so a playback signature is never valid for anything else.
    return hmac.new(secret, SIGNATURE_CONTEXT, hashlib.sha256).digest()


def playback_signature(recording_id: int, agent: str, expires: int) -> str:
    message = f"{recording_id}\n{agent}\n{expires}".encode()
    return hmac.new(_signing_key(), message, hashlib.sha256).hexdigest()


def signed_audio_url(recording_id: int, agent: str, ttl: int) -> tuple[str, int]:
    """A relative URL ``agent`` may play ``recording_id`` from until the expiry returned."""
    expires = int(time.time()) + max(1, int(ttl))
    query = urlencode({"agent": agent, "exp": expires,
                       "sig": playback_signature(recording_id, agent, expires)})
    return f"/api/recordings/{recording_id}/audio?{query}", expires


def _refuse(actor: str, recording_id: int, status: int, message: str) -> ApiError:
    audit(actor, "recording.play", str(recording_id), {"range": request.headers.get("Range")},
          f"refused: {message}")
    return ApiError(status, message)


def _signed_actor(recording_id: int) -> str:
    """The agent a valid signed URL names; anything else is refused and audited."""
    agent, raw_exp, sig = (request.args.get(name, "") for name in SIGNED_PARAMS)
    actor = f"signed:{agent[:64]}" if agent else "signed:?"
    if not agent or not EXPIRY.fullmatch(raw_exp) or not sig:
        raise _refuse(actor, recording_id, 401, "incomplete playback signature")
    expected = playback_signature(recording_id, agent, int(raw_exp))
    if not hmac.compare_digest(expected, sig):
        raise _refuse(actor, recording_id, 403, "invalid playback signature")
    if int(raw_exp) < time.time():
        raise _refuse(actor, recording_id, 403, "playback link expired")
    account = get_agent(agent)
    if account is None or not account.active:
        raise _refuse(actor, recording_id, 403, "agent account is disabled")
    return agent


# -- views ----------------------------------------------------------------------------


def _visible(query: Any) -> Any:
    queues = current_token().queue_list
    return query if queues is None else query.where(store.Recording.queue.in_(queues))


@api_bp.get("/recordings")
@require("data:read")
@connected
def list_recordings() -> Any:
    args = request.args
    try:
        query = store.search(
            agent=args.get("agent") or None, agent_name=args.get("agent_name") or None,
            number=args.get("number") or None, since=query_float("since"),
            until=query_float("until"), min_duration=query_float("min_duration"),
            max_duration=query_float("max_duration"), queues=current_token().queue_list,
        )
    except StoreError as exc:
        raise ApiError(400, str(exc)) from None
    return jsonify(paginate(query, store.recording_to_dict))


@api_bp.get("/recordings/<int:recording_id>")
@require("data:read")
@connected
def get_recording(recording_id: int) -> Any:
    rec = _visible(store.Recording.select()).where(store.Recording.id == recording_id).first()
    if rec is None:
        raise ApiError(404, f"no recording {recording_id}")
    return jsonify(store.recording_to_dict(rec))


@require("data:read")
def _token_actor() -> str:
    return f"token:{current_token().name}"


@api_bp.get("/recordings/<int:recording_id>/audio")
@connected
def recording_audio(recording_id: int) -> Any:
    if "sig" in request.args:
        actor, queues = _signed_actor(recording_id), None
    else:
        try:
            actor, queues = _token_actor(), current_token().queue_list
        except ApiError as exc:
            raise _refuse("token:?", recording_id, exc.status, exc.message) from None
    rec = store.get_recording(recording_id)
    if rec is None or (queues is not None and rec.queue not in queues):
        raise _refuse(actor, recording_id, 404, f"no recording {recording_id}")
    try:
        path = store.resolve(recordings_root(), rec.path)
    except StoreError as exc:
        raise _refuse(actor, recording_id, 403, str(exc)) from None
    if not path.is_file():
        raise _refuse(actor, recording_id, 404,
                      f"the audio file of recording {recording_id} ({rec.path}) is missing")
    suffix = PurePosixPath(rec.path).suffix.lower()
    try:
        response = send_file(path, mimetype=store.CONTENT_TYPES[suffix], conditional=True,
                             etag=True, max_age=0)
    except RequestedRangeNotSatisfiable:
        audit(actor, "recording.play", str(recording_id),
              {"range": request.headers.get("Range")}, "refused: range not satisfiable")
        response = jsonify({"error": "range_not_satisfiable",
                            "message": "the requested range lies outside the file"})
        response.status_code = 416
        response.headers["Content-Range"] = f"bytes */{path.stat().st_size}"
        response.headers["Accept-Ranges"] = "bytes"
        return response
    audit(actor, "recording.play", str(recording_id),
          {"range": request.headers.get("Range"), "status": response.status_code}, "ok")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# -- OpenAPI ---------------------------------------------------------------------------

_RECORDING = openapi._obj({
    "id": openapi.I, "call_uuid": openapi.S, "agent": openapi.NS, "agent_name": openapi.NS,
    "caller_number": openapi.NS, "queue": openapi.NS, "started_at": openapi.NN,
    "duration": openapi.NN, "path": openapi.S, "size": {**openapi.I, "nullable": True},
    "content_type": openapi.NS,
})
_AUDIO = openapi._op(
    "Stream a recording's audio (HTTP Range supported)", "data:read", ("200", None),
    errors=("404",),
    params=[openapi._q("agent", openapi.S, "signed URL: agent the link was issued to"),
            openapi._q("exp", openapi.I, "signed URL: expiry, epoch seconds"),
            openapi._q("sig", openapi.S, "signed URL: hex HMAC-SHA256")],
)
_AUDIO["description"] += (" Or no token and a signed URL from the desktop's recording.url"
                          " event. Range requests answer 206; unsatisfiable ranges 416.")
_AUDIO["responses"]["200"]["content"] = {t: {"schema": {"type": "string", "format": "binary"}}
                                         for t in sorted(set(store.CONTENT_TYPES.values()))}
_AUDIO["responses"]["206"] = {"description": "partial content (Range)"}
_AUDIO["responses"]["416"] = {"description": "range not satisfiable"}

openapi.extend(
    {
        "/api/recordings": {"get": openapi._op(
            "Search recordings, newest first", "data:read", ("200", openapi._page_of("Recording")),
            errors=("400",),
            params=[openapi._q("agent", openapi.S, "agent id"),
                    openapi._q("agent_name", openapi.S, "fragment of the agent's name"),
                    openapi._q("number", openapi.S, "caller number, any format"),
                    openapi._q("since", openapi.N, f"start >= ({openapi.EPOCH})"),
                    openapi._q("until", openapi.N, f"start < ({openapi.EPOCH})"),
                    openapi._q("min_duration", openapi.N, "seconds"),
                    openapi._q("max_duration", openapi.N, "seconds"), *openapi.PAGE])},
        "/api/recordings/{recording_id}": {
            "parameters": [openapi._path("recording_id")],
            "get": openapi._op("One recording's metadata", "data:read",
                               ("200", openapi._ref("Recording")), errors=("404",)),
        },
        "/api/recordings/{recording_id}/audio": {
            "parameters": [openapi._path("recording_id")],
            "get": _AUDIO,
        },
    },
    {"Recording": _RECORDING},
)

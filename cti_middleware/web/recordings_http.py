"""Desktop playback: ``recording.url`` on ``/agent`` answers a short-lived signed URL.

Desktops authenticate once, on the socket, and hold no bearer token; an
``<audio>`` element cannot send one anyway. So the socket, which knows who is
connected, decides whether the agent may hear the recording (an agent its
own, a supervisor its queues' agents' as call control decides, an admin all)
and hands back ``/api/recordings/<id>/audio?agent=..&exp=..&sig=..``: an
HMAC over recording, agent and expiry that the audio endpoint verifies. The
URL opens one recording for one agent for ``CTI_RECORDING_URL_TTL`` seconds
(default 300), survives the player's Range requests, and needs no session
state on any worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request

from ..api.errors import ApiError
from ..api.recordings import signed_audio_url
from ..control import FORBIDDEN, INVALID_ARGUMENT, NOT_FOUND, Actor
from ..sinks.sockets import AGENT_NS
from ..store.audit import audit
from ..store.errors import DB_ERRORS
from ..store.models import SUPERVISING_ROLES
from ..store.recordings import Recording, get_recording
from .control_handlers import control_for

RECORDING_URL = "recording.url"
DEFAULT_TTL = 300


def may_hear(runtime: Any, actor: Actor, rec: Recording) -> bool:
    """An agent hears its own calls; supervisors and admins whom call control lets them
    supervise (a supervisor without tiers: everyone)."""
    if rec.agent is not None and rec.agent == actor.agent:
        return True
    if actor.role not in SUPERVISING_ROLES:
        return False
    return control_for(runtime).supervises(actor, rec.agent or "")


def _fail(actor: str, target: str | None, code: str, message: str) -> dict[str, Any]:
    audit(actor, RECORDING_URL, target, {}, f"refused: {message}")
    return {"ok": False, "error": code, "message": message}


def recording_url(runtime: Any, actor: Actor, data: Any) -> dict[str, Any]:
    """The ``recording.url`` action: ``{"id"}`` -> ``{"ok", "url", "expires_at"}``."""
    raw = data.get("id") if isinstance(data, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**63:
        return _fail(actor.agent, None, INVALID_ARGUMENT, "id must be a positive integer")
    try:
        rec = get_recording(raw)
    except DB_ERRORS:
        return {"ok": False, "error": "unavailable", "message": "recordings unavailable"}
    if rec is None:
        return _fail(actor.agent, str(raw), NOT_FOUND, "no such recording")
    if not may_hear(runtime, actor, rec):
        return _fail(actor.agent, str(raw), FORBIDDEN, "not a recording you may hear")
    ttl = getattr(runtime.settings, "recording_url_ttl", DEFAULT_TTL)
    try:
        url, expires = signed_audio_url(rec.id, actor.agent, ttl)
    except ApiError as exc:
        return _fail(actor.agent, str(raw), FORBIDDEN, exc.message)
    audit(actor.agent, RECORDING_URL, str(raw), {"expires_at": expires}, "ok")
    return {"ok": True, "url": url, "expires_at": expires}


def handler_for(namespace: Any, event: str | None) -> Callable[..., dict[str, Any]] | None:
    """The ``recording.url`` handler on ``/agent``; None for any other event."""
    if event != RECORDING_URL or namespace.namespace != AGENT_NS:
        return None

    def handle(data: Any = None, *_extra: Any) -> dict[str, Any]:
        principal = namespace.principals.get(request.sid)
        if principal is None:
            return {"ok": False, "error": FORBIDDEN, "message": "not logged in"}
        return recording_url(namespace.runtime, Actor(principal.agent, principal.role), data)

    return handle

"""Dialplan applications, as the session thread runs them on one leg.

Media is not simulated: ``playback``, ``say``, ``sleep``, ``voicemail`` and
``record`` take (scaled) time and leave the variables FreeSWITCH leaves.  The
caller's key presses come from the channel variable ``sim_dtmf`` (set at
originate): each character is one key, consumed in order; when it runs out the
prompts time out, as they would with a silent caller.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import gevent

from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.dialplan import expand, split_args

if TYPE_CHECKING:
    from cti_middleware.simulator.hunt import DialplanEngine
    from cti_middleware.simulator.switch import Switch

log = logging.getLogger(__name__)

DTMF_VAR = "sim_dtmf"
# Seconds a prompt, a spoken number, a voicemail and a recording take (before scaling).
PROMPT_SECONDS = 2.0
SAY_SECONDS = 1.5
VOICEMAIL_SECONDS = 6.0
RECORD_SECONDS = 5.0
POLL = 0.02  # how often a waiting application looks at its leg (wall-clock seconds)
# SIP responses a ``respond`` may send, as the hang-up cause they map to
RESPOND_CAUSES = {
    "403": "CALL_REJECTED",
    "404": "UNALLOCATED_NUMBER",
    "480": "NO_USER_RESPONSE",
    "486": "USER_BUSY",
    "487": "ORIGINATOR_CANCEL",
    "503": "NORMAL_TEMPORARY_FAILURE",
    "603": "CALL_REJECTED",
}


class Transferred(Exception):
    """Raised by ``transfer``: stop this extension, hunt the new caller profile."""


class Stop(Exception):
    """The leg is gone: nothing more runs on it."""


def live(chan: Channel) -> bool:
    return chan.alive and not chan.hanging_up


def expand_data(chan: Channel, data: str) -> str:
    return expand(data, chan.variables) if data else ""


def mark_running(chan: Channel, app: str, data: str) -> None:
    """What ``show channels`` and the events say the leg is executing."""
    chan.application, chan.application_data = app, data
    chan.set_var("current_application", app)
    chan.set_var("current_application_data", data or None)


def wait(engine: DialplanEngine, chan: Channel, seconds: float) -> None:
    """Let scaled time pass on the leg; Stop as soon as it hangs up."""
    deadline = engine.api.cc.config.scaled(seconds)
    waited = 0.0
    while waited < deadline:
        step = min(POLL, deadline - waited)
        gevent.sleep(step)
        waited += step
        if not live(chan):
            raise Stop
    if not live(chan):
        raise Stop


def _name_value(data: str) -> tuple[str, str | None]:
    name, sep, value = data.partition("=")
    return name.strip(), (value if sep else None)


# -- channel variables ----------------------------------------------------------
def app_set(engine: DialplanEngine, chan: Channel, data: str) -> None:
    name, value = _name_value(data)
    if name:
        chan.set_var(name, value or None)


def app_unset(engine: DialplanEngine, chan: Channel, data: str) -> None:
    if data.strip():
        chan.set_var(data.strip(), None)


def app_export(engine: DialplanEngine, chan: Channel, data: str) -> None:
    nolocal = data.startswith("nolocal:")
    name, value = _name_value(data.removeprefix("nolocal:"))
    if not name:
        return
    if not nolocal:
        chan.set_var(name, value or None)
    engine.exports.setdefault(chan.uuid, {})[name] = value or ""
    names = [n for n in (chan.variables.get("export_vars") or "").split(",") if n and n != name]
    chan.set_var("export_vars", ",".join([*names, f"nolocal:{name}" if nolocal else name]))


# -- answer, hang up ------------------------------------------------------------
def caller_leg(chan: Channel) -> Channel | None:
    """The loopback A leg of a B leg (the caller's phone of an originated call), if any."""
    partner = chan.partner
    if chan.kind != "loopback" or partner is None or chan.variables.get("loopback_leg") != "B":
        return None
    return partner if live(partner) else None


def answer_leg(sw: Switch, chan: Channel) -> None:
    """Answer ``chan``; a loopback B leg has its A leg marked answered first.

    mod_loopback passes the B leg's answer indication to the A leg before the B
    leg marks itself answered, so the recordings show the A leg's CHANNEL_ANSWER
    (still in CS_CONSUME_MEDIA, or running its app after early media) first.
    """
    if chan.answered_at is not None:
        return
    partner = caller_leg(chan)
    if partner is not None and partner.answered_at is None:
        early = partner.answer_state == "early"
        if early:
            sw.answer(partner, partner.cs, "ACTIVE", partner.state_number)
        else:
            sw.answer(partner, "CS_CONSUME_MEDIA", "DOWN", 7)
        partner.set_var("endpoint_disposition", "ANSWER")
        _answer_self(sw, chan, "RINGING")
        if not early:
            partner.set_state("CS_EXECUTE", "ACTIVE", 4)
    else:
        _answer_self(sw, chan, "ACTIVE")
    chan.set_var("endpoint_disposition", "ANSWER")


def _answer_self(sw: Switch, chan: Channel, call_state: str) -> None:
    if chan.bridged is not None:  # answered by its bridge: the bridge's state stays
        sw.answer(chan, chan.cs, call_state, chan.state_number)
    else:
        sw.answer(chan, "CS_EXECUTE", call_state, 4)
    chan.call_state = "ACTIVE"


def app_answer(engine: DialplanEngine, chan: Channel, data: str) -> None:
    answer_leg(engine.api.switch, chan)


def app_pre_answer(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """Early media; on a loopback B leg the A leg is pre-answered too (an originate returns).

    No CHANNEL_PROGRESS_MEDIA is sent: the simulator does not model early media
    beyond the call state.
    """
    if chan.answered_at is not None or chan.answer_state == "early":
        return
    partner = caller_leg(chan)
    if partner is not None and partner.answered_at is None:
        partner.set_state(partner.cs, "EARLY", partner.state_number, "early")
    chan.set_state(chan.cs, "EARLY", chan.state_number, "early")


def app_hangup(engine: DialplanEngine, chan: Channel, data: str) -> None:
    engine.api.switch.hangup(chan, data.strip() or "NORMAL_CLEARING")
    raise Stop


def app_respond(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """A SIP final response ends an unanswered call; on an answered one it does nothing."""
    code = data.strip()[:3]
    if chan.answered_at is not None and chan.kind != "loopback":
        return
    if code.startswith(("4", "5", "6")):
        engine.api.switch.hangup(chan, RESPOND_CAUSES.get(code, "CALL_REJECTED"))
        raise Stop


# -- time and media -------------------------------------------------------------
def app_sleep(engine: DialplanEngine, chan: Channel, data: str) -> None:
    ms = data.strip()
    wait(engine, chan, int(ms) / 1000 if ms.isdigit() else 0)


def app_playback(engine: DialplanEngine, chan: Channel, data: str) -> None:
    wait(engine, chan, PROMPT_SECONDS)
    played_ms = int(PROMPT_SECONDS * 1000)
    chan.set_var("playback_seconds", str(played_ms // 1000))
    chan.set_var("playback_ms", str(played_ms))
    chan.set_var("playback_samples", str(played_ms * 8))
    chan.set_var("current_application_response", "FILE PLAYED")


def app_say(engine: DialplanEngine, chan: Channel, data: str) -> None:
    wait(engine, chan, SAY_SECONDS)


def app_voicemail(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """``voicemail <profile> <domain> <id>``: the caller leaves a message."""
    args = data.split()
    domain = args[1] if len(args) > 1 else "default"
    box = args[2] if len(args) > 2 else ""
    chan.set_var("voicemail_account", box)
    chan.set_var("voicemail_domain", domain)
    wait(engine, chan, VOICEMAIL_SECONDS)
    chan.set_var("voicemail_message_len", str(int(VOICEMAIL_SECONDS)))


def app_record(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """``record <path> [<limit seconds>]``: blocks while recording."""
    args = data.split()
    limit = int(args[1]) if len(args) > 1 and args[1].isdigit() else 0
    seconds = min(RECORD_SECONDS, limit) if limit else RECORD_SECONDS
    wait(engine, chan, seconds)
    chan.set_var("record_seconds", str(int(seconds)))
    chan.set_var("record_ms", str(int(seconds * 1000)))
    chan.set_var("record_samples", str(int(seconds * 8000)))


def app_record_session(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """Recording runs in the background until hang-up; only its path is remembered."""
    chan.set_var("sim_record_session_path", data.strip() or None)


def _take_digits(chan: Channel, count: int) -> str:
    pending = chan.variables.get(DTMF_VAR) or ""
    pressed, rest = pending[:count], pending[count:]
    chan.set_var(DTMF_VAR, rest or None)
    return pressed


def app_play_and_get_digits(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """``min max tries timeout terminators file invalid_file var regex [digit_timeout [failure_ext]]``."""
    args = split_args(data)
    if len(args) < 9:
        log.warning("play_and_get_digits: bad arguments %r", data)
        return
    low, high, tries, timeout_ms = (int(a) if a.isdigit() else 1 for a in args[:4])
    var, pattern = args[7], args[8]
    failure = args[10] if len(args) > 10 else ""
    try:
        regex = re.compile(pattern)
    except re.error:
        regex = re.compile(r".*")
    for _ in range(max(1, tries)):
        wait(engine, chan, PROMPT_SECONDS)
        digits = _take_digits(chan, max(low, high))
        if not digits:
            wait(engine, chan, timeout_ms / 1000)
            continue
        if low <= len(digits) and regex.search(digits):
            chan.set_var(var, digits)
            chan.set_var("read_result", "success")
            return
        chan.set_var(f"{var}_invalid", digits)
        wait(engine, chan, PROMPT_SECONDS)  # the invalid-input prompt
    chan.set_var(var, None)
    chan.set_var("read_result", "failure")
    if failure:
        _transfer(engine, chan, split_args(failure))


# -- routing ------------------------------------------------------------------
def _transfer(engine: DialplanEngine, chan: Channel, args: list[str]) -> None:
    from cti_middleware.simulator.transfer import new_profile

    if not args or not args[0]:
        return
    dialplan = args[1] if len(args) > 1 else "XML"
    context = args[2] if len(args) > 2 else chan.profile.context
    new_profile(chan, args[0], dialplan, context)
    raise Transferred


def app_transfer(engine: DialplanEngine, chan: Channel, data: str) -> None:
    args = split_args(data)
    if args and args[0] in ("-bleg", "-both"):
        args = args[1:]
    _transfer(engine, chan, args)


def app_execute_extension(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """Run another extension's actions here, then go on with this one."""
    args = split_args(data)
    if not args:
        return
    profile = chan.profile.copy()
    profile.destination_number = args[0]
    profile.dialplan = args[1] if len(args) > 1 else "XML"
    profile.context = args[2] if len(args) > 2 else chan.profile.context
    actions = engine.locate(chan, profile)
    if actions is None:
        log.info("execute_extension %s: no such extension", data)
        return
    engine.execute(chan, actions)


def app_park(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """Parked until hung up or transferred (a transfer stops this greenlet)."""
    chan.set_state("CS_EXECUTE", chan.call_state, 4)
    while live(chan):
        gevent.sleep(POLL * 5)
    raise Stop


def app_callcenter(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """Join a mod_callcenter queue and stay until the queue lets the caller go."""
    cc = engine.api.cc
    name = data.split()[0] if data.split() else ""
    if cc.get_queue(name) is None:
        log.warning("callcenter: queue %r not found", name)
        return
    answer_leg(engine.api.switch, chan)  # mod_callcenter answers the member before it queues it
    member = cc.join(chan, name)
    # The caller's leg continues its dialplan when the agent leaves first and
    # hangup_after_bridge is not true (uuid_bridge puts it back in CS_EXECUTE).
    engine.api.switch.resumable.add(chan.uuid)
    pre_executed = False
    try:
        while live(chan):
            gevent.sleep(POLL * 5)
            if not pre_executed and member.state == "Answered" and chan.bridged is not None:
                pre_executed = True
                bridge_pre_execute(engine, chan)
            done = member.state == "Answered" and chan.bridged is None
            if done and not any(m is member for m in cc.members):
                break  # the bridge ended and the caller is still here (hangup_after_bridge=false)
    finally:
        engine.api.switch.resumable.discard(chan.uuid)
    if not live(chan):
        raise Stop


def bridge_pre_execute(engine: DialplanEngine, chan: Channel) -> None:
    """``bridge_pre_execute_app``: the bridge thread of the leg runs it once media flows.

    FreeSWITCH's audio_bridge_thread does this for each side of any bridge,
    uuid_bridge included, so a queue call runs the caller's setting too; the
    agent's audio waits meanwhile.  A leg that leaves (transfer, hang-up) ends it.
    """
    app = chan.variables.get("bridge_pre_execute_app")
    handler = APPLICATIONS.get(app or "")
    if handler is None or app in ("bridge", "callcenter", "park"):
        return
    data = expand_data(chan, chan.variables.get("bridge_pre_execute_data", ""))
    running = chan.application, chan.application_data
    try:
        handler(engine, chan, data)
    except Transferred:
        log.info("bridge_pre_execute_app %s transferred %s; ignored", app, chan.uuid)
    if live(chan):
        chan.application, chan.application_data = running


def app_callcenter_track(engine: DialplanEngine, chan: Channel, data: str) -> None:
    agent = engine.api.cc.agents.get(data.strip())
    if agent is not None:
        agent.external_calls_count += 1


def app_noop(engine: DialplanEngine, chan: Channel, data: str) -> None:
    """Applications with no effect a client could see (log, ring_ready, ...)."""


def app_bridge(engine: DialplanEngine, chan: Channel, data: str) -> None:
    from cti_middleware.simulator.bridge import bridge

    bridge(engine, chan, data)


APPLICATIONS = {
    "answer": app_answer,
    "pre_answer": app_pre_answer,
    "ring_ready": app_noop,
    "log": app_noop,
    "info": app_noop,
    "set": app_set,
    "unset": app_unset,
    "export": app_export,
    "hangup": app_hangup,
    "respond": app_respond,
    "sleep": app_sleep,
    "playback": app_playback,
    "say": app_say,
    "play_and_get_digits": app_play_and_get_digits,
    "voicemail": app_voicemail,
    "record": app_record,
    "record_session": app_record_session,
    "transfer": app_transfer,
    "execute_extension": app_execute_extension,
    "park": app_park,
    "callcenter": app_callcenter,
    "callcenter_track": app_callcenter_track,
    "bridge": app_bridge,
}

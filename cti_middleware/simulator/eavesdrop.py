"""The supervisor applications of ``originate ... &app(uuid)``: eavesdrop, three_way, intercept.

What FreeSWITCH 1.10.12 shows (captures 10 and 16): the supervisor's leg is a separate
channel that never bridges to the call it taps; its ``current_application`` and
``current_application_data`` name the app and the target leg, and the tap sends the
target's caller as the supervisor's display (``last_sent_callee_id_*``).  The target
stays bridged.  Tapping the media changes how the call's legs later tear down, which
``Channel.held`` carries.

The rest follows switch_ivr_eavesdrop_session and switch_ivr_intercept_session (read
from the public sources, no recording shows them):

- ``eavesdrop`` starts in listen mode.  ``eavesdrop_whisper_aleg=true`` mixes the
  supervisor into what the target leg reads (so the target's bridge partner hears
  the supervisor), ``eavesdrop_whisper_bleg=true`` into what is written to the target
  (its own party hears), both at once is a three-way.  Unless
  ``eavesdrop_enable_dtmf=false``, the keys switch within the session: 1 as
  whisper_aleg, 2 as whisper_bleg, 3 three-way, 0 back to listening, ``*`` ends the
  tap.  Each key the app reads is reported as a ``DTMF`` event (DTMF-Digit,
  DTMF-Duration) on the supervisor's leg.
- ``three_way`` is the three-way mode from the start, with no key menu.
- When the target goes, the app returns and the supervisor's leg, which has nothing
  left to run, hangs up (NORMAL_CLEARING).  ``uuid_kill`` of the supervisor's leg
  ends the tap and leaves the call alone.
- ``intercept`` bridges the supervisor's leg to the named channel and hangs up that
  channel's partner with PICKED_OFF; for mod_callcenter the queue call ends then, as
  in a blind transfer (``bridge-agent-end``, ``member-queue-end`` Terminated).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import gevent

from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.switch import Switch

TAPS = ("eavesdrop", "three_way", "userspy")
APPS = (*TAPS, "intercept")

# Named by who hears the supervisor: nobody, the tapped leg's own party, its bridge
# partner, or both.
LISTEN, WHISPER, WHISPER_PARTNER, BARGE = "listen", "whisper", "whisper_partner", "barge"
DIGITS = "0123456789*#ABCD"
KEYS = {"0": LISTEN, "1": WHISPER_PARTNER, "2": WHISPER, "3": BARGE}
END_KEY = "*"

SRC_EXECUTE = ("switch_core_session.c", "switch_core_session_exec", 2935)
SRC_DTMF = ("switch_channel.c", "switch_channel_dequeue_dtmf", 528)
DTMF_DURATION = "2000"  # switch_core_default_dtmf_duration, in samples


@dataclass
class Tap:
    """One running eavesdrop/three_way: the supervisor's leg, its target and its mode."""

    leg: Channel
    target: Channel
    app: str
    mode: str
    keys: bool


def _true(value: str | None) -> bool:
    return (value or "").lower() in ("true", "yes", "on", "1", "enabled", "active", "allow")


def first_mode(app: str, leg: Channel) -> str:
    """The mode an app starts in, from the leg's variables (set by originate)."""
    if app == "three_way":
        return BARGE
    partner = _true(leg.variables.get("eavesdrop_whisper_aleg"))  # mixed into the target's read
    target = _true(leg.variables.get("eavesdrop_whisper_bleg"))  # mixed into the target's write
    if partner and target:
        return BARGE
    return WHISPER_PARTNER if partner else WHISPER if target else LISTEN


class Supervision:
    """Runs the supervisor apps and keeps the taps in progress, keyed by the supervisor's leg."""

    def __init__(self, switch: Switch) -> None:
        self.switch = switch
        self.taps: dict[str, Tap] = {}

    # -- state for assertions ---------------------------------------------------
    def tap_of(self, leg_uuid: str) -> Tap | None:
        """The tap a live supervisor leg is running, if any."""
        tap = self.taps.get(leg_uuid)
        if tap is None or not tap.leg.alive or tap.leg.hanging_up:
            self.taps.pop(leg_uuid, None)
            return None
        return tap

    # -- running the app ----------------------------------------------------------
    def execute(self, leg: Channel, app: str, args: str) -> bool:
        """Run ``app(args)`` on the answered supervisor leg; False if it is not one of ours."""
        if app not in APPS:
            return False
        self.switch.bus.skip(1)  # the CHANNEL_STATE of CS_EXECUTE
        self.switch.fire("CHANNEL_EXECUTE", leg, SRC_EXECUTE, extra=[
            ("Application", app), ("Application-Data", args), ("Application-UUID", str(uuid.uuid4())),
        ])
        target = self.switch.get(args.strip().split()[-1] if args.strip() else "")
        if target is None or target.hanging_up:
            gevent.spawn(self._app_returned, leg)  # nothing to tap: the app returns at once
            return True
        if app == "intercept":
            self._intercept(leg, target)
            return True
        leg.set_var("last_sent_callee_id_name", target.profile.caller_id_name)
        leg.set_var("last_sent_callee_id_number", target.profile.caller_id_number)
        for chan in (target, target.bridged):
            if chan is not None:
                chan.held = True  # media was tapped: it changes how the legs later tear down
        # eavesdrop reads its key menu unless eavesdrop_enable_dtmf says false; three_way never does
        enable = leg.variables.get("eavesdrop_enable_dtmf")
        keys = app == "eavesdrop" and (enable is None or _true(enable))
        self.taps[leg.uuid] = Tap(leg, target, app, first_mode(app, leg), keys)
        self._watch(target, leg)
        return True

    def _watch(self, target: Channel, leg: Channel) -> None:
        """When the target hangs up the app returns; chained after any earlier hook."""
        previous = target.on_hangup

        def gone(cause: str) -> None:
            if previous is not None:
                previous(cause)
            gevent.spawn(self._app_returned, leg)

        target.on_hangup = gone

    def _app_returned(self, leg: Channel) -> None:
        """The app is done and the inline extension has nothing more: the leg hangs up."""
        self.taps.pop(leg.uuid, None)
        if leg.alive and not leg.hanging_up:
            first = leg
            if leg.partner is not None and leg.variables.get("loopback_leg") == "B":
                first = leg.partner
            self.switch.hangup(first, "NORMAL_CLEARING")

    # -- keys ---------------------------------------------------------------------
    def press(self, leg: Channel, digits: str) -> bool:
        """DTMF received on ``leg`` (uuid_recv_dtmf); False when no tap of ours reads it."""
        tap = self.tap_of(leg.uuid)
        if tap is None:
            return False
        for digit in digits.upper():
            if digit not in DIGITS:
                continue  # pauses (w, W) and durations (@ms) are not keys
            if not tap.keys:
                continue  # left queued on the channel: nothing reads it
            self.switch.fire("DTMF", leg, SRC_DTMF, extra=[
                ("DTMF-Digit", digit), ("DTMF-Duration", DTMF_DURATION),
            ])
            if digit == END_KEY:  # the tap is over at once; the leg goes when the app returns
                self.taps.pop(leg.uuid, None)
                gevent.spawn(self._app_returned, leg)
                break
            tap.mode = KEYS.get(digit, tap.mode)
        return True

    # -- intercept ------------------------------------------------------------------
    def _intercept(self, leg: Channel, target: Channel) -> None:
        """The supervisor takes ``target``; its partner is picked off."""
        sw = self.switch
        partner = target.bridged if target.bridged is not None and target.bridged.alive else None
        if partner is not None:
            partner.hangup_initiator = True
            for chan in (target, partner):
                chan.set_var("signal_bond", None)
            target.set_state("CS_SOFT_EXECUTE", "ACTIVE", 2)
            target.bridged_at = None
            sw.ev_hangup(partner, "PICKED_OFF")
            sw.ev_complete(partner)
            sw.fire_unbridge(target, with_cause=False, note_peer_cause=False)
            target.set_var("current_application_data", None)
            target.bridged = None
            if target.on_bridge_end is not None:
                target.on_bridge_end()
            sw.ev_destroy(partner)
        target.set_state("CS_EXECUTE", "ACTIVE", 4)
        sw.bridge(leg, target)

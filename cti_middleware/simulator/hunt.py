"""Routing a leg through the dialplan and running what it says, one greenlet a leg.

A hunt asks the mod_xml_curl server (when one is configured) for the extension
matching the leg's caller profile; "not found" or no server means the built-in
dialplan (:func:`builtin_actions`, FreeSWITCH's own XML files in the reference
setup).  The actions then run in order, as the channel's session thread would run
them; ``transfer`` starts the next hunt with a new caller profile and a channel
that runs out of actions is hung up, as FreeSWITCH does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import gevent

from cti_middleware.simulator import apps
from cti_middleware.simulator.apps import Stop, Transferred, live
from cti_middleware.simulator.channels import Channel, Profile
from cti_middleware.simulator.dialplan import Action, select
from cti_middleware.simulator.xml_fetch import XmlCurlClient, hunt_params

if TYPE_CHECKING:
    from cti_middleware.simulator.api import Api

log = logging.getLogger(__name__)

MAX_TRANSFERS = 50  # FreeSWITCH's max_forwards guards transfer loops the same way


def builtin_actions(api: Api, chan: Channel, dest: str, context: str, entry: bool = False) -> list[Action]:
    """The reference box's own dialplan: queue numbers, agents' extensions, else park.

    As in that box's XML, the queue and ``park`` extensions answer first: a new
    call's originate returns only once its B leg is answered.  ``entry`` marks the first hunt of a new call, where an unknown number in
    ``default`` is NO_ROUTE_DESTINATION rather than parked.
    """
    config = api.cc.config
    if context == "default":
        queue = config.destinations.get(dest)
        if queue is not None and queue in api.cc.queues:
            return [Action("answer"), Action("set", "hangup_after_bridge=true"), Action("callcenter", queue)]
        if f"{dest}@default" in api.cc.agents:
            return local_extension(dest)
        if dest == "park":
            return [Action("answer"), Action("park")]
        if entry:
            return [Action("hangup", "NO_ROUTE_DESTINATION")]
    return [Action("park")]


def local_extension(dest: str) -> list[Action]:
    """FreeSWITCH's default ``Local_Extension``: ring the user, voicemail if nobody answers."""
    return [
        Action("export", f"dialed_extension={dest}"),
        Action("set", "ringback=${us-ring}"),
        Action("set", "call_timeout=30"),
        Action("set", "hangup_after_bridge=true"),
        Action("set", "continue_on_fail=true"),
        Action("bridge", f"user/{dest}@default"),
        Action("answer"),
        Action("sleep", "1000"),
        Action("voicemail", f"default default {dest}"),
    ]


class DialplanEngine:
    """Hunts and runs extensions for the legs of one simulated switch."""

    def __init__(self, api: Api, client: XmlCurlClient | None = None) -> None:
        self.api = api
        self.client = client
        self.runs: dict[str, gevent.Greenlet] = {}
        # export / export nolocal: variables handed to legs this leg bridges to
        self.exports: dict[str, dict[str, str]] = {}

    # -- starting -------------------------------------------------------------
    def hunt(self, chan: Channel, entry: bool = False) -> None:
        """Route ``chan`` by its current caller profile in a new greenlet.

        A leg transferred away from a running extension stops running it first,
        as a transfer breaks the session out of its current application.
        """
        old = self.runs.pop(chan.uuid, None)
        if old is not None and old is not gevent.getcurrent():
            old.kill(block=False)
        self.runs[chan.uuid] = gevent.spawn(self._route, chan, entry)

    def run_actions(self, chan: Channel, actions: Sequence[Action]) -> None:
        """Run a fixed list of actions on ``chan`` in its own greenlet (no hunt first)."""
        old = self.runs.pop(chan.uuid, None)
        if old is not None and old is not gevent.getcurrent():
            old.kill(block=False)
        self.runs[chan.uuid] = gevent.spawn(self._route, chan, False, list(actions))

    # -- hunting --------------------------------------------------------------
    def locate(self, chan: Channel, profile: Profile | None = None) -> list[Action] | None:
        """The actions the xml_curl server answers for a hunt, or None to fall back."""
        if self.client is None:
            return None
        profile = profile or chan.profile
        document = self.client.fetch(hunt_params(self.api.cc.bus, chan, profile))
        if document is None:
            return None
        try:
            extensions = select(document, profile, chan.variables)
        except Exception:  # a broken document is FreeSWITCH's "not found" too
            log.exception("unusable dialplan answer for %s", chan.uuid)
            return None
        if not extensions:
            return None
        return [action for ext in extensions for action in ext.actions]

    def _route(self, chan: Channel, entry: bool, first: list[Action] | None = None) -> None:
        me = gevent.getcurrent()
        try:
            actions = first
            for _ in range(MAX_TRANSFERS):
                if not live(chan):
                    return
                profile = chan.profile
                if actions is None:
                    chan.set_state("CS_ROUTING", chan.call_state, 2)
                    actions = self.locate(chan)
                    if actions is None:
                        actions = builtin_actions(self.api, chan, profile.destination_number,
                                                  profile.context, entry)
                    chan.set_var("DP_MATCH", f"ARRAY::{profile.destination_number}|:{profile.destination_number}")
                    chan.set_var("call_uuid", chan.uuid)
                    chan.set_state("CS_EXECUTE", chan.call_state, 4)
                entry = False
                try:
                    self.execute(chan, actions)
                except Transferred:
                    actions = None
                    continue
                if live(chan):  # the dialplan ran out: FreeSWITCH hangs the channel up
                    self.api.switch.hangup(chan, "NORMAL_CLEARING")
                return
            log.warning("transfer loop on %s: hanging up", chan.uuid)
            self.api.switch.hangup(chan, "EXCHANGE_ROUTING_ERROR")
        except Stop:
            return
        except Exception:
            log.exception("dialplan failed on %s", chan.uuid)
            if live(chan):
                self.api.switch.hangup(chan, "NORMAL_TEMPORARY_FAILURE")
        finally:
            if self.runs.get(chan.uuid) is me:
                del self.runs[chan.uuid]
                self.exports.pop(chan.uuid, None)

    def execute(self, chan: Channel, actions: Sequence[Action]) -> None:
        """Run actions in order; raises Transferred or Stop."""
        for action in actions:
            if not live(chan):
                raise Stop
            handler: Callable | None = apps.APPLICATIONS.get(action.app)
            data = apps.expand_data(chan, action.data)
            apps.mark_running(chan, action.app, data)
            self.api.cc.bus.skip(2)  # CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE, not modelled
            if handler is None:
                log.warning("Invalid Application %s on %s", action.app, chan.name)
                continue
            handler(self, chan, data)
        if not live(chan):
            raise Stop


def engine_of(api: Api) -> DialplanEngine:
    """The switch's dialplan engine (a built-in-only one when none was installed)."""
    engine = getattr(api, "dialplan", None)
    if engine is None:
        engine = DialplanEngine(api, None)
        api.dialplan = engine  # type: ignore[attr-defined]
    return engine

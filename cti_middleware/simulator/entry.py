"""New calls enter the dialplan through mod_xml_curl.

The originate path routes a new loopback B leg by the simulator's destination
table.  With a mod_xml_curl server configured, the call's first hunt must go to
that server instead, so the originate path is handed this view of mod_callcenter
in which every number of context ``default`` is routable and "joining" it means
hunting it (:meth:`DialplanEngine.hunt`); the built-in table remains the fallback
of that hunt.  The originate path joins before answering either loopback leg and
then waits for the dialplan's answer (:meth:`.Originator._route_first`), so a
caller the dialplan rejects is never answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cti_middleware.simulator.callcenter import CallCenter
    from cti_middleware.simulator.channels import Channel
    from cti_middleware.simulator.hunt import DialplanEngine

HUNT = "\x00dialplan"  # never a queue name: queue names are checked identifiers


class _EveryNumber(dict):
    def get(self, key: Any, default: Any = None) -> Any:
        return HUNT


class _Config:
    def __init__(self, config: Any) -> None:
        self._config = config
        self.destinations = _EveryNumber()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, name)


class DialplanEntry:
    """mod_callcenter as the originate path sees it in xml_curl mode."""

    def __init__(self, cc: CallCenter, engine: DialplanEngine) -> None:
        self._cc = cc
        self._engine = engine
        self.config = _Config(cc.config)

    @property
    def queues(self) -> dict[str, Any]:
        return {**self._cc.queues, HUNT: None}

    def join(self, channel: Channel, queue_name: str) -> Any:
        if queue_name != HUNT:
            return self._cc.join(channel, queue_name)
        # the dialplan decides this now, not the destination table
        channel.set_var("hangup_after_bridge", None)
        self._engine.hunt(channel, entry=True)
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cc, name)

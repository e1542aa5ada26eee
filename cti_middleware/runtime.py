"""Builds the core once and wires it: link -> pipeline -> state -> notifier -> sinks.

This is the only place objects are constructed and handed to each other; everything
else receives what it needs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .config import Settings
from .control import BreakReasons
from .esl.client import CommandError, CommandTimeout, EslConnection, NotConnectedError
from .esl.link import SwitchLink
from .model.snapshot import parse_tier_list
from .model.state import State
from .notify import Notifier
from .pipeline import Pipeline
from .provisioner import Provisioner
from .provisioner import enabled_from_env as provisioning_enabled
from .sinks.recording_index import RecordingIndexer
from .sinks.records import CallRecordSink
from .sinks.screenpop import ScreenPopSink
from .sinks.sockets import SocketSink
from .sinks.stats import StatsSink
from .store import agents as agent_store
from .store import call_batch
from .store import calls as call_store
from .store import customers as customer_store
from .store.errors import DB_ERRORS
from .webhooks import WebhookDispatcher, WebhookSink

log = logging.getLogger(__name__)


class Runtime:
    """The live middleware: one FreeSWITCH link, one state, the sinks around it."""

    def __init__(self, settings: Settings, emit: Callable[..., Any]) -> None:
        self.settings = settings
        self.state = State()
        self.notifier = Notifier()
        self.pipeline = Pipeline(self.state, self.notifier)
        self.names: dict[str, str | None] = {}
        # Called after every resync attempt (the shared state view rewrites itself in full).
        self.resync_listeners: list[Callable[[], None]] = []
        self.break_reasons = BreakReasons()
        self.sockets = SocketSink(emit, names=self.display_name, longest_wait=self.longest_wait,
                                  reasons=self.break_reasons.current)
        self.break_reasons.subscribe(self._break_reason_changed)
        self.screen_pops = ScreenPopSink(emit, customer_store.screen_pop_customer)
        self.recordings = RecordingIndexer(settings.recordings_dir)
        self.records = CallRecordSink(call_batch.record_calls, on_ended=self.recordings.submit)
        self.stats = StatsSink(emit)
        self.webhooks = WebhookSink()
        self.webhook_dispatcher = WebhookDispatcher()
        for sink in (self.sockets, self.screen_pops, self.records, self.stats, self.webhooks):
            self.notifier.add(sink)
        self.link = SwitchLink(
            settings.esl_host,
            settings.esl_port,
            settings.esl_password,
            on_frame=self.pipeline.handle_frame,
            on_connected=self._resync,
            event_format=settings.esl_event_format,
            command_timeout=settings.esl_command_timeout,
            queue_size=settings.esl_queue_size,
        )
        # mod_callcenter follows the routing tables only when asked to (CTI_PROVISION=1).
        self.provisioner = (Provisioner.from_env(self.link.api, self._reread_tiers)
                            if provisioning_enabled() else None)

    def start(self) -> None:
        self.webhooks.start()
        self.webhook_dispatcher.start()
        self.link.start()
        if self.provisioner is not None:
            self.provisioner.start()

    def stop(self) -> None:
        if self.provisioner is not None:
            self.provisioner.stop()
        self.link.stop()
        self.records.flush()
        self.recordings.flush()
        self.webhooks.stop()
        self.webhook_dispatcher.stop()

    def _resync(self, conn: EslConnection) -> None:
        self._load_names()
        try:
            self.pipeline.resync(conn.api)
        except (CommandError, CommandTimeout, NotConnectedError, ValueError) as exc:
            # A failed resync leaves the old picture in place; the next reconnect retries.
            log.error("resync from FreeSWITCH failed: %s", exc)
        for listener in self.resync_listeners:
            listener()
        if self.provisioner is not None:
            self.provisioner.request("connect")

    def _reread_tiers(self) -> None:
        self.pipeline.tiers = parse_tier_list(self.link.api("callcenter_config tier list"))

    def _load_names(self) -> None:
        """Display names read once per (re)connect, so no event waits on the database for them."""
        try:
            self.names.update({a.agent_id: a.display_name for a in agent_store.list_agents()})
        except DB_ERRORS as exc:
            log.warning("cannot load agent names: %s", exc)

    def _break_reason_changed(self, agent_id: str) -> None:
        """A new reason for an agent already On Break: the desktops see it now, not at the next change."""
        record = self.state.agents.get(agent_id)
        if record is not None:
            self.sockets.resend_agent(record)

    # --- lookups the sinks and sockets use -------------------------------------------
    def display_name(self, agent_id: str) -> str | None:
        if agent_id not in self.names:
            try:
                account = agent_store.get_agent(agent_id)
            except DB_ERRORS:
                return None
            self.names[agent_id] = account.display_name if account else None
        return self.names[agent_id]

    def agent_stats(self, agent_id: str) -> dict[str, Any]:
        """Today's figures for a desktop that just connected (seeded once from the store)."""
        now = time.time()
        if agent_id not in self.stats.by_agent:
            midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
            try:
                calls = call_store.recent_calls(limit=500, agent=agent_id, since=midnight)
            except DB_ERRORS:
                calls = []
            answered = [c for c in calls if c.get("answered_at") and c.get("ended_at")]
            self.stats.seed(agent_id, now, len(answered),
                            sum(c["ended_at"] - c["answered_at"] for c in answered))
        return self.stats.stats(agent_id, now).payload()

    def longest_wait(self, queue: str) -> float | None:
        return self.pipeline.longest_wait_since(queue)

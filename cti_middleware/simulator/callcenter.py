"""mod_callcenter: agents, tiers, queue members, the dispatcher and agent offers.

Behaviour follows mod_callcenter (1.10): a dispatcher looks at waiting members every
100 ms, picks agents by strategy (longest-idle-agent: level, last offered call,
position; ring-all: every eligible agent), marks them ``Receiving`` and originates
their contact.  An answered agent is bridged to the member; when the bridge ends the
agent goes straight back to ``Waiting`` - wrap-up is not announced, the agent is
simply not offered anything before ``last_bridge_end + wrap_up_time``.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

import gevent
import gevent.event

from cti_middleware.simulator import ccconf
from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.config import (
    AGENT_STATES,
    AGENT_STATUSES,
    AgentConfig,
    QueueConfig,
    SimConfig,
    TierConfig,
)
from cti_middleware.simulator.events import EventBus, Headers
from cti_middleware.simulator.switch import Switch

log = logging.getLogger(__name__)

SUBCLASS = "callcenter::info"
CC_FILE = "mod_callcenter.c"
SRC_STATUS = (CC_FILE, "cc_agent_update", 1043)
SRC_STATE = (CC_FILE, "cc_agent_update", 1067)
SRC_CONTACT = (CC_FILE, "cc_agent_update", 1091)
SRC_GET = (CC_FILE, "cc_agent_get", 970)
SRC_ADD = (CC_FILE, "cc_agent_add", 915)
SRC_COUNT = (CC_FILE, "cc_queue_count", 878)
SRC_JOIN = (CC_FILE, "callcenter_function", 3113)
SRC_CANCEL = (CC_FILE, "callcenter_function", 3274)
SRC_OFFER = (CC_FILE, "outbound_agent_thread_run", 1717)
SRC_OVARS = (CC_FILE, "outbound_agent_thread_run", 1755)
SRC_START = (CC_FILE, "outbound_agent_thread_run", 1934)
SRC_END = (CC_FILE, "outbound_agent_thread_run", 2062)
SRC_MEMBER_END = (CC_FILE, "outbound_agent_thread_run", 2098)
SRC_MAX_NO_ANSWER = (CC_FILE, "outbound_agent_thread_run", 2176)
SRC_FAIL = (CC_FILE, "outbound_agent_thread_run", 2200)


@dataclass
class Agent:
    """A row of the agents table plus the simulated phone behind its contact."""

    name: str
    type: str = "callback"
    contact: str = ""
    status: str = "Logged Out"
    state: str = "Waiting"
    max_no_answer: int = 0
    wrap_up_time: int = 0
    reject_delay_time: int = 0
    busy_delay_time: int = 0
    no_answer_delay_time: int = 0
    last_bridge_start: int = 0
    last_bridge_end: int = 0
    last_offered_call: int = 0
    last_status_change: int = 0
    no_answer_count: int = 0
    calls_answered: int = 0
    talk_time: int = 0
    ready_time: int = 0
    external_calls_count: int = 0
    uuid: str = ""
    # simulated phone and scaled timers (wall-clock seconds)
    answer_delay: float | None = 1.0
    leg_timeout: float = 10.0
    busy: bool = False
    wrap_until: float = 0.0
    ready_at: float = 0.0
    offered_seq: float = 0.0
    ringing: list = field(default_factory=list)

    def row(self) -> list[str]:
        return [
            self.name, "single_box", self.uuid, self.type, self.contact, self.status, self.state,
            *(str(v) for v in (
                self.max_no_answer, self.wrap_up_time, self.reject_delay_time, self.busy_delay_time,
                self.no_answer_delay_time, self.last_bridge_start, self.last_bridge_end,
                self.last_offered_call, self.last_status_change, self.no_answer_count,
                self.calls_answered, self.talk_time, self.ready_time, self.external_calls_count,
            )),
        ]


@dataclass
class Member:
    """A row of the members table."""

    queue: str
    uuid: str
    session_uuid: str
    cid_number: str
    cid_name: str
    joined_epoch: int
    joined_at: float
    channel: Channel
    system_epoch: int = 0
    rejoined_epoch: int = 0
    bridge_epoch: int = 0
    abandoned_epoch: int = 0
    base_score: int = 0
    skill_score: int = 0
    serving_agent: str = ""
    serving_system: str = ""
    state: str = "Waiting"

    def score(self, now: int) -> int:
        return now - self.joined_epoch + self.base_score + self.skill_score

    def row(self, now: int) -> list[str]:
        return [
            self.queue, "single_box", self.uuid, self.session_uuid, self.cid_number, self.cid_name,
            str(self.system_epoch), str(self.joined_epoch), str(self.rejoined_epoch),
            str(self.bridge_epoch), str(self.abandoned_epoch), str(self.base_score),
            str(self.skill_score), self.serving_agent, self.serving_system, self.state,
            str(self.score(now)),
        ]


@dataclass
class Offer:
    """One outbound attempt to an agent; ``outcome`` is set to how the leg ended ringing."""

    agent: Agent
    member: Member
    queue: QueueConfig
    channel: Channel | None = None
    outcome: gevent.event.AsyncResult = field(default_factory=gevent.event.AsyncResult)
    called_at: int = 0
    answered: bool = False
    resolved: bool = False


def moh_vars(member: Member) -> list[tuple[str, str]]:
    """What the interrupted hold music leaves behind on the member leg."""
    waited_ms = int((time.time() - member.joined_at) * 1000)
    return [
        ("playback_last_offset_pos", str(waited_ms * 8 // 2)),
        ("playback_seconds", str(waited_ms // 1000)),
        ("playback_ms", str(waited_ms)),
        ("playback_samples", str(waited_ms * 8)),
    ]


def agent_from_config(cfg: AgentConfig) -> Agent:
    return Agent(
        name=cfg.name, type=cfg.type, contact=cfg.contact, status=cfg.status,
        max_no_answer=cfg.max_no_answer, wrap_up_time=cfg.wrap_up_time,
        reject_delay_time=cfg.reject_delay_time, busy_delay_time=cfg.busy_delay_time,
        no_answer_delay_time=cfg.no_answer_delay_time, answer_delay=cfg.answer_delay,
        leg_timeout=cfg.leg_timeout, busy=cfg.busy, last_status_change=int(time.time()),
    )


class CallCenter:
    """The module state and its behaviour; everything runs in gevent greenlets."""

    def __init__(self, config: SimConfig, bus: EventBus, switch: Switch) -> None:
        self.config = config
        self.bus = bus
        self.switch = switch
        self.agents: dict[str, Agent] = {a.name: agent_from_config(a) for a in config.agents}
        self.queues: dict[str, QueueConfig] = {q.name: q for q in config.queues}
        self.tiers: list[TierConfig] = [TierConfig(**vars(t)) for t in config.tiers]
        self.members: list[Member] = []
        self.stats: dict[str, dict[str, int]] = {q: {"answered": 0, "abandoned": 0} for q in self.queues}
        self.wake = gevent.event.Event()
        self.running = False
        self._dispatcher: gevent.Greenlet | None = None
        self._offer_counter = 0.0
        # mod_xml_curl server of callcenter.conf (None: the built-in configuration only)
        self.conf_source = ccconf.ConfigSource.from_config(config)
        switch.on_member_gone = self.member_gone

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        if self.conf_source is not None and not self.running:
            self.load_module_config()
        self.running = True
        self._dispatcher = gevent.spawn(self._dispatch_loop)

    def stop(self) -> None:
        self.running = False
        if self._dispatcher is not None:
            self._dispatcher.kill(block=False)

    # -- configuration --------------------------------------------------------
    def load_module_config(self) -> bool:
        """Module load: queues, agents and tiers from the server's ``callcenter.conf``.

        False (and the built-in setup kept) when the server has none to give, as
        FreeSWITCH then reads its own file.
        """
        assert self.conf_source is not None
        conf = self.conf_source.fetch()
        if conf is None:
            return False
        self.queues = {name: ccconf.queue_from_params(name, params) for name, params in conf.queues.items()}
        self.stats = {name: {"answered": 0, "abandoned": 0} for name in self.queues}
        known = {a.name: a for a in self.config.agents}
        self.agents = {}
        for attrs in conf.agents:
            if attrs.get("type", "").lower() not in ("callback", "uuid-standby"):
                continue  # cc_agent_add refuses it
            agent = agent_from_config(ccconf.agent_config(attrs, known.get(attrs["name"])))
            self.agents[agent.name] = agent
        self.tiers = []
        for attrs in conf.tiers:
            queue, agent = attrs["queue"], attrs["agent"]
            existing = next((t for t in self.tiers if t.queue == queue and t.agent == agent), None)
            level, position = _int_attr(attrs, "level"), _int_attr(attrs, "position")
            if existing is not None:
                existing.level = existing.level if level is None else level
                existing.position = existing.position if position is None else position
            elif queue in self.queues and agent in self.agents:
                self.tiers.append(TierConfig(queue, agent, level or 1, position or 1))
        return True

    def get_queue(self, name: str) -> QueueConfig | None:
        """``get_queue``: a queue in memory, else loaded from the configuration server."""
        queue = self.queues.get(name)
        if queue is None and self.conf_source is not None:
            queue = self.conf_source.queue(name, self.config.queues)
            if queue is not None:
                self.queues[name] = queue
                self.stats[name] = {"answered": 0, "abandoned": 0}
                self.wake.set()
        return queue

    def destroy_queue(self, name: str) -> None:
        """``destroy_queue``: forget the queue and its counters (members stay in the table)."""
        self.queues.pop(name, None)
        self.stats.pop(name, None)

    def stat(self, queue: str) -> dict[str, int]:
        """The answered/abandoned counters of a queue (new ones after a reload)."""
        return self.stats.setdefault(queue, {"answered": 0, "abandoned": 0})

    # -- events ---------------------------------------------------------------
    def fire(self, source: tuple[str, str, int], cc: Headers, channel: Channel | None = None) -> None:
        headers = self.bus.core_headers("CUSTOM", source, subclass=SUBCLASS)
        if channel is not None:
            headers += channel.data()
        headers += cc
        self.bus.fire(headers)

    # -- agent table ----------------------------------------------------------
    def set_status(self, agent: Agent, status: str) -> None:
        now = int(time.time())
        if status == "Available" and agent.status != "Available":
            agent.talk_time = agent.calls_answered = agent.no_answer_count = 0
        agent.status = status
        agent.last_status_change = now
        if status != "Available":
            for offer in list(agent.ringing):
                if not offer.outcome.ready():
                    offer.outcome.set(("cancel", "ORIGINATOR_CANCEL"))
        self.fire(SRC_STATUS, [("CC-Agent", agent.name), ("CC-Action", "agent-status-change"),
                               ("CC-Agent-Status", status)])
        self.wake.set()

    def set_state(self, agent: Agent, state: str) -> None:
        agent.state = state
        if state == "Receiving":
            agent.last_offered_call = int(time.time())
        self.fire(SRC_STATE, [("CC-Agent", agent.name), ("CC-Action", "agent-state-change"),
                              ("CC-Agent-State", state)])
        self.wake.set()

    def set_contact(self, agent: Agent, contact: str) -> None:
        agent.contact = contact
        self.fire(SRC_CONTACT, [("CC-Agent", agent.name), ("CC-Action", "agent-contact-change"),
                                ("CC-Agent-Contact", contact)])

    def add_agent(self, name: str, agent_type: str) -> None:
        self.agents[name] = Agent(name=name, type=agent_type)
        self.fire(SRC_ADD, [("CC-Agent", name), ("CC-Agent-Type", agent_type), ("CC-Action", "agent-add")])

    def get_value(self, agent: Agent, key: str) -> str:
        value = agent.status if key == "status" else agent.state if key == "state" else agent.uuid
        label = {"status": "Status", "state": "State"}.get(key)
        if label:
            self.fire(SRC_GET, [("CC-Agent", agent.name), ("CC-Action", f"agent-{key}-get"),
                                (f"CC-Agent-{label}", value)])
        return value

    @staticmethod
    def valid_status(value: str) -> str | None:
        return next((s for s in AGENT_STATUSES if s.lower() == value.lower()), None)

    @staticmethod
    def valid_state(value: str) -> str | None:
        return next((s for s in AGENT_STATES if s.lower() == value.lower()), None)

    def tiers_of(self, queue: str) -> list[TierConfig]:
        return [t for t in self.tiers if t.queue == queue]

    def set_tier_state(self, agent: str, queue: str, state: str) -> None:
        for tier in self.tiers:
            if tier.agent == agent and tier.queue == queue:
                tier.state = state

    def queue_count(self, queue: str) -> int:
        """members-count: members still in the queue (waiting, being offered, or talking)."""
        count = sum(1 for m in self.members if m.queue == queue and m.state in ("Waiting", "Trying", "Answered"))
        self.fire(SRC_COUNT, [("CC-Queue", queue), ("CC-Action", "members-count"), ("CC-Count", str(count)),
                              ("CC-Selection", "Single-Queue")])
        return count

    # -- members --------------------------------------------------------------
    def join(self, channel: Channel, queue_name: str) -> Member:
        """The ``callcenter`` application on a member leg."""
        now = time.time()
        member_uuid = str(uuid.uuid4())
        v = channel.set_var
        v("current_application_data", queue_name)
        v("current_application", "callcenter")
        v("cc_side", "member")
        v("cc_member_uuid", member_uuid)
        channel.application, channel.application_data = "callcenter", queue_name
        queue = self.queues[queue_name]
        member = Member(
            queue=queue_name, uuid=member_uuid, session_uuid=channel.uuid,
            cid_number=channel.profile.caller_id_number, cid_name=channel.profile.caller_id_name,
            joined_epoch=int(now), joined_at=now, channel=channel,
            system_epoch=int(channel.answered_at or now),
            serving_agent="ring-all" if queue.strategy == "ring-all" else "",
        )
        base_score = channel.variables.get("cc_base_score", "")
        member.base_score = int(base_score) if base_score.isdigit() else 0
        v("cc_queue_joined_epoch", str(int(now)))
        v("cc_queue", queue_name)
        self.fire(SRC_JOIN, [
            ("CC-Queue", queue_name), ("CC-Action", "member-queue-start"), ("CC-Member-UUID", member_uuid),
            ("CC-Member-Session-UUID", channel.uuid), ("CC-Member-CID-Name", member.cid_name),
            ("CC-Member-CID-Number", member.cid_number),
        ], channel)
        self.bus.skip(4)
        # the member's own session thread enters the table and reports the count, after
        # originate has returned; the dispatcher cannot see the member before that count
        gevent.spawn(self._joined, member)
        return member

    def _joined(self, member: Member) -> None:
        if not member.channel.alive or member.channel.hanging_up:
            return
        self.members.append(member)
        self.queue_count(member.queue)
        self.wake.set()

    def member_of(self, channel: Channel) -> Member | None:
        return next((m for m in self.members if m.session_uuid == channel.uuid), None)

    def member_gone(self, channel: Channel) -> None:
        """The member hung up while still waiting: ``member-queue-end`` Cancel/BREAK_OUT."""
        member = self.member_of(channel)
        if member is None or member.state in ("Answered", "Abandoned"):
            return
        now = int(time.time())
        member.state = "Abandoned"
        member.abandoned_epoch = now
        member.session_uuid = ""
        self.stat(member.queue)["abandoned"] += 1
        for agent in self.agents.values():
            for offer in list(agent.ringing):
                if offer.member is member and not offer.outcome.ready():
                    offer.outcome.set(("cancel", "ORIGINATOR_CANCEL"))
        for key, value in moh_vars(member):
            channel.set_var(key, value)
        self.fire(SRC_CANCEL, [
            ("CC-Queue", member.queue), ("CC-Action", "member-queue-end"),
            ("CC-Member-Leaving-Time", str(now)), ("CC-Member-Joined-Time", str(member.joined_epoch)),
            ("CC-Cause", "Cancel"), ("CC-Cancel-Reason", "BREAK_OUT"), ("CC-Member-UUID", member.uuid),
            ("CC-Member-Session-UUID", channel.uuid), ("CC-Member-CID-Name", member.cid_name),
            ("CC-Member-CID-Number", member.cid_number),
        ], channel)
        channel.set_var("cc_queue_canceled_epoch", str(now))
        channel.set_var("cc_cause", "cancel")
        channel.set_var("cc_cancel_reason", "BREAK_OUT")
        self.queue_count(member.queue)

    # -- dispatcher -----------------------------------------------------------
    def _tick(self) -> float:
        return max(0.005, min(0.1, self.config.scaled(self.config.dispatch_interval)))

    def _dispatch_loop(self) -> None:
        while self.running:
            self.wake.wait(timeout=self._tick())
            self.wake.clear()
            try:
                self.dispatch_once()
            except Exception:
                import logging

                logging.getLogger(__name__).exception("dispatcher error")

    def dispatch_once(self) -> None:
        now = time.time()
        self._purge_abandoned(now)
        candidates = [m for m in self.members if m.state == "Waiting"
                      or (m.serving_agent == "ring-all" and m.state == "Trying")]
        candidates.sort(key=lambda m: (-m.score(int(now)), m.joined_at))
        for member in candidates:
            queue = self.queues.get(member.queue)
            if queue is None or not member.channel.alive or member.channel.hanging_up:
                continue
            self._offer_member(member, queue, now)

    def _purge_abandoned(self, now: float) -> None:
        keep = []
        for member in self.members:
            queue = self.queues.get(member.queue)
            discard = queue.discard_abandoned_after if queue else 60
            if member.state == "Abandoned" and member.abandoned_epoch + discard < int(now):
                continue
            keep.append(member)
        self.members = keep

    def _eligible(self, agent: Agent, tier: TierConfig, now: float) -> bool:
        return (tier.state in ("No Answer", "Ready") and agent.state == "Waiting"
                and agent.status in ("Available", "Available (On Demand)")
                and now >= agent.wrap_until and now >= agent.ready_at)

    def _ordered_agents(self, queue: QueueConfig) -> list[tuple[Agent, TierConfig]]:
        rows = []
        for tier in self.tiers_of(queue.name):
            agent = self.agents.get(tier.agent)
            if agent and agent.status in ("Available", "On Break", "Available (On Demand)"):
                rows.append((agent, tier))
        if queue.strategy == "ring-all":
            rows.sort(key=lambda r: (r[1].level, r[1].position))
        elif queue.strategy == "agent-with-least-talk-time":
            rows.sort(key=lambda r: (r[1].level, r[0].talk_time, r[1].position))
        elif queue.strategy == "agent-with-fewest-calls":
            rows.sort(key=lambda r: (r[1].level, r[0].calls_answered, r[1].position))
        elif queue.strategy == "longest-idle-agent":
            rows.sort(key=lambda r: (r[1].level, r[0].last_offered_call, r[0].offered_seq, r[1].position))
        else:
            rows.sort(key=lambda r: (r[1].level, r[1].position, r[0].last_offered_call))
        return rows

    def _offer_member(self, member: Member, queue: QueueConfig, now: float) -> None:
        ring_all = queue.strategy == "ring-all"
        if ring_all and member.state == "Waiting":
            member.state = "Trying"
        for agent, tier in self._ordered_agents(queue):
            if not self._eligible(agent, tier, now):
                continue
            if not ring_all:
                member.serving_agent, member.serving_system, member.state = agent.name, "single_box", "Trying"
            self._offer_counter += 1
            agent.offered_seq = self._offer_counter
            self.set_state(agent, "Receiving")
            for other in self.tiers:
                if other.agent == agent.name:
                    other.state = "Offering" if other.queue == queue.name else (
                        "Standby" if other.state == "Ready" else other.state)
            offer = Offer(agent=agent, member=member, queue=queue)
            agent.ringing.append(offer)
            gevent.spawn(self._run_offer, offer)
            if not ring_all:
                return

    # -- one offer (outbound_agent_thread_run) --------------------------------
    def _run_offer(self, offer: Offer) -> None:
        from cti_middleware.simulator.offer import run_offer

        run_offer(self, offer)


def _int_attr(attrs: dict[str, str], key: str) -> int | None:
    text = attrs.get(key, "").strip()
    return int(text) if text.lstrip("-").isdigit() else None

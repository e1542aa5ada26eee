"""Configuration of the simulated FreeSWITCH: agents, queues, tiers, dialplan.

The defaults mirror the configuration the reference recordings were made with
(``callcenter.conf`` with queues ``support@default`` and ``vip@default`` and agents
1000-1003), so a client tested against the simulator sees the same names, contacts
and list outputs it would see against that FreeSWITCH.

Time: every delay (agent answer, leg timeout, wrap-up, busy/no-answer delays, the
dispatcher tick) is multiplied by ``time_scale``, so a test can run a whole call in a
fraction of a second while keeping the proportions of the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AGENT_STATUSES = ("Logged Out", "Available", "Available (On Demand)", "On Break")
AGENT_STATES = ("Waiting", "Receiving", "In a queue call", "Idle")
TIER_STATES = ("No Answer", "Ready", "Offering", "Active Inbound", "Standby")


@dataclass
class AgentConfig:
    """One mod_callcenter agent and how its phone behaves when offered a call.

    ``answer_delay`` is the seconds the phone rings before answering; ``None`` means
    it never answers (the leg times out after ``leg_timeout``).  ``busy`` makes the
    phone reject every offer with USER_BUSY, like a SIP phone answering 486.
    """

    name: str
    contact: str
    answer_delay: float | None = 1.0
    leg_timeout: float = 10.0
    busy: bool = False
    status: str = "Logged Out"
    type: str = "callback"
    max_no_answer: int = 3
    wrap_up_time: int = 3
    reject_delay_time: int = 5
    busy_delay_time: int = 5
    no_answer_delay_time: int = 5


@dataclass
class QueueConfig:
    """One queue with the parameters ``callcenter_config queue list`` prints."""

    name: str
    strategy: str = "longest-idle-agent"
    moh_sound: str = "tone_stream://%(2000,4000,440,480);loops=-1"
    time_base_score: str = "system"
    tier_rules_apply: bool = False
    tier_rule_wait_second: int = 0
    tier_rule_wait_multiply_level: bool = False
    tier_rule_no_agent_no_wait: bool = True
    discard_abandoned_after: int = 60
    abandoned_resume_allowed: bool = False
    max_wait_time: int = 0
    max_wait_time_with_no_agent: int = 0
    max_wait_time_with_no_agent_time_reached: int = 5
    record_template: str = ""
    ring_progressively_delay: int = 0
    skip_agents_with_external_calls: bool = True
    agent_no_answer_status: str = "On Break"


@dataclass
class TierConfig:
    """Agent membership in a queue; lower level and position are offered first."""

    queue: str
    agent: str
    level: int = 1
    position: int = 1
    state: str = "Ready"


@dataclass
class SimConfig:
    """Everything the simulator needs; ``SimConfig.default()`` is the recorded setup."""

    agents: list[AgentConfig] = field(default_factory=list)
    queues: list[QueueConfig] = field(default_factory=list)
    tiers: list[TierConfig] = field(default_factory=list)
    # dialplan: destination number -> queue the B leg joins
    destinations: dict[str, str] = field(default_factory=dict)
    time_scale: float = 1.0
    hostname: str = "vm"
    ipv4: str = "192.0.2.2"
    ipv6: str = "fd00::2"
    max_sessions: int = 2000
    # dispatcher period of mod_callcenter (100 ms in FreeSWITCH), before scaling
    dispatch_interval: float = 0.1
    # mod_callcenter polls the bridged legs every 100 ms before sending bridge-agent-end
    bridge_poll_interval: float = 0.1
    # mod_xml_curl: dialplan server asked on every hunt (None: built-in dialplan only)
    xml_curl: str | None = None
    xml_curl_secret: str | None = None
    xml_curl_user: str = "freeswitch"
    xml_curl_timeout: float = 5.0

    def scaled(self, seconds: float) -> float:
        """A configured delay in wall-clock seconds."""
        return max(0.0, seconds * self.time_scale)

    def agent(self, name: str) -> AgentConfig | None:
        for agent in self.agents:
            if agent.name == name:
                return agent
        return None

    @classmethod
    def default(cls, time_scale: float = 1.0) -> SimConfig:
        """The configuration of the reference recordings (see captures/freeswitch.xml)."""
        return cls(
            agents=[
                AgentConfig(
                    "1000@default",
                    "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1000",
                ),
                AgentConfig(
                    "1001@default",
                    "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1001",
                ),
                AgentConfig(
                    "1002@default",
                    "[leg_timeout=4,null_enable_auto_answer=false]null/agent1002",
                    answer_delay=None,
                    leg_timeout=4,
                    max_no_answer=1,
                ),
            ],
            queues=[
                QueueConfig(
                    "support@default",
                    tier_rule_wait_second=300,
                    tier_rule_wait_multiply_level=True,
                    tier_rule_no_agent_no_wait=False,
                ),
                QueueConfig("vip@default", strategy="ring-all"),
            ],
            tiers=[
                TierConfig("support@default", "1000@default", 1, 1),
                TierConfig("support@default", "1001@default", 1, 2),
                TierConfig("support@default", "1002@default", 2, 1),
                TierConfig("vip@default", "1000@default", 1, 1),
                TierConfig("vip@default", "1001@default", 1, 1),
            ],
            destinations={"support": "support@default", "vip": "vip@default"},
            time_scale=time_scale,
        )


def parse_contact(contact: str) -> tuple[dict[str, str], str]:
    """Split ``[k=v,k2=v2]endpoint/dest`` (or ``{...}``) into its variables and dial string."""
    variables: dict[str, str] = {}
    rest = contact.strip()
    while rest[:1] in ("[", "{", "<"):
        close = {"[": "]", "{": "}", "<": ">"}[rest[0]]
        end = rest.find(close)
        if end < 0:
            break
        for item in split_vars(rest[1:end]):
            key, _, value = item.partition("=")
            if key:
                variables[key.strip()] = value
        rest = rest[end + 1 :]
    return variables, rest


def split_vars(text: str) -> list[str]:
    """Split a ``k=v,k2=v2`` list on commas that are not quoted or escaped."""
    items, current, quote = [], [], ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if current:
        items.append("".join(current))
    return items

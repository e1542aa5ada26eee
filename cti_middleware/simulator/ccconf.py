"""mod_callcenter's configuration read through mod_xml_curl.

FreeSWITCH opens ``callcenter.conf`` (through every XML binding, mod_xml_curl
first) when the module loads, and again whenever a queue that is not in memory
is needed: ``callcenter_config queue load|reload``, ``tier add``, the
``callcenter`` application.  Only module load imports the ``<agents>`` and
``<tiers>`` sections: an agent of the document is added when unknown and gets
the document's contact, status and delays either way; a tier is added when
unknown, otherwise only its level and position follow the document.  A queue
load reads that queue's ``<param>``s over the module defaults.

An unreachable server, "not found" or a document without ``callcenter.conf``
means FreeSWITCH's own file, which for the simulator is its built-in setup.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, fields, replace

from cti_middleware.simulator.config import (
    AgentConfig,
    QueueConfig,
    SimConfig,
    parse_contact,
)
from cti_middleware.simulator.xml_fetch import XmlCurlClient, config_params

log = logging.getLogger(__name__)

CONF_NAME = "callcenter.conf"
_QUEUE_FIELDS = {f.name: f for f in fields(QueueConfig) if f.name != "name"}


@dataclass
class CcConf:
    """The parts of a ``callcenter.conf`` document the module reads."""

    queues: dict[str, dict[str, str]] = field(default_factory=dict)
    agents: list[dict[str, str]] = field(default_factory=list)
    tiers: list[dict[str, str]] = field(default_factory=list)


def parse(document: str) -> CcConf | None:
    """The configuration in an answer, or None when it holds no ``callcenter.conf``."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return None
    conf = next((c for c in root.iter("configuration") if c.get("name") == CONF_NAME), None)
    if conf is None:
        return None
    out = CcConf()
    for queue in conf.iterfind("./queues/queue"):
        name = queue.get("name")
        if name:
            out.queues[name] = {p.get("name", ""): p.get("value", "") for p in queue.iterfind("param")}
    out.agents = [dict(a.attrib) for a in conf.iterfind("./agents/agent") if a.get("name")]
    out.tiers = [dict(t.attrib) for t in conf.iterfind("./tiers/tier") if t.get("agent") and t.get("queue")]
    return out


def _value(current: object, text: str) -> object:
    if isinstance(current, bool):
        return text.strip().lower() in ("true", "yes", "on", "1", "enabled", "active", "allow")
    if isinstance(current, int):
        try:
            return int(text.strip())
        except ValueError:
            return current
    return text


def queue_from_params(name: str, params: dict[str, str]) -> QueueConfig:
    """A queue built like ``load_queue``: module defaults, then the document's params."""
    queue = QueueConfig(name)
    for key, text in params.items():
        attr = key.strip().lower().replace("-", "_")
        if attr in _QUEUE_FIELDS:
            setattr(queue, attr, _value(getattr(queue, attr), text))
    return queue


def phone_of(contact: str) -> tuple[float | None, float]:
    """How the simulated phone behind a contact answers: (answer delay or None, leg timeout)."""
    variables, _dial = parse_contact(contact)
    try:
        timeout = float(variables.get("leg_timeout", "10"))
    except ValueError:
        timeout = 10.0
    if variables.get("null_enable_auto_answer", "").lower() == "false":
        return None, timeout
    delay = variables.get("null_auto_answer_delay", "")
    return (int(delay) / 1000 if delay.isdigit() else 1.0), timeout


class ConfigSource:
    """Fetches ``callcenter.conf`` from the mod_xml_curl server of a simulator."""

    def __init__(self, client: XmlCurlClient, hostname: str) -> None:
        self.client = client
        self.hostname = hostname

    @classmethod
    def from_config(cls, config: SimConfig) -> ConfigSource | None:
        if not config.xml_curl:
            return None
        client = XmlCurlClient(config.xml_curl, config.xml_curl_secret, config.xml_curl_user,
                               config.xml_curl_timeout)
        return cls(client, config.hostname)

    def fetch(self) -> CcConf | None:
        document = self.client.fetch(config_params(self.hostname, CONF_NAME), section="configuration")
        if document is None:
            return None
        conf = parse(document)
        if conf is None:
            log.warning("xml_curl answer holds no %s; using the built-in configuration", CONF_NAME)
        return conf

    def queue(self, name: str, own: list[QueueConfig]) -> QueueConfig | None:
        """``load_queue``: the named queue as the server describes it now, or None.

        No configuration from the server means FreeSWITCH's own file: ``own``.
        """
        conf = self.fetch()
        if conf is None:
            return next((replace(q) for q in own if q.name == name), None)
        if name not in conf.queues:
            return None
        return queue_from_params(name, conf.queues[name])


def agent_config(attrs: dict[str, str], known: AgentConfig | None) -> AgentConfig:
    """An agent of the document as the simulator's table entry (phone from its contact)."""
    contact = attrs.get("contact", known.contact if known else "")
    answer_delay, leg_timeout = phone_of(contact)
    cfg = AgentConfig(attrs["name"], contact, answer_delay=answer_delay, leg_timeout=leg_timeout,
                      type=attrs.get("type", "callback"), status=attrs.get("status", "Logged Out"))
    if known is not None and contact == known.contact:
        cfg.answer_delay, cfg.leg_timeout, cfg.busy = known.answer_delay, known.leg_timeout, known.busy
    for key in ("max_no_answer", "wrap_up_time", "reject_delay_time", "busy_delay_time",
                "no_answer_delay_time"):
        text = attrs.get(key.replace("_", "-"))
        if text is not None and text.strip().lstrip("-").isdigit():
            setattr(cfg, key, int(text))
    return cfg

"""A simulator in mod_xml_curl mode beside a real middleware, for the routing tests.

The routing rows are written before the middleware starts, as an administrator
would; the simulator then asks the middleware for every dialplan hunt and for
callcenter.conf, as FreeSWITCH does. What the calls did is read from the
switch's own events on the event socket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cti_middleware.demo import free_port
from cti_middleware.esl.wire import parse_event_body
from cti_middleware.store import db as store_db
from cti_middleware.store import routing
from tests.harness import EslTestClient, Proc, start_middleware, start_simulator

SECRET = "s3cret-curl"
TIME_SCALE = "0.1"
CONTACTS = {
    "1000@default": "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1000",
    "1001@default": "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1001",
    "1002@default": "[leg_timeout=4,null_enable_auto_answer=false]null/agent1002",
}
EVENTS = ("event plain CHANNEL_CREATE CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HANGUP "
          "CUSTOM callcenter::info")
STRANGER = "13700001234"

Event = dict[str, str]


def agent_configs() -> None:
    """The simulator's own agents, as rows of the routing tables."""
    for agent, contact in CONTACTS.items():
        routing.AgentConfig.create(agent_id=agent, contact=contact)


@dataclass
class XmlCurlSwitch:
    """The running pair. ``esl`` is subscribed to the events; ``control`` is a second
    connection for commands whose events a test reads meanwhile."""

    esl: EslTestClient
    control: EslTestClient
    url: str
    db_url: str
    middleware: Proc
    simulator: Proc

    def originate(self, number: str, dest: str = "support", dtmf: str | None = None) -> str:
        """The reply to an inbound call's originate (it returns once the dialplan answered)."""
        extra = f",sim_dtmf={dtmf}" if dtmf else ""
        return self.esl.api(f"originate {{origination_caller_id_number={number},"
                            f"origination_caller_id_name=Test{extra}}}loopback/{dest}/default &park()")

    def call(self, number: str, dest: str = "support", dtmf: str | None = None) -> str:
        """Place a call; the uuid of the leg that runs the dialplan (loopback B)."""
        reply = self.originate(number, dest, dtmf)
        assert reply.startswith("+OK "), reply
        b_leg = self.esl.api(f"uuid_getvar {reply[4:].strip()} other_loopback_leg_uuid").strip()
        assert len(b_leg) == 36, b_leg
        return b_leg

    def status(self, agent: str, status: str) -> None:
        assert self.esl.api(f"callcenter_config agent set status {agent} '{status}'").startswith("+OK")

    def events_until(self, done: Callable[[Event], bool]) -> list[Event]:
        """Every event received until (and including) the first one ``done`` accepts."""
        seen = []
        while True:
            frame = self.esl.next_frame()
            if frame.content_type != "text/event-plain":
                continue
            seen.append(parse_event_body(frame))
            if done(seen[-1]):
                return seen


def hangup_of(uuid: str) -> Callable[[Event], bool]:
    return lambda e: e.get("Event-Name") == "CHANNEL_HANGUP" and e.get("Unique-ID") == uuid


def queue_start_of(uuid: str) -> Callable[[Event], bool]:
    return lambda e: e.get("CC-Action") == "member-queue-start" and e.get("Unique-ID") == uuid


@pytest.fixture
def xml_curl_switch(seeded_db: str, tmp_path: Path) -> Iterator[Callable[..., XmlCurlSwitch]]:
    """Start the simulator (``--xml-curl``) and the middleware after ``setup`` wrote the rows;
    ``env`` adds middleware settings."""
    procs: list[Proc] = []
    clients: list[EslTestClient] = []

    def start(setup: Callable[[], None], env: dict[str, str] | None = None) -> XmlCurlSwitch:
        store_db.open_database(seeded_db)
        try:
            setup()
        finally:
            store_db.close_database()
        http_port = free_port()
        url = f"http://127.0.0.1:{http_port}/freeswitch/xml"
        sim, esl_port = start_simulator(
            extra=["--time-scale", TIME_SCALE, "--xml-curl", url, "--xml-curl-secret", SECRET],
            log_path=tmp_path / "simulator.log")
        procs.append(sim)
        mw, base = start_middleware(esl_port, seeded_db, log_path=tmp_path / "middleware.log", extra_env={
            "CTI_HTTP_PORT": str(http_port), "CTI_XML_CURL_SECRET": SECRET,
            "CTI_XML_CURL_ALLOW": "127.0.0.1/32", "CTI_SOUNDS_DIR": "/snd", **(env or {})})
        procs.append(mw)
        mw.wait_for(r"resynced from FreeSWITCH")
        esl, control = EslTestClient(esl_port), EslTestClient(esl_port)
        clients.extend([esl, control])
        assert esl.command(EVENTS).headers.get("Reply-Text", "").startswith("+OK")
        return XmlCurlSwitch(esl, control, base, seeded_db, mw, sim)

    try:
        yield start
    finally:
        for client in clients:
            client.close()
        for proc in reversed(procs):
            proc.stop()

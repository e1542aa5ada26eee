"""``cti-middleware demo``: the whole product on one laptop, with no FreeSWITCH and no setup.

A simulated FreeSWITCH (same event-socket bytes as a real one), the middleware and the
agent desktop run in one process on SQLite; a call generator keeps calls coming.  The
simulator takes its dialplan from the middleware's mod_xml_curl endpoint, as a real
box configured for it would, so the demo calls go through the IVR (language and main
menu, with random key presses), VIP routing and the business-hours rules; until the
web server is up, or for numbers the middleware does not serve, the simulator's
built-in dialplan answers.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import secrets
import socket

from .config import Settings
from .store.demo import DEMO_PASSWORD

log = logging.getLogger(__name__)


def free_port() -> int:
    """A loopback port nobody listens on now, for a server whose address another
    process must be given before the server starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What the generated callers press, as sim_dtmf: a language (unknown callers only),
# then a main-menu choice; "" is a caller who presses nothing (the menu times out).
MENU_CHOICES = ("0", "0", "0", "0", "1", "2", "")


def random_keys(rng: random.Random) -> str:
    """Key presses for one demo caller: language menu digit, then main menu digit."""
    return rng.choice("123") + rng.choice(MENU_CHOICES)


def seed_routing(config) -> None:
    """Queues, agents, tiers and the ``support`` entry point the demo dialplan needs.

    Mirrors the simulator's mod_callcenter configuration; rows that exist are kept.
    """
    from .store import routing

    queues = {}
    for q in config.queues:
        queues[q.name], _ = routing.Queue.get_or_create(
            name=q.name, defaults={"strategy": q.strategy, "record_calls": False})
    agents = {}
    for a in config.agents:
        agents[a.name], _ = routing.AgentConfig.get_or_create(
            agent_id=a.name, defaults={"contact": a.contact, "wrap_up_time": a.wrap_up_time})
    for t in config.tiers:
        if t.queue in queues and t.agent in agents:
            routing.Tier.get_or_create(agent=agents[t.agent], queue=queues[t.queue],
                                       defaults={"level": t.level, "position": t.position})
    if "support@default" in queues and routing.entry_point_for("support") is None:
        routing.EntryPoint.create(
            dnis="support", name="Demo hotline", queue=queues["support@default"],
            vip_queue=queues.get("vip@default"), language_menu=True, main_menu=True,
            # a known caller rings their last agent first; that desktop pops as for a queue call
            sticky_agent=True, survey=False, voicemail_box="support")


def _ivr_generator(host: str, port: int, calls_per_minute: float):
    """The call generator, with every caller carrying random IVR key presses."""
    from .simulator.generator import CallGenerator

    class IvrCallGenerator(CallGenerator):
        def command(self, line: str):
            prefix = "bgapi originate {"
            if line.startswith(prefix):
                line = f"{prefix}sim_dtmf={random_keys(self._rng)}," + line[len(prefix):]
            return super().command(line)

    return IvrCallGenerator(host, port, "ClueCon", calls_per_minute=calls_per_minute)


def run_demo(args: argparse.Namespace) -> int:
    from .cli import _open_db, serve
    from .simulator import SimConfig, Simulator
    from .store.demo import seed_demo

    db_path = os.path.abspath(args.database or "cti-demo.sqlite")
    db_url = f"sqlite:///{db_path}"
    _open_db(db_url)
    seed_demo()
    config = SimConfig.default()
    seed_routing(config)

    base = Settings.from_env()
    port = args.port if args.port is not None else base.http_port
    port = port or free_port()  # the simulator needs the address before the server starts
    xml_curl_secret = base.xml_curl_secret or secrets.token_urlsafe(16)
    config.xml_curl = f"http://127.0.0.1:{port}/freeswitch/xml"
    config.xml_curl_secret = xml_curl_secret
    sim = Simulator(config, host="127.0.0.1", port=0, password="ClueCon").start()
    generator = _ivr_generator("127.0.0.1", sim.port, args.calls_per_minute)
    generator.start()

    settings = Settings(
        esl_host="127.0.0.1",
        esl_port=sim.port,
        esl_password="ClueCon",
        database_url=db_url,
        http_host=base.http_host,
        http_port=port,
        # A fresh key per demo run unless one is given: signed recording URLs refuse the
        # built-in default.
        secret_key=(base.secret_key if os.environ.get("CTI_SECRET_KEY")
                    else secrets.token_urlsafe(32)),
        xml_curl_secret=xml_curl_secret,
        xml_curl_allow="127.0.0.1/32",
    )
    print(
        "\nCTI middleware demo\n"
        f"  simulated FreeSWITCH event socket: 127.0.0.1:{sim.port} (password ClueCon)\n"
        f"  database: {db_path}\n"
        f"  agents: 1000@default, 1001@default, 1002@default; supervisor 9000@default; "
        f"password {DEMO_PASSWORD} (demo only)\n"
        f"  calls: about {args.calls_per_minute:g} a minute from known and new numbers, "
        f"routed by the middleware's dialplan ({config.xml_curl})\n",
        flush=True,
    )
    try:
        serve(settings, ready_message="Open the agent desktop at")
    except KeyboardInterrupt:
        pass
    finally:
        generator.stop()
        sim.stop()
    return 0

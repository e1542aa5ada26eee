"""``cti-middleware demo``: the whole product on one laptop, with no FreeSWITCH and no setup.

A simulated FreeSWITCH (same event-socket bytes as a real one), the middleware and the
agent desktop run in one process on SQLite; a call generator keeps calls coming.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket

from .config import Settings
from .store.demo import DEMO_PASSWORD

log = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_demo(args: argparse.Namespace) -> int:
    from .cli import _open_db, serve
    from .simulator import SimConfig, Simulator
    from .simulator.generator import CallGenerator
    from .store.demo import seed_demo

    db_path = os.path.abspath(args.database or "cti-demo.sqlite")
    db_url = f"sqlite:///{db_path}"
    _open_db(db_url)
    seed_demo()

    sim = Simulator(SimConfig.default(), host="127.0.0.1", port=0, password="ClueCon").start()
    generator = CallGenerator("127.0.0.1", sim.port, "ClueCon", calls_per_minute=args.calls_per_minute)
    generator.start()

    base = Settings.from_env()
    port = args.port if args.port is not None else base.http_port
    settings = Settings(
        esl_host="127.0.0.1",
        esl_port=sim.port,
        esl_password="ClueCon",
        database_url=db_url,
        http_host=base.http_host,
        http_port=port,
        secret_key=base.secret_key,
    )
    print(
        "\nCTI middleware demo\n"
        f"  simulated FreeSWITCH event socket: 127.0.0.1:{sim.port} (password ClueCon)\n"
        f"  database: {db_path}\n"
        f"  agents: 1000@default, 1001@default, 1002@default; supervisor 9000@default; "
        f"password {DEMO_PASSWORD} (demo only)\n"
        f"  calls: about {args.calls_per_minute:g} a minute from known and new numbers\n",
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

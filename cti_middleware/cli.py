"""``cti-middleware``: the commands ops and developers run.

gevent's monkey patching must happen before anything imports socket or threading, so
the heavy imports live inside the commands.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence

log = logging.getLogger("cti_middleware")


def _patch() -> None:
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()
    try:
        from psycogreen.gevent import patch_psycopg
    except ImportError:  # pragma: no cover - psycogreen is a declared dependency
        return
    patch_psycopg()


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _open_db(url: str | None) -> None:
    from . import api  # noqa: F401  (imports every store module, so all tables join the schema)
    from .store import db

    db.open_database(url)
    db.create_schema()


def _open_configured_db() -> None:
    """The database named by CTI_DATABASE_URL (SQLite by default), schema ensured."""
    from .config import Settings

    _open_db(Settings.from_env().database_url)


def cmd_initdb(args: argparse.Namespace) -> int:
    from .config import Settings

    settings = Settings.from_env()
    _open_db(settings.database_url)
    if args.demo:
        from .store.demo import seed_demo

        seed_demo()
    print(f"database ready: {settings.database_url or 'sqlite (default file)'}")
    return 0


def serve(settings: object, ready_message: str = "CTI middleware listening on",
          web_only: bool = False) -> None:
    """Run the web server and (unless ``web_only``) the FreeSWITCH link until interrupted."""
    from geventwebsocket.handler import WebSocketHandler

    from .web.app import create_app
    from .web.server import NoDelayWSGIServer

    app, _socketio, runtime = create_app(settings, web_only=web_only)  # type: ignore[arg-type]
    # Everything built so far (modules, the app, the state) lives as long as the process.
    # Frozen, it is left out of every later full garbage collection, which otherwise
    # stalls the event loop, and with it every pop, for 60-110 ms with 1,000 desktops
    # connected; the same pass takes 15-35 ms without these objects.
    gc.collect()
    gc.freeze()
    server = NoDelayWSGIServer(
        (settings.http_host, settings.http_port),  # type: ignore[attr-defined]
        app,
        handler_class=WebSocketHandler,
        log=None,
        error_log=logging.getLogger("cti_middleware.http"),
    )
    server.start()
    host, port = server.address[:2]
    print(f"{ready_message} http://{host}:{port}/", flush=True)
    try:
        server.serve_forever()
    finally:
        runtime.stop()


def cmd_run(args: argparse.Namespace) -> int:
    from .config import Settings

    settings = Settings.from_env()
    web_only = args.web_only or os.environ.get("CTI_WEB_ONLY", "").lower() in ("1", "true", "yes")
    if web_only and not settings.message_queue:
        print("error: a web-only worker needs CTI_MESSAGE_QUEUE (e.g. redis://127.0.0.1:6379/0)",
              file=sys.stderr)
        return 2
    _open_db(settings.database_url)
    serve(settings, web_only=web_only)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args)


def cmd_agent_add(args: argparse.Namespace) -> int:
    from .store.agents import add_agent

    _open_configured_db()
    try:
        add_agent(args.agent_id, args.password, role=args.role, name=args.name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"agent {args.agent_id} added ({args.role})")
    return 0


def cmd_customer_add(args: argparse.Namespace) -> int:
    from .store.customers import add_customer

    _open_configured_db()
    try:
        customer = add_customer(args.name, args.phone, address=args.address, vip=args.vip)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"customer {customer.id} added: {args.name}")
    return 0


def cmd_render_config(args: argparse.Namespace) -> int:
    from .dialplan.static import write_static_config

    _open_configured_db()
    for path in write_static_config(args.outdir):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cti-middleware", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("initdb", help="create the schema (CTI_DATABASE_URL, default SQLite)")
    p.add_argument("--demo", action="store_true", help="also add demo customers and agents")
    p.set_defaults(func=cmd_initdb)

    p = sub.add_parser("run", help="run the middleware against the FreeSWITCH in CTI_ESL_*")
    p.add_argument("--web-only", action="store_true",
                   help="serve pages, API and Socket.IO only (no FreeSWITCH link); events come "
                        "from the ingest process through CTI_MESSAGE_QUEUE (also CTI_WEB_ONLY=1)")
    p.set_defaults(func=cmd_run)

    sub.add_parser("simulate", help="run the FreeSWITCH simulator alone (--port, --password, "
                   "--time-scale, --generate; see simulate --help)")

    p = sub.add_parser("demo", help="simulator + middleware + pages on SQLite")
    p.add_argument("--port", type=int, default=None, help="HTTP port (default CTI_HTTP_PORT or 5000)")
    p.add_argument("--calls-per-minute", type=float, default=6.0)
    p.add_argument("--database", default=None, help="SQLite file (default ./cti-demo.sqlite)")
    p.set_defaults(func=cmd_demo)

    agent = sub.add_parser("agent", help="agent accounts").add_subparsers(dest="agent_cmd", required=True)
    p = agent.add_parser("add", help="add an agent account")
    p.add_argument("agent_id", help="as in mod_callcenter, e.g. 1000@default")
    p.add_argument("--password", required=True)
    p.add_argument("--role", choices=["agent", "supervisor", "admin"], default="agent")
    p.add_argument("--name", default=None)
    p.set_defaults(func=cmd_agent_add)

    customer = sub.add_parser("customer", help="customers").add_subparsers(dest="customer_cmd", required=True)
    p = customer.add_parser("add", help="add a customer")
    p.add_argument("--name", required=True)
    p.add_argument("--phone", action="append", required=True)
    p.add_argument("--address", default=None)
    p.add_argument("--vip", action="store_true")
    p.set_defaults(func=cmd_customer_add)

    from .api import add_token_commands

    add_token_commands(sub, _open_configured_db)
    from .routing_cli import add_routing_commands

    add_routing_commands(sub, _open_configured_db)
    from .api.recordings_cli import add_recording_commands

    add_recording_commands(sub, _open_configured_db)

    p = sub.add_parser("render-config", help="write dialplan and callcenter XML to OUTDIR")
    p.add_argument("outdir")
    p.set_defaults(func=cmd_render_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("run", "demo", "simulate") for a in argv[:2]):
        # Before anything imports socket, ssl or threading.
        _patch()
    if argv[:1] == ["simulate"]:
        # The simulator owns its options (see `cti-middleware simulate --help`).
        from .simulator.cli import run_simulator

        return run_simulator(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    _logging(args.verbose or bool(os.environ.get("CTI_DEBUG")))
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

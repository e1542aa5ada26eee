"""``cti-middleware simulate``: run the simulated FreeSWITCH until interrupted."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

import gevent

from cti_middleware.simulator.config import SimConfig
from cti_middleware.simulator.core import Simulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cti-middleware simulate",
                                     description="FreeSWITCH + mod_callcenter simulator (event socket)")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8021, help="event socket port (0 = any free port)")
    parser.add_argument("--password", default="ClueCon", help="event socket password")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiply every delay (answer, timeouts, wrap-up) by this factor")
    parser.add_argument("--generate", type=float, default=0.0, metavar="CALLS_PER_MINUTE",
                        help="also place random calls into the queues at this rate")
    parser.add_argument("--xml-curl", metavar="URL", default=os.environ.get("CTI_SIM_XML_CURL"),
                        help="ask this mod_xml_curl server for the dialplan of every hunt and for "
                             "callcenter.conf (e.g. http://127.0.0.1:5000/freeswitch/xml); "
                             "built-in dialplan and queues when it has none")
    parser.add_argument("--xml-curl-secret", metavar="SECRET", default=os.environ.get("CTI_XML_CURL_SECRET"),
                        help="basic-auth password for --xml-curl (default: $CTI_XML_CURL_SECRET)")
    parser.add_argument("--xml-curl-user", metavar="USER",
                        default=os.environ.get("CTI_XML_CURL_USER", "freeswitch"),
                        help="basic-auth user for --xml-curl (default: $CTI_XML_CURL_USER or freeswitch)")
    return parser


def run_simulator(argv: list[str] | None = None) -> int:
    """Start the simulator and serve until SIGINT/SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv if argv is not None else sys.argv[1:])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = SimConfig.default(time_scale=args.time_scale)
    config.xml_curl = args.xml_curl or None
    config.xml_curl_secret = args.xml_curl_secret or None
    config.xml_curl_user = args.xml_curl_user
    sim = Simulator(config, host=args.host, port=args.port, password=args.password)
    sim.start()
    print(f"simulator listening on {args.host}:{sim.port}", flush=True)
    if config.xml_curl:
        print(f"dialplan from mod_xml_curl server {config.xml_curl}", flush=True)
    generator = None
    if args.generate > 0:
        from cti_middleware.simulator.generator import CallGenerator

        generator = CallGenerator("127.0.0.1", sim.port, args.password, calls_per_minute=args.generate,
                                  time_scale=args.time_scale)
        generator.start()
    stop = gevent.event.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stop.set)
    stop.wait()
    if generator is not None:
        generator.stop()
    sim.stop()
    return 0


main = run_simulator

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run_simulator())

"""Agent desktops for load: many Socket.IO websocket clients in one gevent process.

Speaks Engine.IO 4 / Socket.IO 5 directly over a websocket (open, namespace connect
with the agent's credentials, ping/pong, events), which keeps a desktop to a few
kilobytes so thousands fit in a process.  Records when each ``screen.pop`` (stage
``offered``) and each ``agent.state`` arrives, and prints them at the end.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse
import json
import resource
import sys
import time

import gevent
import gevent.lock
import websocket

NS = "/agent"


class Desktop:
    def __init__(self, url: str, agent: str, password: str, log: dict) -> None:
        self.url, self.agent, self.password, self.log = url, agent, password, log
        self.ready = gevent.event.Event()
        self.error: str | None = None

    def run(self) -> None:
        try:
            # websocket-client checks UTF-8 byte by byte in Python (0.4 ms for a 2 KB pop)
            # before decoding the text in C, which checks it again: a desktop's browser
            # does this natively, so the Python pass would only time the load generator.
            ws = websocket.create_connection(self.url, timeout=300, enable_multithread=False,
                                             skip_utf8_validation=True)
            ws.recv()  # engine.io open packet
            ws.send("40" + NS + "," + json.dumps({"agent": self.agent, "password": self.password}))
            while True:
                msg = ws.recv()
                now = time.time()
                if msg == "2":
                    ws.send("3")
                elif msg.startswith("40" + NS):
                    self.ready.set()
                elif msg.startswith("44" + NS):
                    self.error = msg
                    self.ready.set()
                    return
                elif msg.startswith("42" + NS + ","):
                    name, _, rest = msg[len(NS) + 4:].partition(",")
                    if name == '"screen.pop"':
                        data = json.loads(rest[:-1])
                        if data.get("stage") == "offered":
                            self.log["pops"].append((data["call_uuid"], now,
                                                     bool(data.get("customer"))))
                    elif name == '"agent.state"':
                        data = json.loads(rest[:-1])
                        self.log["states"].append((data.get("status"), now))
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            self.error = f"{type(exc).__name__}: {exc}"
            self.ready.set()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--password", default="bench")
    parser.add_argument("--seconds", type=float, required=True, help="stay connected this long")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    log: dict = {"pops": [], "states": []}
    url = args.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    desks = []
    logging_in = gevent.lock.BoundedSemaphore(10)  # a login storm, but a bounded one

    def login(desk: Desktop) -> None:
        desk.ready.wait(300)
        logging_in.release()

    for i in range(args.first, args.first + args.count):
        desk = Desktop(url, f"{10000 + i}@default", args.password, log)
        desks.append(desk)
        logging_in.acquire()
        gevent.spawn(desk.run)
        gevent.spawn(login, desk)
    for desk in desks:
        desk.ready.wait(300)
    errors = [d.error for d in desks if d.error]
    print(f"READY {len(desks) - len(errors)} {errors[:3]}", flush=True)
    gevent.sleep(args.seconds)
    print("RESULT " + json.dumps({"connected": len(desks) - len(errors), "errors": errors[:5],
                                  **log}), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

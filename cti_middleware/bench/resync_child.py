"""The measured side of the resync benchmark: connect, resync twice, report the times."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse
import json
import logging
import time


def main() -> None:
    from ..esl.client import EslConnection
    from ..model.state import State
    from ..notify import Notifier
    from ..pipeline import Pipeline

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    changes: list[object] = []

    class Sink:
        def handle(self, change: object) -> None:
            changes.append(change)

    pipeline = Pipeline(State(), Notifier([Sink()]))
    times = []
    for _ in range(3):  # a cold start, then reconnects onto a known picture
        conn = EslConnection("127.0.0.1", args.port, "ClueCon")
        conn.connect()
        t0 = time.perf_counter()
        pipeline.resync(conn.api)
        times.append(time.perf_counter() - t0)
        conn.stop()
    state = pipeline.state
    print("RESULT " + json.dumps({
        "seconds": times, "agents": len(state.agents), "queues": len(state.queues),
        "channels": len(state.channels), "members": len(state.members),
        "changes": len(changes)}), flush=True)


if __name__ == "__main__":
    main()

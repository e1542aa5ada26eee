"""``cti-middleware recordings scan``: back-fill the recording index from the directory.

For files recorded while the middleware was down, copied in from another
box, or written after their call record (a slow shared mount).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..store.recordings import scan
from ..store.validate import StoreError

OpenDb = Callable[[], None]


def cmd_scan(args: argparse.Namespace, open_db: OpenDb) -> int:
    from ..config import Settings

    root = args.dir or Settings.from_env().recordings_dir
    open_db()
    try:
        result = scan(root)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in result.skipped:
        print(f"skipped {line}", file=sys.stderr)
    print(f"{result.indexed} recording(s) indexed from {root}, {len(result.skipped)} skipped")
    return 0


def add_recording_commands(sub: argparse._SubParsersAction, open_db: OpenDb) -> None:
    """Register ``recordings scan`` on the top-level sub-parsers."""
    recordings = sub.add_parser("recordings", help="call recordings").add_subparsers(
        dest="recordings_cmd", required=True
    )
    p = recordings.add_parser(
        "scan", help="index files named YYYY/MM/DD/<call uuid>.wav|.mp3 in the recordings directory")
    p.add_argument("--dir", default=None, help="default: CTI_RECORDINGS_DIR")
    p.set_defaults(func=lambda args: cmd_scan(args, open_db))

"""Indexes a call's recording once its call record is written.

Looking for the file (a stat or two, a WAV header) and writing the index row
happen in this sink's own greenlet, fed by a bounded queue, so neither the
event path nor the call-record writer waits on the disk. A call whose index
could not be written is left for ``cti-middleware recordings scan``. Like the
call-record writer it runs below the screen pops: it waits for the hub to go
idle (at most ``max_delay`` seconds), then indexes what has gathered in order,
yielding between calls.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import gevent
import gevent.queue

from ..store import recordings
from ..store.errors import DB_ERRORS
from .background import drain_when_idle

log = logging.getLogger(__name__)

# Indexes one call (its uuid, or its record as just written) under a recordings root.
Indexer = Callable[[Any, str], Any]


class RecordingIndexer:
    """``submit(call)`` never blocks; the worker indexes in the background.

    ``call`` is a call uuid or the call's record as the record writer wrote it.
    """

    def __init__(self, root: str | os.PathLike[str], index: Indexer = recordings.index_call,
                 max_pending: int = 10000, attempts: int = 3, retry_delay: float = 1.0,
                 max_batch: int = 100, max_delay: float = 0.5) -> None:
        self.root = os.fspath(root)
        self.index = index
        self.pending: gevent.queue.JoinableQueue = gevent.queue.JoinableQueue(maxsize=max_pending)
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.indexed = 0
        self.failed = 0
        self._worker = gevent.spawn(self._run)

    def submit(self, call: Any) -> None:
        try:
            self.pending.put_nowait(call)
        except gevent.queue.Full:
            self.failed += 1
            log.error("recording of call %s not indexed: %d waiting; run 'recordings scan'",
                      _uuid(call), self.pending.qsize())

    def _run(self) -> None:
        drain_when_idle(self.pending, self._index_one, self.max_batch, self.max_delay)

    def _index_one(self, call: Any) -> None:
        call_uuid = _uuid(call)
        for attempt in range(1, self.attempts + 1):
            try:
                if self.index(call, self.root) is not None:
                    self.indexed += 1
                return
            except DB_ERRORS as exc:
                if attempt == self.attempts:
                    break
                log.warning("indexing recording of %s failed (%s); retrying", call_uuid, exc)
                gevent.sleep(self.retry_delay * attempt)
            except Exception:  # a bad row must not stop the worker
                log.exception("indexing recording of %s failed", call_uuid)
                break
        self.failed += 1
        log.error("recording of call %s not indexed; run 'recordings scan'", call_uuid)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every submitted call is indexed (for shutdown and tests)."""
        return self.pending.join(timeout=timeout)


def _uuid(call: Any) -> str:
    return call if isinstance(call, str) else call.call_uuid

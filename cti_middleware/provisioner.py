"""Keeps the connected FreeSWITCH's mod_callcenter equal to the routing tables.

Opt-in (``CTI_PROVISION=1``): without it the middleware never changes
mod_callcenter's queues, agents or tiers. When on, a reconcile runs after
every (re)connect, after every routing edit made through the REST API
(debounced, so a burst of edits costs one pass) and every
``CTI_PROVISION_INTERVAL`` seconds, which also picks up edits made with the
CLI in another process. Passes run in their own greenlet so the event path
never waits on the database or on FreeSWITCH's replies.

Safety: a database with no queue, agent or tier at all is taken to be a
wrong or freshly created database, not an order to empty the switch; the
pass is refused and logged. A command FreeSWITCH refuses is retried, then
the whole pass is repeated with growing delays until it succeeds, so a
failure is never dropped; the latest failures are kept for
``/api/provisioning``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event

from .dialplan import provision
from .store import routing
from .store.db import connected
from .store.errors import DB_ERRORS

log = logging.getLogger(__name__)

TRUE = ("1", "true", "yes", "on")


def enabled_from_env(environ: dict[str, str] | None = None) -> bool:
    """Whether ``CTI_PROVISION`` asks for provisioning."""
    env = os.environ if environ is None else environ
    return env.get("CTI_PROVISION", "").strip().lower() in TRUE


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {raw!r}") from None


@connected
def routing_is_empty() -> bool:
    """True when the store holds no queue, agent config or tier at all."""
    return not (routing.Queue.select().exists() or routing.AgentConfig.select().exists()
                or routing.Tier.select().exists())


class Provisioner:
    """Runs :func:`provision.sync` against ``api`` whenever asked, one pass at a time."""

    def __init__(
        self,
        api: Callable[[str], str],
        *,
        debounce: float = 0.3,
        interval: float | None = 300.0,
        retry_first: float = 1.0,
        retry_cap: float = 60.0,
        command_retries: int = 3,
        command_delay: float = 0.5,
        on_tiers_changed: Callable[[], None] | None = None,
    ) -> None:
        self.api = api
        # mod_callcenter sends no event for tier edits: whoever keeps a tier picture re-reads it.
        self.on_tiers_changed = on_tiers_changed
        self.debounce = debounce
        self.interval = interval if interval and interval > 0 else None
        self.retry_first, self.retry_cap = retry_first, retry_cap
        self.command_retries, self.command_delay = command_retries, command_delay
        self._wake = gevent.event.Event()
        self._reasons: set[str] = set()
        self._greenlet: gevent.Greenlet | None = None
        self._retry_delay = retry_first
        self.passes = 0
        self.commands_sent = 0
        self.commands_failed = 0
        self.refused = 0
        self.last_pass_at: float | None = None
        self.last_error: str | None = None
        self.failures: list[dict[str, str]] = []
        self.idle = gevent.event.Event()
        self.idle.set()

    @classmethod
    def from_env(cls, api: Callable[[str], str],
                 on_tiers_changed: Callable[[], None] | None = None) -> Provisioner:
        return cls(api, debounce=_float_env("CTI_PROVISION_DEBOUNCE", 0.3),
                   interval=_float_env("CTI_PROVISION_INTERVAL", 300.0),
                   on_tiers_changed=on_tiers_changed)

    # --- control -------------------------------------------------------------------
    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=2)
            self._greenlet = None

    def request(self, reason: str) -> None:
        """Ask for a pass soon; cheap and safe to call from any greenlet."""
        self._reasons.add(reason)
        self.idle.clear()
        self._wake.set()

    # --- the loop ------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            woken = self._wake.wait(timeout=self.interval)
            if not woken:
                self._reasons.add("periodic")
            # Let a burst of edits settle into one pass.
            gevent.sleep(self.debounce)
            self._wake.clear()
            reasons, self._reasons = self._reasons or {"periodic"}, set()
            ok = self.run_once(reasons)
            if ok:
                self._retry_delay = self.retry_first
                if not self._wake.is_set():
                    self.idle.set()
                continue
            delay, self._retry_delay = self._retry_delay, min(self.retry_cap, self._retry_delay * 2)
            log.warning("mod_callcenter provisioning incomplete; next attempt in %.1fs", delay)
            self._wake.wait(timeout=delay)
            self._reasons.add("retry")
            self._wake.set()

    def run_once(self, reasons: set[str] | frozenset[str] = frozenset({"manual"})) -> bool:
        """One reconcile pass; True when FreeSWITCH now matches the store (or was refused
        on purpose), False when it should be tried again."""
        self.passes += 1
        self.last_pass_at = time.time()
        why = ",".join(sorted(reasons))
        try:
            if routing_is_empty():
                self.refused += 1
                self.last_error = "no routing data in the database"
                log.error("provisioning refused (%s): the database holds no queues, agents or "
                          "tiers; mod_callcenter is left untouched rather than emptied", why)
                return True
            drift = not reasons <= {"api"}
            report = provision.sync(self.api, drift=drift, retries=self.command_retries,
                                    delay=self.command_delay, sleep=gevent.sleep)
        except DB_ERRORS as exc:
            self.last_error = f"database: {exc}"
            log.error("provisioning pass (%s) could not read the database: %s", why, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - not connected, -ERR on a list, bad output
            self.last_error = str(exc) or type(exc).__name__
            log.warning("provisioning pass (%s) could not read mod_callcenter: %s", why, exc)
            return False
        self.commands_sent += len(report.outcomes)
        self.commands_failed += len(report.failures)
        self.failures = [{"command": o.command, "reply": o.reply.strip()[:200]}
                         for o in report.failures]
        self.last_error = None if report.ok else f"{len(report.failures)} command(s) failed"
        if self.on_tiers_changed is not None and any(
                o.ok and " tier " in o.command for o in report.outcomes):
            try:
                self.on_tiers_changed()
            except Exception as exc:  # noqa: BLE001 - the next resync repairs the picture
                log.warning("cannot re-read the tier list after provisioning: %s", exc)
        if report.outcomes:
            log.info("mod_callcenter provisioning (%s): %d commands, %d failed", why,
                     len(report.outcomes), len(report.failures))
        return report.ok

    def status(self) -> dict[str, Any]:
        """What /api/provisioning shows."""
        return {
            "enabled": True,
            "passes": self.passes,
            "commands_sent": self.commands_sent,
            "commands_failed": self.commands_failed,
            "refused": self.refused,
            "last_pass_at": self.last_pass_at,
            "last_error": self.last_error,
            "failures": list(self.failures),
            "pending": not self.idle.is_set(),
        }

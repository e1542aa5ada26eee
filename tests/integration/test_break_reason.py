"""A new break reason reaches the desktops at once, over real sockets.

An agent already On Break who picks another reason changes nothing on the switch
(the status stays On Break, mod_callcenter's state model reports no change), so the
middleware itself has to re-send that agent's ``agent.state``: the agent's own
desktop and every supervisor see the new reason without waiting for another change.
"""

from __future__ import annotations

from tests.harness import Desktop
from tests.integration.test_supervisor_monitoring import ALICE, PASSWORD, SUE, stack  # noqa: F401


def _on_break_with(reason: str):
    return lambda d: d["agent"] == ALICE and d["status"] == "On Break" and d["reason"] == reason


def test_new_reason_while_on_break_is_pushed_to_the_agent_and_supervisors(stack) -> None:  # noqa: F811
    base, _esl, _watcher = stack
    alice = Desktop(base, ALICE, PASSWORD)
    sue = Desktop(base, SUE, PASSWORD, namespace="/supervisor")
    try:
        alice.wait("agent.state")
        assert alice.call("agent.not_ready", {"reason": "lunch"})["ok"] is True
        lunch = alice.wait("agent.state", _on_break_with("lunch"))
        sue.wait("agent.state", _on_break_with("lunch"))

        assert alice.call("agent.not_ready", {"reason": "meeting"}) == {
            "ok": True, "status": "On Break", "reason": "meeting"}
        meeting = alice.wait("agent.state", _on_break_with("meeting"), timeout=5)
        seen_by_sue = sue.wait("agent.state", _on_break_with("meeting"), timeout=5)
        # the same break goes on: only the reason is new
        for payload in (meeting, seen_by_sue):
            assert payload["state"] == lunch["state"]
            assert payload["since"] == lunch["since"]

        # a supervisor giving another reason is shown at once too
        assert sue.call("supervisor.force", {"agent": ALICE, "status": "On Break", "reason": "training"})[
            "ok"] is True
        alice.wait("agent.state", _on_break_with("training"), timeout=5)
        sue.wait("agent.state", _on_break_with("training"), timeout=5)
    finally:
        alice.close()
        sue.close()

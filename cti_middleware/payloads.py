"""The outgoing schema: domain records -> JSON payloads for desktops, CRMs and webhooks.

Raw ESL headers never leave the middleware; every payload is built here, once, so the
socket API and the webhooks cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from .model.changes import AgentStateChanged
from .model.entities import Agent


def agent_state(agent: AgentStateChanged | Agent, name: str | None = None,
                reason: str | None = None) -> dict[str, Any]:
    """``agent.state`` from a change, or from the live record for a desktop that just connected.

    ``reason`` is the break reason the agent chose; it only means something while the
    status is On Break, so any other status carries null whatever the caller passes.
    """
    return {
        "agent": agent.agent if isinstance(agent, AgentStateChanged) else agent.name,
        "name": name,
        "status": agent.status,
        "state": agent.state,
        "since": agent.since,
        "call_uuid": agent.call_uuid,
        "wrap_up_until": agent.wrap_up_until,
        "reason": reason if agent.status == "On Break" else None,
    }


def screen_pop(
    *,
    call_uuid: str,
    stage: str,
    queue: str | None,
    agent: str,
    caller_number: str,
    caller_name: str,
    customer: dict[str, Any] | None,
    region: str | None,
    offered_at: float | None,
    answered_at: float | None,
    attached: dict[str, Any] | None = None,
    transferred_from: str | None = None,
) -> dict[str, Any]:
    return {
        "call_uuid": call_uuid,
        "stage": stage,
        "queue": queue,
        "agent": agent,
        "caller": {"number": caller_number, "name": caller_name},
        "customer": customer,
        "new_caller": customer is None,
        "region": region,
        "offered_at": offered_at,
        "answered_at": answered_at,
        "attached": attached or {},
        "transferred_from": transferred_from,
    }


def queue_waiting(queue: str, waiting: int, longest_wait_since: float | None) -> dict[str, Any]:
    return {"queue": queue, "waiting": waiting, "longest_wait_since": longest_wait_since}

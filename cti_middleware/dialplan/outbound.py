"""ESL commands that start outbound calls through the ``cti-outbound`` context.

The agent's phone is rung first (its mod_callcenter contact); when it
answers, the call continues in the outbound dialplan, which picks the
caller id (the public number of the line the customer called, ``cti_dnis``,
or the default) and the gateway. Every argument is checked, so the command
cannot be extended by a crafted number.
"""

from __future__ import annotations

from ..store import routing
from .route import DIAL_NUMBER, OUTBOUND_CONTEXT


def originate_command(
    agent: routing.AgentConfig,
    number: str,
    *,
    dnis: str | None = None,
    callback_id: int | None = None,
    context: str = OUTBOUND_CONTEXT,
) -> str:
    """``originate`` for click-to-call (or a callback when ``callback_id`` is set)."""
    routing.check_pattern(agent.agent_id, routing.AGENT_NAME, "agent id")
    routing.check_pattern(agent.contact, routing.CONTACT, "contact")
    routing.check_pattern(number, DIAL_NUMBER, "number")
    variables = [
        f"cti_agent={agent.agent_id}",
        f"origination_caller_id_number={number}",
        "cti_route=outbound",
    ]
    if dnis is not None:
        variables.append(f"cti_dnis={routing.check_pattern(dnis, routing.DNIS, 'dnis')}")
    if callback_id is not None:
        variables.append(f"cti_callback_id={int(callback_id)}")
    contact = agent.contact
    # A contact may open with its own {...} block; ours is merged into it.
    if contact.startswith("{"):
        head, _, rest = contact[1:].partition("}")
        prefix = "{" + ",".join([*variables, head]) + "}"
        contact = rest
    else:
        prefix = "{" + ",".join(variables) + "}"
    return f"originate {prefix}{contact} {number} XML {context}"

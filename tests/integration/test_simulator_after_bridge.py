"""After the agent hangs up, the caller goes on with the middleware's dialplan.

A real middleware serving mod_xml_curl and a real simulator started with
``--xml-curl``: the call goes through the IVR to an agent (the agent-intro
extension runs on the caller's leg as the bridge starts), the agent hangs up,
and the caller, still on the line (``hangup_after_bridge=false``), reaches
after-queue, answers the survey with a key, and the score lands on the call record.
"""

from __future__ import annotations

from cti_middleware.store import db as store_db
from cti_middleware.store import routing
from cti_middleware.store.models import CallRecord
from tests.integration.xml_curl_stack import (
    STRANGER,
    agent_configs,
    hangup_of,
)

MOH = "tone_stream://%(2000,4000,440,480);loops=-1"


def base_routing() -> None:
    """The simulator's own queues and agents, as rows of the routing tables."""
    support = routing.Queue.create(name="support@default", record_calls=False, moh_sound=MOH)
    routing.Queue.create(name="vip@default", strategy="ring-all", record_calls=False, moh_sound=MOH)
    agent_configs()
    routing.Tier.create(queue=support, agent=routing.AgentConfig.get(agent_id="1000@default"))


def _survey_entry() -> None:
    base_routing()
    support = routing.Queue.get(name="support@default")
    vip = routing.Queue.get(name="vip@default")
    routing.EntryPoint.create(dnis="support", queue=support, vip_queue=vip, language_menu=True,
                              main_menu=True, menu_tries=2, menu_timeout_ms=2000, sticky_agent=False,
                              survey=True, voicemail_box="support")


def test_caller_answers_the_survey_after_the_agent_hangs_up(xml_curl_switch):
    switch = xml_curl_switch(_survey_entry)
    assert switch.esl.api("callcenter_config agent set status 1000@default Available").startswith("+OK")
    b_leg = switch.call(STRANGER, dtmf="104")  # 普通话, 0: an agent; later 4 for the survey
    bridged = switch.events_until(
        lambda e: e.get("Event-Name") == "CHANNEL_BRIDGE" and e.get("Unique-ID") == b_leg)[-1]
    agent_leg = bridged["Bridge-B-Unique-ID"]
    assert bridged["variable_hangup_after_bridge"] == "false"
    assert switch.control.api(f"uuid_kill {agent_leg}") == "+OK\n"
    unbridge = switch.events_until(
        lambda e: e.get("Event-Name") == "CHANNEL_UNBRIDGE" and e.get("Unique-ID") == b_leg)
    hangups = [e["Unique-ID"] for e in unbridge if e.get("Event-Name") == "CHANNEL_HANGUP"]
    assert hangups == [agent_leg]  # the caller is still there
    switch.middleware.wait_for(rf"survey score 4 stored for call {b_leg}")
    end = switch.events_until(hangup_of(b_leg))[-1]
    assert end["variable_cti_survey"] == "4"
    assert end["variable_cc_cause"] == "answered"
    store_db.open_database(switch.db_url)
    try:
        record = CallRecord.get(CallRecord.call_uuid == b_leg)
        assert record.satisfaction == 4
    finally:
        store_db.close_database()

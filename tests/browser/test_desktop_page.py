"""Page-rendering tests of the agent desktop against a stand-in server (stub_server.py).

They check what an agent sees and what the page sends, not the middleware itself: the
end-to-end tests drive the same run_page.mjs against the real server.
"""

from __future__ import annotations

import time

from tests.browser.runner import run_scenario
from tests.browser.stub_server import StubServer, agent_state

AGENT = {"agent": "1000@default", "password": "1234"}
SUPERVISOR = {"agent": "9000@default", "password": "9999"}
HOSTILE_NAME = '<img src=x onerror="window.__xss=1">\n"Bobby" & \'<b>Tables</b>\''
NO_INJECTION = ("window.__xss === undefined && !document.querySelector('#pop-card img, #pop-card b, "
                "#pop-card script')")
CALL_UUID = "6f0a1a2e-1111-4c3b-9d7e-0123456789ab"
OK = {"ok": True}


def known_customer_pop(stage: str = "offered") -> dict:
    """A screen.pop for a returning VIP, with more history than the card shows."""
    now = time.time()
    return {
        "call_uuid": CALL_UUID, "stage": stage, "queue": "support@default", "agent": "1000@default",
        "caller": {"number": "13800138000", "name": "张三"},
        "customer": {
            "id": 1, "name": "张三", "address": "北京市朝阳区建国路 88 号", "phones": ["13800138000", "010-88886666"],
            "vip": True, "notes": "偏好下午回电。\n上次投诉已解决。",
            "work_orders": [{"id": 100 + i, "type": "维修", "status": "open" if i == 0 else "closed",
                             "summary": f"空调不制冷 #{i}", "created_at": now - 86400 * i} for i in range(6)],
            "calls": [{"call_uuid": f"c{i}", "queue": "support@default", "agent": "1001@default",
                       "joined_at": now - 3600 * (i + 1), "answered_at": None if i == 1 else now - 3600 * (i + 1) + 20,
                       "ended_at": now - 3600 * (i + 1) + 200, "abandoned": i == 1} for i in range(7)],
        },
        "new_caller": False, "region": "北京市", "offered_at": now, "answered_at": None,
    }


def unknown_caller_pop() -> dict:
    """A first-time caller whose name is hostile markup."""
    return {
        "call_uuid": CALL_UUID, "stage": "offered", "queue": "sales@default", "agent": "1000@default",
        "caller": {"number": "13912345678", "name": HOSTILE_NAME}, "customer": None,
        "new_caller": True, "region": "江苏省南京市", "offered_at": time.time(), "answered_at": None,
    }


def test_invalid_credentials_are_reported(stub_server: StubServer) -> None:
    run_scenario(stub_server.url, {"name": "login-invalid", "lang": "en", "steps": [
        {"login": {"agent": "1000@default", "password": "wrong"}},
        {"visible": "#login-error"},
        {"text": {"selector": "#login-error", "contains": "Invalid credentials"}},
        {"visible": "#login-view"},
        {"hidden": "#desktop-view"},
        {"enabled": "#login-submit"},
        {"screenshot": "login-invalid"},
    ]})


def test_state_timer_and_known_customer_pop(stub_server: StubServer) -> None:

    def on_sync(name: str) -> None:
        if name == "pop":
            stub_server.emit("screen.pop", known_customer_pop("offered"))
            stub_server.emit("queue.waiting", {"queue": "support@default", "waiting": 3,
                                               "longest_wait_since": time.time() - 95})
            stub_server.emit("agent.stats", {"calls_today": 12, "talk_time": 3725, "avg_handle_time": 310})

    run_scenario(stub_server.url, {"name": "pop-known-zh", "steps": [
        {"screenshot": "login-zh"},
        {"login": AGENT},
        {"visible": "#desktop-view"},
        {"text": {"selector": "#header-name", "equals": "王小明"}},
        {"text": {"selector": "#state-status", "equals": "就绪"}},
        {"text": {"selector": "#state-state", "equals": "等待来电"}},
        # since = 55 s before connect: the timer must tick over the minute by itself
        {"text": {"selector": "#state-timer", "regex": "^01:0[0-9]$"}},
        {"text": {"selector": "#pop-empty", "equals": "当前无来电"}},
        {"disabled": "#btn-answer"},
        {"sync": "pop"},
        {"text": {"selector": "#pop-caller-number", "equals": "13800138000"}},
        {"text": {"selector": "#pop-customer-name", "equals": "张三"}},
        {"text": {"selector": "#pop-stage", "equals": "振铃中"}},
        {"visible": "#pop-vip"},
        {"hidden": "#pop-new"},
        {"text": {"selector": "#pop-address", "equals": "北京市朝阳区建国路 88 号"}},
        {"count": {"selector": "#pop-phones li", "equals": 2}},
        {"text": {"selector": "#pop-notes", "equals": "偏好下午回电。\n上次投诉已解决。"}},
        {"count": {"selector": "#pop-orders [data-testid=pop-order]", "equals": 5}},
        {"count": {"selector": "#pop-calls [data-testid=pop-call]", "equals": 5}},
        {"text": {"selector": "#pop-orders li:first-child", "contains": "空调不制冷 #0"}},
        {"text": {"selector": "#queue-total", "equals": "3"}},
        {"text": {"selector": "#queue-list [data-queue='support@default']", "regex": "最长等待 01:3[5-9]"}},
        {"text": {"selector": "#stats-calls", "equals": "12"}},
        {"text": {"selector": "#stats-talk", "equals": "1:02:05"}},
        {"text": {"selector": "#stats-aht", "equals": "05:10"}},
        {"enabled": "#btn-answer"},
        {"enabled": "#btn-hangup"},
        {"disabled": "#btn-hold"},
        {"disabled": "#btn-transfer"},
        {"screenshot": "desktop-pop-known-zh"},
    ]}, on_sync=on_sync)


def test_hostile_unknown_caller_in_english_and_language_persists(stub_server: StubServer) -> None:
    run_scenario(stub_server.url, {"name": "pop-unknown-en", "steps": [
        {"text": {"selector": "#login-submit", "equals": "登录"}},
        {"click": "#lang-switch"},
        {"text": {"selector": "#login-submit", "equals": "Sign in"}},
        {"reload": True},
        {"text": {"selector": "#login-submit", "equals": "Sign in"}},
        {"login": AGENT},
        {"text": {"selector": "#state-status", "equals": "Available"}},
        {"sync": "pop"},
        {"text": {"selector": "#pop-caller-name", "equals": HOSTILE_NAME}},
        {"text": {"selector": "#pop-new", "equals": "New caller"}},
        {"text": {"selector": "#pop-region", "equals": "江苏省南京市"}},
        {"hidden": "#pop-customer"},
        {"hidden": "#pop-vip"},
        {"assert": NO_INJECTION},
        {"screenshot": "desktop-pop-unknown-en"},
    ]}, on_sync=lambda name: stub_server.emit("screen.pop", unknown_caller_pop()))


def test_call_controls_follow_the_call_and_show_ack_errors(stub_server: StubServer) -> None:
    stub_server.acks["call.hold"] = lambda event, data: OK
    stub_server.acks["call.transfer"] = lambda event, data: {
        "ok": False, "error": "NO_SUCH_TARGET", "message": "目标不存在"}

    def on_sync(name: str) -> None:
        if name == "bridged":
            stub_server.emit("screen.pop", known_customer_pop("bridged"))
            stub_server.emit("agent.state", agent_state("1000@default", "Available", "In a queue call",
                                                        time.time(), CALL_UUID))
        elif name == "hung-up":
            stub_server.emit("agent.state", agent_state("1000@default", "Available", "Waiting", time.time()))

    run_scenario(stub_server.url, {"name": "call-controls", "steps": [
        {"login": AGENT},
        # The socket is up and its handlers are live once the first agent.state shows.
        {"text": {"selector": "#state-status", "equals": "就绪"}},
        {"attr": {"selector": "#call-panel", "name": "data-phase", "equals": "none"}},
        {"enabled": "#btn-dial"},
        {"sync": "bridged"},
        {"text": {"selector": "#pop-stage", "equals": "通话中"}},
        {"text": {"selector": "#state-state", "equals": "通话中"}},
        {"disabled": "#btn-answer"},
        {"disabled": "#btn-dial"},
        {"enabled": "#dtmf-pad button[data-digit='5']"},
        {"click": "#btn-hold"},
        {"attr": {"selector": "#call-panel", "name": "data-phase", "equals": "held"}},
        {"text": {"selector": "#btn-hold", "equals": "取回"}},
        {"click": "#btn-transfer"},
        {"visible": "#transfer-dialog"},
        {"fill": {"selector": "#transfer-target", "value": "1001@default"}},
        {"screenshot": "transfer-dialog"},
        {"click": "#transfer-confirm"},
        {"text": {"selector": "#status-line", "contains": "目标不存在"}},
        {"attr": {"selector": "#status-line", "name": "data-kind", "equals": "error"}},
        # unhandled on this server: the page must report it, not hang or break
        {"click": "#btn-hangup"},
        {"text": {"selector": "#status-line", "contains": "not implemented"}},
        {"screenshot": "call-held-error"},
        {"sync": "hung-up"},
        {"attr": {"selector": "#pop-card", "name": "data-stage", "equals": "ended"}},
        {"disabled": "#btn-hangup"},
        {"enabled": "#btn-save-notes"},
    ]}, on_sync=on_sync)
    assert stub_server.wait_for("call.hold") == {"uuid": CALL_UUID}
    assert stub_server.wait_for("call.transfer") == {"uuid": CALL_UUID, "target": "1001@default"}
    assert stub_server.wait_for("call.hangup") == {"uuid": CALL_UUID}


def test_not_ready_sends_reason_and_shows_new_state(stub_server: StubServer) -> None:
    def not_ready(event: str, data: dict) -> dict:
        stub_server.emit("agent.state", agent_state("1000@default", "On Break", "Idle", time.time()))
        return OK

    stub_server.acks["agent.not_ready"] = not_ready
    run_scenario(stub_server.url, {"name": "not-ready", "lang": "en", "steps": [
        {"login": AGENT},
        {"text": {"selector": "#state-status", "equals": "Available"}},
        {"select": {"selector": "#notready-reason", "value": "lunch"}},
        {"click": "#btn-not-ready"},
        {"text": {"selector": "#state-status", "equals": "On break"}},
        {"text": {"selector": "#state-timer", "regex": "^00:0[0-9]$"}},
        {"text": {"selector": "#status-line", "equals": "Not ready: done"}},
        {"click": "#btn-signout"},
        {"visible": "#login-view"},
    ]})
    assert stub_server.wait_for("agent.not_ready") == {"reason": "lunch"}


def test_supervisor_sees_agents_and_can_barge(stub_server: StubServer) -> None:
    stub_server.supervisor_agents = [
        {"agent": "1000@default", "name": "王小明", "status": "Available", "state": "In a queue call",
         "call_uuid": CALL_UUID},
        {"agent": "1001@default", "name": "<script>window.__xss=1</script>", "status": "On Break",
         "state": "Idle", "call_uuid": None},
    ]
    stub_server.acks["supervisor.barge"] = lambda event, data: OK

    def on_sync(name: str) -> None:
        stub_server.emit("agent.state", agent_state("1001@default", "Available", "Waiting", time.time()),
                         namespace="/supervisor")

    run_scenario(stub_server.url, {"name": "supervisor", "steps": [
        {"login": SUPERVISOR},
        {"text": {"selector": "#header-role", "equals": "班长"}},
        {"visible": "#supervisor-panel"},
        {"count": {"selector": "#sup-agents tr", "equals": 2}},
        {"text": {"selector": "#sup-agents tr[data-agent='1001@default']", "contains": "小休"}},
        {"text": {"selector": "#sup-agents tr[data-agent='1001@default'] td:nth-child(2)",
                  "equals": "<script>window.__xss=1</script>"}},
        {"assert": "window.__xss === undefined && !document.querySelector('#sup-agents script')"},
        {"sync": "update"},
        {"text": {"selector": "#sup-agents tr[data-agent='1001@default']", "contains": "等待来电"}},
        # an update without a name keeps the name already shown
        {"text": {"selector": "#sup-agents tr[data-agent='1001@default'] td:nth-child(2)",
                  "equals": "<script>window.__xss=1</script>"}},
        {"click": "#sup-agents tr[data-agent='1000@default'] [data-action=barge]"},
        {"text": {"selector": "#status-line", "equals": "强插：成功"}},
        {"click": "#sup-agents tr[data-agent='1001@default'] [data-action=force-ready]"},
        {"text": {"selector": "#status-line", "contains": "not implemented"}},
        {"screenshot": "supervisor-zh"},
    ]}, on_sync=on_sync)
    assert stub_server.wait_for("supervisor.barge") == {"agent": "1000@default"}
    assert stub_server.wait_for("supervisor.force") == {"agent": "1001@default", "status": "Available"}


def test_agent_account_gets_no_supervisor_panel(stub_server: StubServer) -> None:
    run_scenario(stub_server.url, {"name": "agent-no-supervisor", "steps": [
        {"login": AGENT},
        {"text": {"selector": "#header-role", "equals": "坐席"}},
        {"hidden": "#supervisor-panel"},
    ]})


def test_consult_dtmf_dial_and_notes_send_what_the_server_expects(stub_server: StubServer) -> None:
    for event in ("call.consult", "call.consult_cancel", "call.dtmf", "call.attach_data", "call.dial"):
        stub_server.acks[event] = lambda event, data: OK

    def on_sync(name: str) -> None:
        if name == "bridged":
            stub_server.emit("screen.pop", known_customer_pop("bridged"))
        else:
            stub_server.emit("agent.state", agent_state("1000@default", "Available", "Waiting", time.time()))

    run_scenario(stub_server.url, {"name": "consult-dtmf-dial", "lang": "en", "steps": [
        {"login": AGENT},
        {"text": {"selector": "#state-status", "equals": "Available"}},
        {"fill": {"selector": "#dial-number", "value": "abc"}},
        {"click": "#btn-dial"},
        {"text": {"selector": "#status-line", "equals": "Enter a valid number"}},
        {"sync": "bridged"},
        {"click": "#dtmf-pad button[data-digit='5']"},
        {"click": "#dtmf-pad button[data-digit='#']"},
        {"text": {"selector": "#dtmf-sent", "equals": "5#"}},
        {"click": "#btn-consult"},
        {"attr": {"selector": "#transfer-dialog", "name": "data-mode", "equals": "consult"}},
        {"fill": {"selector": "#transfer-target", "value": "support@default"}},
        {"click": "#transfer-confirm"},
        {"attr": {"selector": "#call-panel", "name": "data-phase", "equals": "consulting"}},
        {"enabled": "#btn-consult-complete"},
        {"enabled": "#btn-conference"},
        {"disabled": "#btn-consult"},
        {"click": "#btn-consult-cancel"},
        {"attr": {"selector": "#call-panel", "name": "data-phase", "equals": "bridged"}},
        {"sync": "ended"},
        {"fill": {"selector": "#call-notes", "value": "客户要求\n明天回电"}},
        {"click": "#btn-save-notes"},
        {"text": {"selector": "#status-line", "equals": "Save notes: done"}},
        {"fill": {"selector": "#dial-number", "value": "138 0013 8000"}},
        {"click": "#btn-dial"},
        {"text": {"selector": "#status-line", "equals": "Dial: done"}},
    ]}, on_sync=on_sync)
    assert [d for _, e, d in stub_server.received if e == "call.dtmf"] == [
        {"uuid": CALL_UUID, "digits": "5"}, {"uuid": CALL_UUID, "digits": "#"}]
    assert stub_server.wait_for("call.consult") == {"uuid": CALL_UUID, "target": "support@default"}
    assert stub_server.wait_for("call.consult_cancel") == {"uuid": CALL_UUID}
    assert stub_server.wait_for("call.attach_data") == {"uuid": CALL_UUID, "notes": "客户要求\n明天回电"}
    assert stub_server.wait_for("call.dial") == {"number": "13800138000"}

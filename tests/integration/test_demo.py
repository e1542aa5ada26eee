"""`cti-middleware demo` (what `make demo` runs): a demo agent signs in and gets calls."""

from __future__ import annotations

from pathlib import Path

from tests.harness import CLI, Desktop, Proc


def test_demo_serves_the_desktop_and_pops_generated_calls(tmp_path: Path) -> None:
    demo = Proc([CLI, "demo", "--port", "0", "--database", str(tmp_path / "demo.sqlite"),
                 "--calls-per-minute", "120"], log_path=tmp_path / "demo.log")
    try:
        url = demo.wait_for(r"Open the agent desktop at (http://[\d.]+:\d+)/").group(1)
        demo.wait_for(r"resynced from FreeSWITCH")
        desk = Desktop(url, "1000@default", "1234")
        try:
            assert desk.wait("session")["name"]
            ack = desk.call("agent.login")
            assert ack["ok"] is True, ack
            desk.wait("agent.state", lambda d: d["status"] == "Available")
            pop = desk.wait("screen.pop", timeout=40)
            assert pop["agent"] == "1000@default"
            assert pop["caller"]["number"]
            assert pop["new_caller"] is (pop["customer"] is None)
        finally:
            desk.close()
    finally:
        demo.stop()

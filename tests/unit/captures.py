"""Load the FreeSWITCH recordings for tests: frames, header dicts, typed events.

Everything goes through the real wire parser (``cti_middleware.esl.wire``), so the
tests exercise exactly what production does with the same bytes.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cti_middleware import events
from cti_middleware.esl.wire import Frame, FrameParser, parse_event_body
from cti_middleware.model import State
from cti_middleware.model.changes import Change

CAPTURES = Path(os.environ.get("CTI_CAPTURES", "/work/shared/captures"))
EVENT_TYPES = ("text/event-plain", "text/event-json")


def scenario_dir(name: str) -> Path:
    """``"03"`` or ``"03-answered-call"`` -> the scenario's folder."""
    matches = sorted(p for p in CAPTURES.iterdir() if p.is_dir() and p.name.startswith(name))
    if not matches:
        raise FileNotFoundError(f"no capture scenario {name!r} in {CAPTURES}")
    return matches[0]


def scenarios_with_events() -> list[str]:
    return sorted(p.name for p in CAPTURES.iterdir() if (p / "events.plain").exists())


def frames(path: Path, chunk: int = 0) -> list[Frame]:
    """All frames of a recording; ``chunk`` > 0 feeds the parser that many bytes at a time."""
    data = path.read_bytes()
    parser = FrameParser()
    if chunk <= 0:
        return parser.feed(data)
    out: list[Frame] = []
    for i in range(0, len(data), chunk):
        out.extend(parser.feed(data[i : i + chunk]))
    return out


@lru_cache(maxsize=64)
def header_dicts(scenario: str, fmt: str) -> tuple[dict[str, str], ...]:
    """The event header dicts of ``events.<fmt>`` (``plain`` or ``json``), in order."""
    path = scenario_dir(scenario) / f"events.{fmt}"
    return tuple(parse_event_body(f) for f in frames(path) if f.content_type in EVENT_TYPES)


def typed_events(scenario: str, fmt: str) -> list[events.Event]:
    return [events.parse_event(h) for h in header_dicts(scenario, fmt)]


def replay(
    scenario: str, fmt: str = "plain", state: State | None = None
) -> tuple[State, list[Change]]:
    """Feed a whole recording through events + State; return the state and all changes."""
    state = state if state is not None else State()
    changes: list[Change] = []
    for event in typed_events(scenario, fmt):
        changes.extend(state.apply(event))
    return state, changes


def of_type(changes: list[Change], cls: type) -> list:
    return [c for c in changes if isinstance(c, cls)]


def api_replies(scenario: str) -> dict[str, list[str]]:
    """``api`` command (without ``api ``) -> its replies in order, from replies.esl."""
    folder = scenario_dir(scenario)
    commands = [
        line.split(" ", 1)[1][4:]
        for line in (folder / "commands.txt").read_text("utf-8").splitlines()
        if line.split(" ", 1)[1].startswith("api ")
    ]
    bodies = [f.body_text() for f in frames(folder / "replies.esl")
              if f.content_type == "api/response"]
    if len(commands) != len(bodies):
        raise ValueError(f"{len(commands)} api commands but {len(bodies)} replies")
    out: dict[str, list[str]] = {}
    for command, body in zip(commands, bodies):
        out.setdefault(command, []).append(body)
    return out


# --- hand-made events, for the edge cases no recording shows ---------------------------

def cc(action: str, ts: int, **headers: str) -> dict[str, str]:
    """A ``callcenter::info`` event's headers (``CC_Agent`` -> ``CC-Agent``)."""
    h = {"Event-Name": "CUSTOM", "Event-Subclass": "callcenter::info", "CC-Action": action,
         "Event-Date-Timestamp": str(ts * 1_000_000)}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return h


def apply(state: State, *dicts: dict[str, str]) -> list[Change]:
    """Feed header dicts to ``state``; the changes they made, in order."""
    out: list[Change] = []
    for h in dicts:
        out.extend(state.apply(events.parse_event(h)))
    return out

"""mod_dialplan_xml's part: pick the extension of a hunt and list its actions.

An answer holds contexts of extensions; each extension has conditions (a field of
the caller profile or a ``${variable}`` tested with a regular expression) whose
``action``s run when it matches and ``anti-action``s when it does not.  As in
FreeSWITCH the first extension whose conditions hold wins (unless it says
``continue="true"``), a failed condition stops its extension (``break="on-false"``)
and ``$1``... in the data are the captures of the last matching condition.
Variables (``${name}``) are expanded later, when each action runs.
"""

from __future__ import annotations

import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cti_middleware.simulator.channels import Profile

log = logging.getLogger(__name__)

PROFILE_FIELDS: dict[str, Callable[[Profile], str | None]] = {
    "destination_number": lambda p: p.destination_number,
    "caller_id_number": lambda p: p.caller_id_number,
    "caller_id_name": lambda p: p.caller_id_name,
    "ani": lambda p: p.ani or p.caller_id_number,
    "rdnis": lambda p: p.rdnis,
    "context": lambda p: p.context,
    "dialplan": lambda p: p.dialplan,
    "source": lambda p: p.source,
    "chan_name": lambda p: p.channel_name,
    "uuid": lambda p: p.unique_id,
}


@dataclass(frozen=True)
class Action:
    """One ``<action application=... data=...>`` of a selected extension."""

    app: str
    data: str = ""


@dataclass(frozen=True)
class Extension:
    name: str
    actions: tuple[Action, ...]


def parse_document(document: str, context: str) -> list[ET.Element]:
    """The ``<extension>`` elements of ``context`` in a dialplan document."""
    root = ET.fromstring(document)
    for section in root.iter("section"):
        if section.get("name") != "dialplan":
            continue
        for ctx in section.iter("context"):
            if ctx.get("name") == context:
                return list(ctx.iter("extension"))
    return []


def field_value(name: str | None, profile: Profile, variables: Mapping[str, str]) -> str:
    """What a condition's ``field`` stands for on this channel."""
    if not name:
        return ""
    if "${" in name:
        return expand(name, variables)
    getter = PROFILE_FIELDS.get(name)
    if getter is not None:
        return getter(profile) or ""
    return variables.get(name.removeprefix("variable_"), "")


def _captures(match: re.Match[str], data: str) -> str:
    def sub(m: re.Match[str]) -> str:
        index = int(m.group(1))
        return (match.group(index) or "") if index <= (match.re.groups or 0) else ""

    return re.sub(r"\$(\d)", sub, data)


def _actions(elem: ET.Element, tag: str, match: re.Match[str] | None) -> list[Action]:
    out = []
    for item in elem.findall(tag):
        data = item.get("data") or ""
        if match is not None:
            data = _captures(match, data)
        out.append(Action(item.get("application") or "", data))
    return out


def _match_extension(ext: ET.Element, profile: Profile, variables: Mapping[str, str]) -> list[Action] | None:
    """The actions an extension contributes, or None when it does not match."""
    actions: list[Action] = []
    matched_any = False
    for cond in ext.findall("condition"):
        expression = cond.get("expression")
        field = cond.get("field")
        match: re.Match[str] | None = None
        if field is None and expression is None:
            ok = True
        else:
            try:
                match = re.search(expression or "", field_value(field, profile, variables))
            except re.error:
                log.warning("bad regex %r in extension %s", expression, ext.get("name"))
                match = None
            ok = match is not None
        brk = cond.get("break", "on-false")
        if ok:
            matched_any = True
            actions += _actions(cond, "action", match)
            if brk in ("on-true", "always"):
                break
        else:
            anti = _actions(cond, "anti-action", None)
            if anti:
                matched_any = True
                actions += anti
            if brk in ("on-false", "always"):
                if not anti:
                    return None
                break
    return actions if matched_any else None


def select(document: str, profile: Profile, variables: Mapping[str, str]) -> list[Extension]:
    """The extensions of ``profile.context`` that run for this hunt, in order."""
    chosen = []
    for ext in parse_document(document, profile.context):
        actions = _match_extension(ext, profile, variables)
        if actions is None:
            continue
        chosen.append(Extension(ext.get("name") or "", tuple(actions)))
        if ext.get("continue") != "true":
            break
    return chosen


_VAR = re.compile(r"\$\{([^{}]+)\}")


def expand(text: str, variables: Mapping[str, str], now: float | None = None) -> str:
    """``${name}`` and ``${strftime(fmt)}`` as switch_channel_expand_variables does them."""

    def sub(m: re.Match[str]) -> str:
        inner = m.group(1)
        func = re.fullmatch(r"(\w+)\((.*)\)", inner)
        if func is not None:
            if func.group(1) == "strftime":
                return time.strftime(func.group(2) or "%Y-%m-%d %H:%M:%S", time.localtime(now))
            return ""
        return variables.get(inner, "")

    previous = None
    while previous != text and "${" in text:
        previous, text = text, _VAR.sub(sub, text)
    return text


def split_args(data: str) -> list[str]:
    """Split application data on spaces, keeping quoted parts ('a b c') together."""
    out, current, quote, started = [], [], "", False
    for ch in data:
        if quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
        elif ch in "'\"":
            quote, started = ch, True
        elif ch.isspace():
            if current or started:
                out.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
    if current or started:
        out.append("".join(current))
    return out

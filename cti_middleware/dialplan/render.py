"""Rendering of FreeSWITCH XML documents from the Jinja2 templates.

Two kinds of escaping protect every document:

* XML: the environment autoescapes, so ``<``, ``&`` and quotes in any
  value become entities and cannot close an attribute or open an element.
* FreeSWITCH's own syntax: after the XML parser has decoded the entities,
  FreeSWITCH expands ``${...}``/``$${...}`` in application data and splits
  some data on ``,``, ``|``, ``{}``, ``[]`` and blanks. No XML escaping
  helps there, so values that reach application data pass one of the
  filters below: identifiers are *checked* and rejected (:class:`UnsafeValue`)
  and free text such as a customer name is *reduced* to characters with no
  meaning to FreeSWITCH, so a name can never break or steer a dialplan.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = [
    "UnsafeValue",
    "environment",
    "fs_text",
    "fs_token",
    "not_found",
    "regex_literal",
    "render",
    "render_callcenter_conf",
    "render_dialplan",
    "render_directory",
    "template_dir",
]

TEMPLATE_ENV = "CTI_DIALPLAN_TEMPLATES"

# Characters allowed in identifiers placed into application data: no
# blanks, quotes, backslashes, "$", braces, brackets, "," or "|".
_TOKEN = re.compile(r"[A-Za-z0-9_@.:/+*#=%-]{1,255}")
# Characters that mean something to FreeSWITCH inside data or to the XML
# dialplan's regexes; removed from free text.
_TEXT_DROP = re.compile(r"[$%{}\[\](),|'\"\\<>^&;=`!*?+]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
TEXT_MAX = 64


class UnsafeValue(ValueError):
    """A value that would change the meaning of a FreeSWITCH document."""


def fs_token(value: object) -> str:
    """Return ``value`` as a safe identifier for application data, or raise.

    Used for queue and agent names, numbers, sound paths: anything that must
    arrive intact or not at all.
    """
    text = str(value) if isinstance(value, int) else value
    if not isinstance(text, str) or not _TOKEN.fullmatch(text):
        raise UnsafeValue(f"unsafe value for FreeSWITCH data: {value!r}")
    return text


def fs_text(value: object, max_len: int = TEXT_MAX) -> str:
    """Reduce free text (a customer name) to something inert in any data slot.

    Control characters and line breaks become blanks, characters with a
    meaning to FreeSWITCH are dropped, blanks are collapsed. Lossy on
    purpose: this text is only informative, a call must never fail on it.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = _CONTROL.sub(" ", text)
    text = _TEXT_DROP.sub("", text)
    text = " ".join(text.split())
    return text[:max_len].strip()


def dial_string(value: object) -> str:
    """An administrator's dial string (agent contact), checked, not altered.

    Contacts legitimately hold ``{var=x}``, ``[leg_timeout=10]`` and
    ``${sofia_contact(...)}``; they come from the store, which applies the
    same pattern on write. Blanks, quotes, backslashes, "|" and control
    characters are refused.
    """
    from ..store.routing import CONTACT

    if not isinstance(value, str) or not CONTACT.fullmatch(value):
        raise UnsafeValue(f"unsafe dial string: {value!r}")
    return value


def sound(value: object) -> str:
    """A queue sound (``local_stream://moh``, ``tone_stream://%(...)``), checked."""
    from ..store.routing import SOUND

    if not isinstance(value, str) or not SOUND.fullmatch(value):
        raise UnsafeValue(f"unsafe sound: {value!r}")
    return value


def regex_literal(value: object) -> str:
    """``^value$`` for a condition expression, the value checked then quoted."""
    return "^" + re.escape(fs_token(value)) + "$"


def template_dir() -> Path:
    """Where the templates live: ``$CTI_DIALPLAN_TEMPLATES`` or the
    ``dialplan_templates`` folder beside the package (source checkout)."""
    import os

    configured = os.environ.get(TEMPLATE_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "dialplan_templates"


_ENVIRONMENTS: dict[str, Environment] = {}


def environment(directory: Path | None = None) -> Environment:
    """The (cached) Jinja2 environment for ``directory``."""
    directory = directory or template_dir()
    key = str(directory)
    env = _ENVIRONMENTS.get(key)
    if env is None:
        env = Environment(
            loader=FileSystemLoader(key),
            autoescape=select_autoescape(enabled_extensions=("xml", "j2"), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters["fs"] = fs_token
        env.filters["fstext"] = fs_text
        env.filters["regex_literal"] = regex_literal
        env.filters["dialstring"] = dial_string
        env.filters["sound"] = sound
        env.filters["fsbool"] = lambda v: "true" if v else "false"
        _ENVIRONMENTS[key] = env
    return env


def render(template: str, context: Mapping[str, Any], directory: Path | None = None) -> str:
    """Render one template with ``context`` (raises :class:`UnsafeValue`)."""
    return environment(directory).get_template(template).render(**context)


def not_found() -> str:
    """FreeSWITCH's "not found" answer: it then falls back to its own files."""
    return render("not_found.xml.j2", {})


def render_dialplan(request_params: Mapping[str, str], context: Mapping[str, Any]) -> str:
    """Render the dialplan step chosen for one request.

    ``context`` comes from :func:`cti_middleware.dialplan.route.route`; it
    names the template (``template``) and holds everything it shows.
    ``request_params`` is the xml_curl form, available to templates as
    ``request`` for informative use only.
    """
    values = dict(context)
    values.setdefault("request", dict(request_params))
    return render(values["template"], values)


def render_callcenter_conf(
    queues: Iterable[Any],
    agents: Iterable[Any],
    tiers: Iterable[Any],
    *,
    recordings_dir: str | None = None,
) -> str:
    """``callcenter.conf`` with the queues, agents and tiers of the store.

    Agents carry no ``status``: a reload must not log anybody out.
    """
    return render(
        "callcenter.conf.xml.j2",
        {
            "queues": list(queues),
            "agents": list(agents),
            "tiers": list(tiers),
            "record_template": record_template(recordings_dir) if recordings_dir else None,
        },
    )


def render_directory(
    domain: str, users: Iterable[Any], *, user_context: str = "cti-outbound"
) -> str:
    """The directory answer for agent phones of ``domain``."""
    return render(
        "directory.xml.j2",
        {"domain": domain, "users": list(users), "user_context": user_context},
    )


def record_template(recordings_dir: str) -> str:
    """mod_callcenter ``record-template``: ``DIR/YYYY/MM/DD/<member uuid>.wav``.

    The member session uuid is the call's key everywhere (events, call
    records), so a recording is found from its path alone; see
    :func:`cti_middleware.dialplan.route.parse_recording_path`.
    """
    base = fs_token(recordings_dir.rstrip("/"))
    return base + "/${strftime(%Y/%m/%d)}/${uuid}.wav"

"""mod_xml_curl, client side: ask an HTTP server for the dialplan of one hunt.

FreeSWITCH POSTs the whole channel as a form (``section=dialplan``, the core event
headers of a ``REQUEST_PARAMS`` event, the channel's ``Channel-*``/``Caller-*``
headers, every ``variable_*``, then the ``Hunt-*`` profile being routed) and
executes what comes back; the "not found" document, an HTTP error or an
unreachable server make it fall back to its own XML files.  The form built here
follows ``captures/xml_curl/requests.txt`` field by field.
"""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from cti_middleware.simulator.channels import Channel, Profile
from cti_middleware.simulator.events import EventBus, Headers

log = logging.getLogger(__name__)

SRC_LOCATE = ("mod_dialplan_xml.c", "dialplan_xml_locate", 610)
USER_AGENT = "freeswitch-xml/1.0"


def hunt_params(bus: EventBus, chan: Channel, profile: Profile | None = None) -> Headers:
    """The form of one dialplan request, in the order FreeSWITCH sends it."""
    out: Headers = [
        ("hostname", bus.hostname),
        ("section", "dialplan"),
        ("tag_name", ""),
        ("key_name", ""),
        ("key_value", ""),
    ]
    out += bus.core_headers("REQUEST_PARAMS", SRC_LOCATE)
    data = chan.data()
    routing = {"Channel-State": "CS_ROUTING", "Channel-State-Number": "2"}
    out += [(key, routing.get(key, value)) for key, value in data]
    out += (profile or chan.profile).headers("Hunt")
    return out


def config_params(hostname: str, key_value: str) -> Headers:
    """The form of a module's configuration request.

    ``switch_xml_open_cfg`` without parameters sends only these five fields
    (``captures/xml_curl/requests.txt``, ``key_value=callcenter.conf``).
    """
    return [
        ("hostname", hostname),
        ("section", "configuration"),
        ("tag_name", "configuration"),
        ("key_name", "name"),
        ("key_value", key_value),
    ]


def is_not_found(document: str, section: str = "dialplan") -> bool:
    """Whether a reply is FreeSWITCH's "not found" document (or not a document at all)."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return True
    result = root.find("./section[@name='result']/result")
    if result is not None and result.get("status") == "not found":
        return True
    return root.find(f"./section[@name='{section}']") is None


@dataclass
class XmlCurlClient:
    """One binding: a URL, basic-auth credentials and FreeSWITCH's timeout."""

    url: str
    secret: str | None = None
    user: str = "freeswitch"
    timeout: float = 5.0

    def fetch(self, params: Headers, section: str = "dialplan") -> str | None:
        """The ``section`` document for ``params``, or None where FreeSWITCH would fall back."""
        body = urllib.parse.urlencode(params).encode("utf-8")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT}
        if self.secret:
            token = base64.b64encode(f"{self.user}:{self.secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            log.warning("xml_curl %s answered HTTP %s; using the built-in %s", self.url, exc.code, section)
            return None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            log.warning("xml_curl %s unreachable (%s); using the built-in %s", self.url, exc, section)
            return None
        if is_not_found(text, section):
            return None
        return text

"""The mod_xml_curl endpoint: FreeSWITCH asks, the middleware answers.

``POST /freeswitch/xml`` receives the form mod_xml_curl sends (``section``,
``tag_name``, ``key_name``, ``key_value`` and the channel or event headers)
and answers a ``freeswitch/xml`` document. Anything it does not serve, and
anything that fails, is answered with FreeSWITCH's "not found" document so
the switch falls back to its own files instead of dropping the call.

Access needs both a client address on the allow-list and the shared secret
(HTTP basic auth as ``gateway-credentials`` sends it, or a ``secret``
parameter in the gateway URL). Config keys:

* ``CTI_XML_CURL_SECRET``: the secret; unset means every request is refused.
* ``CTI_XML_CURL_USER``: basic-auth user name (default ``freeswitch``).
* ``CTI_XML_CURL_ALLOW``: comma list of addresses/CIDRs (default 127.0.0.1/32).
* ``CTI_SOUNDS_DIR``, ``CTI_RECORDINGS_DIR``, ``CTI_OUTBOUND_GATEWAY``,
  ``CTI_OUTBOUND_CALLER_ID``: see :class:`~cti_middleware.dialplan.route.Settings`.

Live agent status for the sticky-agent rule is read from
``current_app.extensions["cti_agent_status"]``: a callable ``agent_id ->
status`` ("Available", ...), or absent (sticky routing then never applies).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Mapping
from functools import lru_cache

from flask import Blueprint, Response, current_app, request

from ..store import routing
from ..store.db import connection
from . import render
from .route import Settings, route

log = logging.getLogger(__name__)

xml_curl_bp = Blueprint("xml_curl", __name__)

DEFAULT_ALLOW = "127.0.0.1/32"
DEFAULT_USER = "freeswitch"
XML_MIMETYPE = "text/xml"


@lru_cache(maxsize=32)
def _networks(allow: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for item in allow.split(","):
        item = item.strip()
        if item:
            nets.append(ipaddress.ip_network(item, strict=False))
    return tuple(nets)


def client_allowed(address: str | None, allow: str) -> bool:
    """Whether ``address`` is inside one of the networks of ``allow``."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in _networks(allow))


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(
        given.encode("utf-8"), expected.encode("utf-8")
    )


def authorized(secret: str | None, user: str) -> bool:
    """Basic auth ``user:secret`` or a ``secret`` parameter, compared in constant time."""
    if not secret:
        return False
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        # Both halves are always compared so timing does not tell which failed.
        user_ok = _same(auth.username, user)
        secret_ok = _same(auth.password, secret)
        if user_ok and secret_ok:
            return True
    return _same(request.values.get("secret"), secret)


def _xml(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype=XML_MIMETYPE)


@xml_curl_bp.route("/freeswitch/xml", methods=["GET", "POST"])
def freeswitch_xml() -> Response:
    config = current_app.config
    if not client_allowed(request.remote_addr, config.get("CTI_XML_CURL_ALLOW", DEFAULT_ALLOW)):
        log.warning("xml_curl request refused from %s", request.remote_addr)
        return Response("forbidden\n", status=403, mimetype="text/plain")
    if not authorized(config.get("CTI_XML_CURL_SECRET"), config.get("CTI_XML_CURL_USER", DEFAULT_USER)):
        log.warning("xml_curl request with bad credentials from %s", request.remote_addr)
        return Response(
            "unauthorized\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Basic realm="freeswitch"'},
        )
    params = request.form if request.method == "POST" else request.args
    return _xml(answer(params, config, current_app.extensions.get("cti_agent_status")))


def answer(params: Mapping[str, str], config: Mapping, agent_status=None) -> str:
    """The document for one request; "not found" for anything not served."""
    section = params.get("section", "")
    handler = _HANDLERS.get(section)
    if handler is None:
        return render.not_found()
    try:
        with connection():
            body = handler(params, config, agent_status)
    except render.UnsafeValue as exc:
        log.error("refused to render %s for %s: %s", section, params.get("Unique-ID"), exc)
        return render.not_found()
    except Exception:
        log.exception("xml_curl %s failed; FreeSWITCH falls back to its files", section)
        return render.not_found()
    return body if body is not None else render.not_found()


def _dialplan(params, config, agent_status) -> str | None:
    step = route(params, settings=Settings.from_config(config), agent_status=agent_status)
    if step is None:
        return None
    return render.render_dialplan(params, step.context())


def _configuration(params, config, agent_status) -> str | None:
    if params.get("key_value") != "callcenter.conf":
        return None
    queues, agents, tiers = routing.provisioning_snapshot()
    return render.render_callcenter_conf(
        queues, agents, tiers, recordings_dir=Settings.from_config(config).recordings_dir
    )


def _directory(params, config, agent_status) -> str | None:
    user = params.get("user")
    domain = params.get("domain") or params.get("key_value")
    if not user or not domain:
        return None
    agent = routing.agent_by_phone_user(user)
    if agent is None or agent.domain != domain:
        return None
    return render.render_directory(
        domain, [agent], user_context=Settings.from_config(config).outbound_context
    )


_HANDLERS = {
    "dialplan": _dialplan,
    "configuration": _configuration,
    "directory": _directory,
}

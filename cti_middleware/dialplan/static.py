"""``cti-middleware render-config OUTDIR``: the served XML as static files.

For a FreeSWITCH box that does not use mod_xml_curl, the same documents
the endpoint serves are written in the layout of FreeSWITCH's conf
directory, ready to copy over (see ``freeswitch/README.md``):

* ``autoload_configs/callcenter.conf.xml``: queues, agents and tiers;
* ``directory/<domain>/cti-agents.xml``: one user per agent phone.

The per-call dialplan needs the database at call time (blacklist, hours,
customer, live agent status) and is only served over xml_curl.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from ..store import routing
from ..store.db import connection
from . import render
from .route import Settings


def _element(document: str, path: str) -> ET.Element:
    root = ET.fromstring(document.encode("utf-8"))
    found = root.find(path)
    if found is None:  # pragma: no cover - the templates always have it
        raise ValueError(f"{path} missing from rendered document")
    return found


def _write(path: Path, element: ET.Element) -> Path:
    ET.indent(element, space="  ")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(ET.tostring(element, encoding="utf-8", xml_declaration=False) + b"\n")
    os.replace(tmp, path)  # readers never see half a file
    return path


def write_static_config(outdir: str | os.PathLike, settings: Settings | None = None) -> list[Path]:
    """Write the static files under ``outdir``; returns the paths written."""
    settings = settings or Settings()
    out = Path(outdir)
    written: list[Path] = []
    with connection():
        queues, agents, tiers = routing.provisioning_snapshot()
        conf = render.render_callcenter_conf(
            queues, agents, tiers, recordings_dir=settings.recordings_dir
        )
        written.append(
            _write(
                out / "autoload_configs" / "callcenter.conf.xml",
                _element(conf, "./section/configuration"),
            )
        )
        by_domain: dict[str, list[routing.AgentConfig]] = defaultdict(list)
        for agent in agents:
            if agent.phone_user and not agent.domain.startswith("."):
                by_domain[agent.domain].append(agent)
        for domain, users in sorted(by_domain.items()):
            doc = render.render_directory(
                domain, users, user_context=settings.outbound_context
            )
            include = ET.Element("include")
            include.extend(_element(doc, "./section/domain/groups/group/users"))
            written.append(_write(out / "directory" / domain / "cti-agents.xml", include))
    return written

"""Settings, read once from the environment so every component sees the same values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Everything that differs between a laptop demo and a production box."""

    esl_host: str = "127.0.0.1"
    esl_port: int = 8021
    esl_password: str = "ClueCon"
    esl_event_format: str = "json"
    esl_command_timeout: float = 10.0
    esl_queue_size: int = 20000
    database_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 5000
    secret_key: str = "change-me"
    message_queue: str | None = None
    not_ready_reasons: tuple[str, ...] = field(
        default=("break", "lunch", "training", "meeting", "after_call_work")
    )
    xml_curl_secret: str | None = None
    xml_curl_allow: str = "127.0.0.1/32"
    recordings_dir: str = "/var/lib/freeswitch/recordings/cti"
    recording_url_ttl: int = 300

    @classmethod
    def from_env(cls) -> Settings:
        reasons = os.environ.get("CTI_NOT_READY_REASONS")
        return cls(
            esl_host=os.environ.get("CTI_ESL_HOST", cls.esl_host),
            esl_port=_int("CTI_ESL_PORT", cls.esl_port),
            esl_password=os.environ.get("CTI_ESL_PASSWORD", cls.esl_password),
            esl_event_format=os.environ.get("CTI_ESL_EVENT_FORMAT", cls.esl_event_format),
            esl_command_timeout=_float("CTI_ESL_COMMAND_TIMEOUT", cls.esl_command_timeout),
            esl_queue_size=_int("CTI_ESL_QUEUE_SIZE", cls.esl_queue_size),
            database_url=os.environ.get("CTI_DATABASE_URL") or None,
            http_host=os.environ.get("CTI_HTTP_HOST", cls.http_host),
            http_port=_int("CTI_HTTP_PORT", cls.http_port),
            secret_key=os.environ.get("CTI_SECRET_KEY", cls.secret_key),
            message_queue=os.environ.get("CTI_MESSAGE_QUEUE") or None,
            not_ready_reasons=tuple(r.strip() for r in reasons.split(",") if r.strip())
            if reasons
            else cls().not_ready_reasons,
            xml_curl_secret=os.environ.get("CTI_XML_CURL_SECRET") or None,
            xml_curl_allow=os.environ.get("CTI_XML_CURL_ALLOW", cls.xml_curl_allow),
            recordings_dir=os.environ.get("CTI_RECORDINGS_DIR") or cls.recordings_dir,
            recording_url_ttl=_int("CTI_RECORDING_URL_TTL", cls.recording_url_ttl),
        )

"""CLI for the routing tables: ``queue``, ``agent-config``, ``tier``, ``calendar``, ``entry``.

Options are derived from the model columns (``--max-wait-time 120``,
``--tier-rules-apply true``), so every field the REST API accepts can be set
here too. Exit codes: 0 done, 2 invalid input, 3 not found, 4 conflict
(duplicate, or still in use). A running middleware with ``CTI_PROVISION=1``
picks the edits up at its next periodic pass or reconnect.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any

from peewee import BooleanField, ForeignKeyField, IntegerField, Model

EXIT_INVALID, EXIT_NOT_FOUND, EXIT_CONFLICT = 2, 3, 4
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def _text(text: str) -> str | None:
    return text or None  # an empty value clears an optional field


def _weekday(text: str) -> int:
    key = text.strip().lower()[:3]
    if key in WEEKDAYS:
        return WEEKDAYS.index(key)
    if text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    raise argparse.ArgumentTypeError(f"weekday must be 0..6 (Monday=0) or mon..sun, not {text!r}")


def _field_options(parser: argparse.ArgumentParser, model_name: str, skip: tuple[str, ...]) -> None:
    """One ``--option`` per editable column of the model, given ones only."""
    from . import routing_admin as admin
    from .store import routing

    model = getattr(routing, model_name)
    for name, column in admin.editable_fields(model).items():
        if name in skip or isinstance(column, ForeignKeyField):
            continue
        if column is None or (not isinstance(column, (IntegerField, BooleanField))):
            kind: Callable[[str], Any] = _text
        elif isinstance(column, BooleanField):
            kind = _bool
        else:
            kind = int
        parser.add_argument(f"--{name.replace('_', '-')}", dest=f"f_{name}", type=kind,
                            default=argparse.SUPPRESS, metavar=name.upper())


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {k[2:]: v for k, v in vars(args).items() if k.startswith("f_")}


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _run(action: Callable[[], str | None], what: str, data: dict[str, Any] | None = None) -> int:
    """Run an edit, audit it, and turn the store's errors into messages and exit codes."""
    from . import routing_admin as admin
    from .store.audit import audit
    from .store.validate import DuplicateError, StoreError

    try:
        target = action()
    except admin.NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except DuplicateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFLICT
    except (StoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    shown = {k: ("***" if k == "phone_password" else v) for k, v in (data or {}).items()}
    audit(_actor(), what, target, shown, "ok")
    print(f"{what.replace('.', ' ')}: {target}")
    return 0


def _print_rows(rows: list[Model], as_json: bool, columns: tuple[str, ...]) -> int:
    from . import routing_admin as admin

    items = [admin.to_dict(r) for r in rows]
    if as_json:
        print(json.dumps(items, ensure_ascii=False, indent=2, default=str))
        return 0
    for item in items:
        print("\t".join("" if item.get(c) is None else str(item.get(c)) for c in columns))
    return 0


# --- queue --------------------------------------------------------------------------

def cmd_queue_add(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import Queue

    data = {"name": args.name, **_given(args)}
    return _run(lambda: admin.label(admin.create(Queue, data)), "queue.create", data)


def cmd_queue_set(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import Queue

    data = _given(args)
    return _run(lambda: admin.label(admin.update(admin.find(Queue, args.name), data)),
                "queue.update", data)


def cmd_queue_list(args: argparse.Namespace) -> int:
    from .store.routing import Queue

    return _print_rows(list(Queue.select().order_by(Queue.name)), args.json,
                       ("name", "strategy", "max_wait_time", "timeout_action", "moh_sound"))


def cmd_queue_del(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import Queue

    def action() -> str:
        row = admin.find(Queue, args.name)
        admin.delete(row)
        return admin.label(row)

    return _run(action, "queue.delete")


# --- agent-config -------------------------------------------------------------------

def cmd_agent_config_set(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import AgentConfig

    data = _given(args)

    def action() -> str:
        row = AgentConfig.get_or_none(AgentConfig.agent_id == args.agent_id)
        if row is None:
            return admin.label(admin.create(AgentConfig, {"agent_id": args.agent_id, **data}))
        return admin.label(admin.update(row, data))

    return _run(action, "agent_config.set", data)


def cmd_agent_config_list(args: argparse.Namespace) -> int:
    from .store.routing import AgentConfig

    return _print_rows(list(AgentConfig.select().order_by(AgentConfig.agent_id)), args.json,
                       ("agent_id", "type", "contact", "max_no_answer", "wrap_up_time"))


def cmd_agent_config_del(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import AgentConfig

    def action() -> str:
        row = admin.find(AgentConfig, args.agent_id)
        admin.delete(row)
        return admin.label(row)

    return _run(action, "agent_config.delete")


# --- tier ---------------------------------------------------------------------------

def _tier(queue: str, agent: str) -> Model:
    from . import routing_admin as admin
    from .store.routing import AgentConfig, Queue, Tier

    q, a = admin.find(Queue, queue), admin.find(AgentConfig, agent)
    row = Tier.get_or_none((Tier.queue == q.id) & (Tier.agent == a.id))
    if row is None:
        raise admin.NotFound(f"no tier for {agent} in {queue}")
    return row


def cmd_tier_add(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import Tier

    data = {"queue": args.queue, "agent": args.agent, "level": args.level,
            "position": args.position}
    return _run(lambda: admin.label(admin.create(Tier, data)), "tier.create", data)


def cmd_tier_set(args: argparse.Namespace) -> int:
    from . import routing_admin as admin

    data = _given(args)
    return _run(lambda: admin.label(admin.update(_tier(args.queue, args.agent), data)),
                "tier.update", data)


def cmd_tier_list(args: argparse.Namespace) -> int:
    from .store.routing import Queue, Tier

    query = Tier.select().join(Queue).order_by(Queue.name, Tier.level, Tier.position)
    if args.queue:
        query = query.where(Queue.name == args.queue)
    return _print_rows(list(query), args.json, ("queue", "agent", "level", "position"))


def cmd_tier_del(args: argparse.Namespace) -> int:
    from . import routing_admin as admin

    def action() -> str:
        row = _tier(args.queue, args.agent)
        admin.delete(row)
        return f"{args.queue} {args.agent}"

    return _run(action, "tier.delete")


# --- calendar -----------------------------------------------------------------------

def cmd_calendar_hours(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import BusinessHours

    data = {"calendar": args.calendar, "weekday": args.weekday, "opens": args.opens,
            "closes": args.closes}
    return _run(lambda: admin.label(admin.create(BusinessHours, data)),
                "business_hours.create", data)


def cmd_calendar_holiday(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import Holiday

    data = {"calendar": args.calendar, "day": args.day, "name": args.name,
            "opens": args.opens, "closes": args.closes}
    return _run(lambda: admin.label(admin.create(Holiday, data)), "holiday.create", data)


def cmd_calendar_list(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import BusinessHours, Holiday

    hours = BusinessHours.select().order_by(BusinessHours.calendar, BusinessHours.weekday,
                                            BusinessHours.opens)
    days = Holiday.select().order_by(Holiday.calendar, Holiday.day)
    if args.calendar:
        hours = hours.where(BusinessHours.calendar == args.calendar)
        days = days.where(Holiday.calendar == args.calendar)
    if args.json:
        print(json.dumps({"hours": [admin.to_dict(r) for r in hours],
                          "holidays": [admin.to_dict(r) for r in days]}, indent=2,
                         ensure_ascii=False))
        return 0
    for row in hours:
        print(f"{row.calendar}\t{WEEKDAYS[row.weekday]}\t{row.opens}-{row.closes}")
    for row in days:
        when = f"{row.opens}-{row.closes}" if row.opens else "closed"
        print(f"{row.calendar}\t{row.day.isoformat()}\t{when}\t{row.name or ''}")
    return 0


def cmd_calendar_del_hours(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import BusinessHours

    def action() -> str:
        query = BusinessHours.select().where((BusinessHours.calendar == args.calendar)
                                             & (BusinessHours.weekday == args.weekday))
        if args.opens:
            query = query.where(BusinessHours.opens == args.opens)
        rows = list(query)
        if not rows:
            raise admin.NotFound(f"no hours for {args.calendar} on {WEEKDAYS[args.weekday]}")
        for row in rows:
            admin.delete(row)
        return f"{args.calendar} {WEEKDAYS[args.weekday]} ({len(rows)} interval(s))"

    return _run(action, "business_hours.delete")


def cmd_calendar_del_holiday(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import Holiday

    def action() -> str:
        row = Holiday.get_or_none((Holiday.calendar == args.calendar)
                                  & (Holiday.day == admin._day(args.day)))
        if row is None:
            raise admin.NotFound(f"no holiday {args.day} in {args.calendar}")
        admin.delete(row)
        return f"{args.calendar} {args.day}"

    return _run(action, "holiday.delete")


# --- entry --------------------------------------------------------------------------

def _entry(dnis: str) -> Model:
    from . import routing_admin as admin
    from .store.routing import EntryPoint

    row = EntryPoint.get_or_none(EntryPoint.dnis == dnis)
    if row is None:
        raise admin.NotFound(f"no entry point {dnis!r}")
    return row


def cmd_entry_add(args: argparse.Namespace) -> int:
    from . import routing_admin as admin
    from .store.routing import EntryPoint

    data = {"dnis": args.dnis, "queue": args.queue, **_given(args)}
    if args.vip_queue:
        data["vip_queue"] = args.vip_queue
    return _run(lambda: admin.label(admin.create(EntryPoint, data)) + f" {args.dnis}",
                "entry_point.create", data)


def cmd_entry_set(args: argparse.Namespace) -> int:
    from . import routing_admin as admin

    data = _given(args)
    for name in ("queue", "vip_queue"):
        if getattr(args, name) is not None:
            data[name] = getattr(args, name) or None
    return _run(lambda: admin.label(admin.update(_entry(args.dnis), data)) + f" {args.dnis}",
                "entry_point.update", data)


def cmd_entry_list(args: argparse.Namespace) -> int:
    from .store.routing import EntryPoint

    return _print_rows(list(EntryPoint.select().order_by(EntryPoint.dnis)), args.json,
                       ("dnis", "queue", "vip_queue", "calendar", "language", "name"))


def cmd_entry_del(args: argparse.Namespace) -> int:
    from . import routing_admin as admin

    def action() -> str:
        row = _entry(args.dnis)
        admin.delete(row)
        return args.dnis

    return _run(action, "entry_point.delete")


# --- wiring -------------------------------------------------------------------------

def _with_db(func: Callable[[argparse.Namespace], int],
             open_db: Callable[[], None]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        open_db()
        return func(args)

    return run


def add_routing_commands(sub: Any, open_db: Callable[[], None]) -> None:
    """Add the routing commands to the ``cti-middleware`` sub-parsers."""

    def command(group: Any, name: str, func: Callable[[argparse.Namespace], int],
                help_text: str) -> argparse.ArgumentParser:
        p = group.add_parser(name, help=help_text)
        p.set_defaults(func=_with_db(func, open_db))
        return p

    def listing(group: Any, func: Callable[[argparse.Namespace], int], what: str) -> argparse.ArgumentParser:
        p = command(group, "list", func, f"list {what}")
        p.add_argument("--json", action="store_true", help="full rows as JSON")
        return p

    queue = sub.add_parser("queue", help="mod_callcenter queues").add_subparsers(
        dest="queue_cmd", required=True)
    p = command(queue, "add", cmd_queue_add, "add a queue")
    p.add_argument("name", help="e.g. support@default")
    _field_options(p, "Queue", ("name",))
    p = command(queue, "set", cmd_queue_set, "change a queue's parameters")
    p.add_argument("name")
    _field_options(p, "Queue", ())
    listing(queue, cmd_queue_list, "queues")
    p = command(queue, "del", cmd_queue_del, "delete a queue and its tiers")
    p.add_argument("name")

    agent = sub.add_parser("agent-config", help="mod_callcenter agents (contact, timers)") \
        .add_subparsers(dest="agent_config_cmd", required=True)
    p = command(agent, "set", cmd_agent_config_set,
                "create or change an agent's switch config (--contact needed to create)")
    p.add_argument("agent_id", help="e.g. 1000@default")
    _field_options(p, "AgentConfig", ("agent_id",))
    listing(agent, cmd_agent_config_list, "agent configs")
    p = command(agent, "del", cmd_agent_config_del, "delete an agent config and its tiers")
    p.add_argument("agent_id")

    tier = sub.add_parser("tier", help="which agent serves which queue").add_subparsers(
        dest="tier_cmd", required=True)
    p = command(tier, "add", cmd_tier_add, "put an agent into a queue")
    p.add_argument("queue")
    p.add_argument("agent")
    p.add_argument("--level", type=int, default=1)
    p.add_argument("--position", type=int, default=1)
    p = command(tier, "set", cmd_tier_set, "change a tier's level or position")
    p.add_argument("queue")
    p.add_argument("agent")
    _field_options(p, "Tier", ())
    p = listing(tier, cmd_tier_list, "tiers")
    p.add_argument("--queue", default=None)
    p = command(tier, "del", cmd_tier_del, "take an agent out of a queue")
    p.add_argument("queue")
    p.add_argument("agent")

    cal = sub.add_parser("calendar", help="business hours and holidays").add_subparsers(
        dest="calendar_cmd", required=True)
    p = command(cal, "hours", cmd_calendar_hours, "add opening hours for a weekday")
    p.add_argument("calendar")
    p.add_argument("weekday", type=_weekday, help="mon..sun or 0..6")
    p.add_argument("opens", help="HH:MM")
    p.add_argument("closes", help="HH:MM (exclusive; 24:00 allowed)")
    p = command(cal, "holiday", cmd_calendar_holiday,
                "add a holiday (closed, or open --opens/--closes)")
    p.add_argument("calendar")
    p.add_argument("day", help="YYYY-MM-DD")
    p.add_argument("--name", default=None)
    p.add_argument("--opens", default=None)
    p.add_argument("--closes", default=None)
    p = listing(cal, cmd_calendar_list, "hours and holidays")
    p.add_argument("calendar", nargs="?", default=None)
    p = command(cal, "del-hours", cmd_calendar_del_hours, "remove a weekday's hours")
    p.add_argument("calendar")
    p.add_argument("weekday", type=_weekday)
    p.add_argument("--opens", default=None, help="only the interval opening at HH:MM")
    p = command(cal, "del-holiday", cmd_calendar_del_holiday, "remove a holiday")
    p.add_argument("calendar")
    p.add_argument("day")

    entry = sub.add_parser("entry", help="entry points: dialled number -> queue").add_subparsers(
        dest="entry_cmd", required=True)
    p = command(entry, "add", cmd_entry_add, "route a dialled number (DNIS) to a queue")
    p.add_argument("dnis")
    p.add_argument("queue")
    p.add_argument("--vip-queue", default=None)
    _field_options(p, "EntryPoint", ("dnis",))
    p = command(entry, "set", cmd_entry_set, "change an entry point")
    p.add_argument("dnis")
    p.add_argument("--queue", default=None)
    p.add_argument("--vip-queue", default=None, help="empty to remove")
    _field_options(p, "EntryPoint", ("dnis",))
    listing(entry, cmd_entry_list, "entry points")
    p = command(entry, "del", cmd_entry_del, "delete an entry point")
    p.add_argument("dnis")

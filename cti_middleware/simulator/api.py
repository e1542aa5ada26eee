"""The ``api`` commands (mod_commands and friends) with FreeSWITCH's output texts."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson

from cti_middleware.simulator.callcenter import CallCenter
from cti_middleware.simulator.cc_api import CallcenterApi
from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.originate import Originator
from cti_middleware.simulator.switch import Switch

VERSION = (
    "FreeSWITCH Version 1.10.12-release+git~20240802T210227Z~a88d069d6f~64bit "
    "(git a88d069 2024-08-02 21:02:27Z 64bit)\n"
)
NO_CHANNEL = "-ERR No such channel!\n"
NO_SESSION = "-ERR Cannot locate session!\n"
DTMF_USAGE = "-USAGE: <uuid> <dtmf_data>\n"

CHANNEL_FIELDS = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num", "ip_addr",
    "dest", "application", "application_data", "dialplan", "context", "read_codec", "read_rate",
    "read_bit_rate", "write_codec", "write_rate", "write_bit_rate", "secure", "hostname", "presence_id",
    "presence_data", "accountcode", "callstate", "callee_name", "callee_num", "callee_direction",
    "call_uuid", "sent_callee_name", "sent_callee_num", "initial_cid_name", "initial_cid_num",
    "initial_ip_addr", "initial_dest", "initial_dialplan", "initial_context",
)
CALL_FIELDS = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num", "ip_addr",
    "dest", "presence_id", "presence_data", "accountcode", "callstate", "callee_name", "callee_num",
    "callee_direction", "call_uuid", "hostname", "sent_callee_name", "sent_callee_num",
)


class Api:
    """Dispatches ``api`` command lines; every handler returns the response body."""

    def __init__(self, switch: Switch, cc: CallCenter, shutdown: Callable[[], None]) -> None:
        self.switch = switch
        self.cc = cc
        self.callcenter = CallcenterApi(cc)
        self.originator = Originator(switch, cc)
        self.shutdown = shutdown
        switch.on_consult_hangup = self._consult_hangup
        self.handlers: dict[str, Callable[[str], str]] = {
            "status": self.status,
            "version": lambda _: VERSION,
            "callcenter_config": self.callcenter,
            "originate": self.originator.originate,
            "uuid_kill": self.uuid_kill,
            "hupall": self.hupall,
            "uuid_hold": self.uuid_hold,
            "uuid_bridge": self.uuid_bridge,
            "uuid_getvar": self.uuid_getvar,
            "uuid_setvar": self.uuid_setvar,
            "uuid_exists": self.uuid_exists,
            "uuid_transfer": self.uuid_transfer,
            "uuid_broadcast": self.uuid_broadcast,
            "uuid_phone_event": self.uuid_phone_event,
            "uuid_send_dtmf": self.uuid_send_dtmf,
            "uuid_recv_dtmf": self.uuid_recv_dtmf,
            "show": self.show,
            "fsctl": self.fsctl,
            "sofia_contact": self.sofia_contact,
            "sofia": self.sofia,
            "conference": self.conference,
            "global_getvar": lambda _: "",
            "hostname": lambda _: self.switch.config.hostname,
            "eval": lambda arg: arg,
            "echo": lambda arg: arg,
        }

    def execute(self, line: str) -> str:
        cmd, _, args = line.strip().partition(" ")
        handler = self.handlers.get(cmd)
        if handler is None:
            return f"-ERR {cmd} Command not found!\n"
        return handler(args.strip())

    # -- core -----------------------------------------------------------------
    def status(self, _: str) -> str:
        up = time.time() - self.switch.started_at
        secs = int(up)
        years, rem = divmod(secs, 365 * 86400)
        days, rem = divmod(rem, 86400)
        hours, rem = divmod(rem, 3600)
        minutes, seconds = divmod(rem, 60)
        frac = up - secs
        millis, micros = int(frac * 1000), int(frac * 1_000_000) % 1000
        sw = self.switch
        count = len(sw.ordered())
        peak = sw.peak
        maxs = sw.config.max_sessions
        return (
            f"UP {years} years, {days} days, {hours} hours, {minutes} minutes, {seconds} seconds, "
            f"{millis} milliseconds, {micros} microseconds\n"
            "FreeSWITCH (Version 1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit) is ready\n"
            f"{sw.session_counter} session(s) since startup\n"
            f"{count} session(s) - peak {peak}, last 5min {peak} \n"
            f"0 session(s) per Sec out of max {maxs}, peak {peak}, last 5min {peak} \n"
            f"{maxs} session(s) max\n"
            "min idle cpu 0.00/97.40\n"
            "Current Stack Size/Max 240K/8192K\n"
        )

    def fsctl(self, args: str) -> str:
        if args.split()[:1] == ["shutdown"]:
            self.shutdown()
            return "+OK\n"
        return "+OK\n"

    def sofia_contact(self, args: str) -> str:
        # no SIP phones register with the simulator
        return "error/user_not_registered"

    def sofia(self, args: str) -> str:
        if args.split()[:1] == ["status"] and args.split()[-1:] == ["reg"]:
            rule = "=" * 97
            return f"\nRegistrations:\n{rule}\n\nTotal items returned: 0\n{rule}\n"
        return "+OK\n"

    def conference(self, args: str) -> str:
        # there is no conference module: every conference is unknown, as an empty switch says
        name = args.split()[0] if args.split() else ""
        return f"-ERR Conference {name} not found\n"

    # -- channels -------------------------------------------------------------
    def _chan(self, ref: str) -> Channel | None:
        return self.switch.get(ref.strip())

    def uuid_kill(self, args: str) -> str:
        parts = args.split()
        chan = self._chan(parts[0]) if parts else None
        if chan is None:
            return NO_CHANNEL
        cause = parts[1] if len(parts) > 1 else "NORMAL_CLEARING"
        self.switch.hangup(chan, cause)
        return "+OK\n"

    def uuid_exists(self, args: str) -> str:
        return "true" if self._chan(args) else "false"

    def hupall(self, args: str) -> str:
        parts = args.split()
        cause = parts[0] if parts else "MANAGER_REQUEST"
        self.switch.hangup_all(cause)
        return f"+OK hangup all channels with cause {cause}\n"

    def uuid_hold(self, args: str) -> str:
        parts = args.split()
        mode = ""
        if parts and parts[0] in ("off", "toggle"):
            mode, parts = parts[0], parts[1:]
        chan = self._chan(parts[0]) if parts else None
        if chan is None:
            return NO_CHANNEL
        if mode == "off":
            # null and loopback legs cannot be taken off hold: what the recordings show
            return "-ERR Operation failed\n"
        self.switch.hold(chan)
        return "+OK Success\n"

    def uuid_bridge(self, args: str) -> str:
        parts = args.split()
        if len(parts) < 2:
            return "-USAGE: <uuid> <other_uuid>\n"
        a, b = self._chan(parts[0]), self._chan(parts[1])
        if a is None or b is None:
            return f"-ERR Invalid uuid {parts[0] if a is None else parts[1]}\n"
        self.switch.bridge(a, b)
        return f"+OK {b.uuid}\n"

    def uuid_getvar(self, args: str) -> str:
        parts = args.split()
        if len(parts) < 2:
            return "-USAGE: <uuid> <var>\n"
        chan = self._chan(parts[0])
        if chan is None:
            return NO_CHANNEL
        return chan.variables.get(parts[1], "_undef_")

    def uuid_setvar(self, args: str) -> str:
        parts = args.split(" ", 2)
        if len(parts) < 2:
            return "-USAGE: <uuid> <var> [value]\n"
        chan = self._chan(parts[0])
        if chan is None:
            return NO_CHANNEL
        chan.set_var(parts[1], parts[2] if len(parts) > 2 else None)
        return "+OK\n"

    def uuid_transfer(self, args: str) -> str:
        parts = args.split()
        chan = self._chan(parts[0]) if parts else None
        if chan is None:
            return NO_CHANNEL
        from cti_middleware.simulator.transfer import transfer

        return transfer(self, chan, parts[1:])

    def uuid_broadcast(self, args: str) -> str:
        parts = args.split()
        chan = self._chan(parts[0]) if parts else None
        if chan is None:
            return NO_CHANNEL
        from cti_middleware.simulator.attxfer import broadcast

        return broadcast(self, chan, parts[1:])

    def uuid_phone_event(self, args: str) -> str:
        """A phone event (talk, hold, unhold) for the endpoint: nothing to tell a
        null or loopback leg, so only whether the channel exists shows."""
        parts = args.split()
        if not parts:
            return "-USAGE: <uuid>\n"
        return "+OK Success\n" if self._chan(parts[0]) else "-ERR Operation Failed\n"

    def uuid_send_dtmf(self, args: str) -> str:
        """DTMF sent out to the channel's far end; FreeSWITCH answers an empty body."""
        parts = args.split()
        if len(parts) < 2:
            return DTMF_USAGE
        return "" if self._chan(parts[0]) else NO_SESSION

    def uuid_recv_dtmf(self, args: str) -> str:
        """DTMF as if pressed on the channel's phone: drives an attended transfer's keys."""
        parts = args.split()
        if len(parts) < 2:
            return DTMF_USAGE
        chan = self._chan(parts[0])
        if chan is None:
            return NO_SESSION
        if self.originator.supervision.press(chan, parts[1]):  # an eavesdrop's key menu
            return ""
        from cti_middleware.simulator.attxfer import keys

        keys(self, chan, parts[1])
        return ""

    def _consult_hangup(self, chan: Channel, cause: str) -> None:
        from cti_middleware.simulator.attxfer import complete

        complete(self, chan, cause)

    # -- show -----------------------------------------------------------------
    def show(self, args: str) -> str:
        words = args.split()
        as_json = len(words) >= 3 and words[-2] == "as" and words[-1] == "json"
        what = words[0] if words else ""
        if what == "channels":
            rows = [self._channel_row(c) for c in self.switch.ordered()]
            return _render(CHANNEL_FIELDS, rows, as_json)
        if what in ("calls", "bridged_calls"):
            rows = self._call_rows(bridged_only=what == "bridged_calls")
            fields = CALL_FIELDS + tuple(f"b_{f}" for f in CALL_FIELDS if f not in ("call_uuid", "hostname")) + (
                "call_created_epoch",)
            return _render(fields, rows, as_json)
        return "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n"

    def _view(self, chan: Channel) -> dict[str, str]:
        p = chan.profile
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(chan.created_at))
        leg = chan.variables.get("loopback_leg")
        if leg == "A":
            cid = ("Outbound Call", p.context)
            callee = (p.caller_id_name, p.caller_id_number, "RECV")
        elif chan.kind == "agent":
            cid = (p.caller_id_name, p.caller_id_number)
            callee = ("Outbound Call", p.destination_number, "")
        else:
            cid = (p.caller_id_name, p.caller_id_number)
            callee = ("Outbound Call", p.context if leg == "B" else p.destination_number, "")
        return {
            "uuid": chan.uuid, "direction": chan.direction, "created": created,
            "created_epoch": str(int(chan.created_at)), "name": chan.name, "state": self._show_state(chan),
            "cid_name": cid[0], "cid_num": cid[1], "ip_addr": "", "dest": p.destination_number,
            "application": chan.application, "application_data": chan.application_data,
            "dialplan": p.dialplan or "", "context": p.context, "read_codec": "L16", "read_rate": "8000",
            "read_bit_rate": "128000", "write_codec": "L16", "write_rate": "8000", "write_bit_rate": "128000",
            "secure": "", "hostname": self.switch.config.hostname, "presence_id": "", "presence_data": "",
            "accountcode": "", "callstate": "ACTIVE" if chan.answered_at else "RINGING",
            "callee_name": callee[0], "callee_num": callee[1], "callee_direction": callee[2],
            "call_uuid": chan.call_uuid, "sent_callee_name": "", "sent_callee_num": "",
            "initial_cid_name": p.caller_id_name, "initial_cid_num": p.caller_id_number, "initial_ip_addr": "",
            "initial_dest": p.destination_number, "initial_dialplan": p.dialplan or "",
            "initial_context": p.context,
        }

    @staticmethod
    def _show_state(chan: Channel) -> str:
        if chan.bridged is not None:
            return "CS_SOFT_EXECUTE" if chan.kind == "loopback" else "CS_EXCHANGE_MEDIA"
        if not chan.answered_at:
            return "CS_CONSUME_MEDIA"
        return "CS_EXECUTE"

    def _channel_row(self, chan: Channel) -> dict[str, str]:
        view = self._view(chan)
        return {k: view[k] for k in CHANNEL_FIELDS}

    def _call_rows(self, bridged_only: bool) -> list[dict[str, str]]:
        rows = []
        for chan in self.switch.ordered():
            if chan.bridged is not None and chan.kind != "loopback" and chan.bridged.kind == "loopback":
                continue  # shown as the b side of its caller's row
            other = chan.bridged if chan.bridged is not None and chan.bridged.alive else None
            if bridged_only and other is None:
                continue
            view = self._view(chan)
            row = {k: view[k] for k in CALL_FIELDS}
            b_view = self._view(other) if other is not None else None
            for key in CALL_FIELDS:
                if key in ("call_uuid", "hostname"):
                    continue
                row[f"b_{key}"] = b_view[key] if b_view else ""
            row["call_created_epoch"] = str(int(chan.bridged_at)) if other is not None and chan.bridged_at else ""
            rows.append(row)
        return rows


def _render(fields: tuple[str, ...], rows: list[dict[str, str]], as_json: bool) -> str:
    if as_json:
        if not rows:
            return '{"row_count": 0}\n'
        return orjson.dumps({"row_count": len(rows), "rows": rows}).decode("utf-8")
    lines = [",".join(fields)] + [",".join(row.get(f, "") for f in fields) for row in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"

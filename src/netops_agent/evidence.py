"""Incident context and evidence checks: how the agent reads tool output.

`contexts_for` turns an incident into the variables runbooks may use, from the
incident and the inventory (the source of truth), and offers both orientations of
a link or session: a fault may sit at either end of what monitoring reported.
`Evaluator` runs checks through the tool executor and decides whether each holds.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from netops_agent.knowledge.schema import Check, Step
from netops_agent.models import Incident, Inventory, ToolResult
from netops_agent.tools.executor import ToolExecutor

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class MissingContext(KeyError):
    """A runbook needs a context value this incident does not have."""


def fill(value: Any, ctx: dict[str, Any]) -> Any:
    """Replace {name} placeholders from the context; a whole-string placeholder keeps its type."""
    if isinstance(value, dict):
        return {k: fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ctx) for v in value]
    if not isinstance(value, str):
        return value
    whole = _PLACEHOLDER.fullmatch(value)
    if whole:
        if whole.group(1) not in ctx or ctx[whole.group(1)] in (None, ""):
            raise MissingContext(whole.group(1))
        return ctx[whole.group(1)]

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in ctx or ctx[m.group(1)] in (None, ""):
            raise MissingContext(m.group(1))
        return str(ctx[m.group(1)])

    return _PLACEHOLDER.sub(sub, value)


def contexts_for(incident: Incident, inv: Inventory) -> list[dict[str, Any]]:
    """Context variables for an incident, in each orientation worth trying."""
    base: dict[str, Any] = {
        "device": incident.device,
        "interface": incident.interface,
        "peer": incident.peer,
        "prefix": incident.prefix,
    }
    dev = inv.device(incident.device)
    base["asn"] = dev.asn
    base["loopback"] = dev.loopback
    if incident.peer and not incident.interface:
        s = inv.session(incident.device, incident.peer)
        if s is not None:
            link = next(lk for lk in inv.links if lk.id == s.link_id)
            base["interface"] = link.a_interface if link.a_device == dev.name else link.b_interface
    if incident.prefix:
        net = ipaddress.IPv4Network(incident.prefix, strict=False)
        base["prefix_net"] = str(net.network_address)
        base["prefix_ip"] = str(net.network_address + 10)
    _link_vars(base, inv)
    out = [base]
    if base.get("peer_device"):
        swapped = {
            **base,
            "device": base["peer_device"],
            "interface": base["peer_interface"],
            "peer_device": base["device"],
            "peer_interface": base["interface"],
            "peer": base.get("local_ip"),
            "local_ip": base.get("peer"),
        }
        sdev = inv.device(swapped["device"])
        swapped.update(
            asn=sdev.asn, loopback=sdev.loopback, nbr_device=base["device"], nbr_interface=base["interface"]
        )
        out.append(swapped)
    return out


def _link_vars(ctx: dict[str, Any], inv: Inventory) -> None:
    dev, ifname = ctx["device"], ctx.get("interface")
    itf = inv.interface(dev, ifname) if ifname else None
    if itf is not None and itf.ip:
        ctx["local_ip"] = itf.ip
        if itf.kind == "svi":
            net = ipaddress.IPv4Interface(f"{itf.ip}/{itf.prefixlen}").network
            ctx["host"] = str(net.network_address + 10)
    link = inv.link_of(dev, ifname) if ifname else None
    if link is not None:
        pdev, pif = link.peer_of(dev)
        ctx["peer_device"], ctx["peer_interface"] = pdev, pif
        pitf = inv.interface(pdev, pif)
        ctx["peer"] = ctx.get("peer") or (pitf.ip if pitf else None)
        ctx["nbr_device"], ctx["nbr_interface"] = pdev, pif
        return
    # Device-scoped: a neighbour to look from is the far end of the device's first cable.
    for lk in inv.links:
        if dev in (lk.a_device, lk.b_device):
            ctx["nbr_device"], ctx["nbr_interface"] = lk.peer_of(dev)
            return


@dataclass
class CheckResult:
    check: str
    holds: bool
    observed: Any = None
    detail: str = ""
    tool_calls: list[str] = field(default_factory=list)
    support: bool = False  # supporting evidence: recorded, never blocks confirmation

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "holds": self.holds,
            **({"support": True} if self.support else {}),
            "observed": _plain(self.observed),
            "detail": self.detail,
        }


def _plain(v: Any) -> Any:
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)


class Evaluator:
    """Runs steps and checks through the executor; caches reads during diagnosis only."""

    def __init__(self, executor: ToolExecutor) -> None:
        self.ex = executor
        self.cache: dict[tuple[str, str, str], ToolResult] = {}

    def run_step(self, step: Step, ctx: dict[str, Any], *, fresh: bool = False) -> ToolResult:
        device = fill(step.device, ctx)
        params = fill(step.params, ctx)
        k = (step.tool, device, repr(sorted(params.items())))
        if not fresh and k in self.cache:
            return self.cache[k]
        result = self.ex.run(step.tool, device, **params)
        if not fresh:
            self.cache[k] = result
        return result

    def check(self, chk: Check, ctx: dict[str, Any], *, fresh: bool = False) -> CheckResult:
        label = (
            chk.note
            or f"{chk.tool} {chk.field or ''} {chk.op} {chk.value if chk.value is not None else ''}".strip()
        )
        try:
            result = self.run_step(chk, ctx, fresh=fresh)
            if chk.op == "unreachable":
                return CheckResult(label, result.status.value == "unreachable", result.status.value)
            if chk.op == "reachable":
                return CheckResult(label, result.ok, result.status.value)
            if not result.ok:
                return CheckResult(label, False, None, f"{result.tool} failed: {result.error}")
            if chk.op in ("increases", "steady"):
                first = _value(result.parsed, chk, ctx)
                self.ex.wait(chk.interval_s)
                second = _value(self.run_step(chk, ctx, fresh=True).parsed, chk, ctx)
                if first is None or second is None:
                    return CheckResult(label, False, None, "field not found")
                grew = float(second) > float(first)
                return CheckResult(label, grew if chk.op == "increases" else not grew, f"{first} -> {second}")
            rows = _select(result.parsed, chk, ctx)
            if chk.reads > 1 and chk.op not in ("absent", "present", "nonempty"):
                return self._sustained(chk, ctx, label, rows)
            if chk.op in ("absent", "present"):
                holds = (not rows) if chk.op == "absent" else bool(rows)
                if holds and rows:
                    _capture(chk, rows[0], ctx)
                return CheckResult(label, holds, len(rows))
            if not rows:
                return CheckResult(label, False, None, "no matching row")
            observed = rows[0].get(chk.field) if chk.field else None
            holds = _compare(chk.op, observed, fill(chk.value, ctx))
            if holds:
                _capture(chk, rows[0], ctx)
            return CheckResult(label, holds, observed)
        except MissingContext as exc:
            return CheckResult(label, False, None, f"incident has no {exc.args[0]}")

    def _sustained(
        self, chk: Check, ctx: dict[str, Any], label: str, rows: list[dict[str, Any]]
    ) -> CheckResult:
        """The comparison holds on every one of `chk.reads` reads, `interval_s` apart."""
        expected = fill(chk.value, ctx)
        seen = []
        for n in range(chk.reads):
            if n:
                self.ex.wait(chk.interval_s)
                rows = _select(self.run_step(chk, ctx, fresh=True).parsed, chk, ctx)
            observed = rows[0].get(chk.field) if rows and chk.field else None
            seen.append(observed)
            if not _compare(chk.op, observed, expected):
                return CheckResult(label, False, " -> ".join(map(str, seen)))
        if rows:
            _capture(chk, rows[0], ctx)
        return CheckResult(label, True, " -> ".join(map(str, seen)))


def confirms(results: list[CheckResult]) -> bool:
    """Every required check held (supporting checks may fail); at least one required check ran."""
    required = [r for r in results if not r.support]
    return bool(required) and all(r.holds for r in required)


def _select(parsed: Any, chk: Check, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    rows = parsed if isinstance(parsed, list) else [parsed] if isinstance(parsed, dict) else []
    where = fill(chk.where, ctx)
    return [r for r in rows if all(_match(r.get(k), v) for k, v in where.items())]


def _match(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, str) and wanted.startswith("~"):
        return wanted[1:].lower() in str(actual or "").lower()
    return str(actual) == str(wanted)


def _value(parsed: Any, chk: Check, ctx: dict[str, Any]) -> Any:
    rows = _select(parsed, chk, ctx)
    return rows[0].get(chk.field) if rows and chk.field else None


def _capture(chk: Check, row: dict[str, Any], ctx: dict[str, Any]) -> None:
    for var, fld in chk.capture.items():
        ctx[var] = row.get(fld)


def _compare(op: str, observed: Any, expected: Any) -> bool:
    if op == "nonempty":
        return observed not in (None, "", [])
    if observed is None:
        return False
    if op == "eq":
        return _eq(observed, expected)
    if op == "ne":
        return not _eq(observed, expected)
    if op == "in":
        return any(_eq(observed, e) for e in expected)
    if op == "contains":
        return str(expected).lower() in str(observed).lower()
    try:
        o, e = float(observed), float(expected)
    except (TypeError, ValueError):
        return False
    return {"gt": o > e, "lt": o < e, "ge": o >= e, "le": o <= e}[op]


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return (
            bool(a) == bool(b)
            if isinstance(a, bool) and isinstance(b, bool)
            else str(a).lower() == str(b).lower()
        )
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a).strip().lower() == str(b).strip().lower()

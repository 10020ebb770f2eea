"""`netops-agent lab ...`: an interactive lab on the twin (and, when installed, on FRR)."""

from __future__ import annotations

from typing import Annotated

import typer

from netops_agent.cli.common import DbOption, JsonOption, console, print_json, settings
from netops_agent.errors import ConfigError

app = typer.Typer(
    help=(
        "Bring up a lab, look around with show commands, inject faults, then let the agent "
        "solve them with `netops-agent solve`. State persists in the DuckDB file between commands."
    ),
    no_args_is_help=True,
)

Backend = Annotated[
    str, typer.Option("--backend", "-b", help="sim (digital twin) or frr (real FRR routers).")
]


@app.command()
def up(
    backend: Backend = "sim",
    profile: Annotated[str, typer.Option(help="small | medium | large (sim).")] = "small",
    seed: Annotated[int, typer.Option(help="Topology seed.")] = 42,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a fresh lab (replaces any previous lab and its records in the database)."""
    from netops_agent.lab.sim import persist
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.store import Store

    _sim_only(backend)
    lab = SimLab.build(profile, seed)
    lab.advance(60)
    with Store(settings(db).db_path) as store:
        store.reset_run()
        persist.save(lab, store, fresh=True)
    info = {
        "backend": "sim",
        "profile": profile,
        "seed": seed,
        "devices": len(lab.inv.devices),
        "links": len(lab.inv.links),
        "bgp_sessions": len(lab.inv.bgp_sessions),
    }
    if as_json:
        print_json(info)
    else:
        console.print(
            f"[green]lab up[/]: {info['devices']} devices, {info['links']} links, "
            f"{info['bgp_sessions']} BGP sessions (profile {profile}, seed {seed})"
        )


@app.command()
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Devices with their interfaces, OSPF and BGP health."""
    from rich.table import Table

    from netops_agent.lab.sim import persist
    from netops_agent.store import Store

    with Store(settings(db).db_path) as store:
        lab = persist.load(store)
    d = lab.derived
    rows = []
    for dev in lab.inv.devices:
        ifs = [s for (n, _), s in d.iface.items() if n == dev.name]
        bgp = [s for (n, _), s in d.bgp.items() if n == dev.name]
        rows.append(
            {
                "device": dev.name,
                "role": dev.role,
                "reachable": lab.reachable(dev.name),
                "interfaces_up": sum(s.oper_up for s in ifs),
                "interfaces": len(ifs),
                "ospf_full": sum(1 for (n, _), s in d.ospf.items() if n == dev.name and s == "FULL"),
                "bgp_established": sum(s.state == "Established" for s in bgp),
                "bgp_sessions": len(bgp),
            }
        )
    if as_json:
        print_json({"clock": lab.now().isoformat(), "devices": rows})
        return
    t = Table(title=f"lab status at {lab.now():%Y-%m-%d %H:%M:%S} (twin clock)")
    for col in ("device", "role", "reachable", "interfaces up", "OSPF full", "BGP established"):
        t.add_column(col)
    for r in rows:
        bad = (
            not r["reachable"]
            or r["interfaces_up"] < r["interfaces"]
            or r["bgp_established"] < r["bgp_sessions"]
        )
        style = "yellow" if bad else ""
        t.add_row(
            r["device"],
            r["role"],
            "yes" if r["reachable"] else "[red]no[/]",
            f"{r['interfaces_up']}/{r['interfaces']}",
            str(r["ospf_full"]),
            f"{r['bgp_established']}/{r['bgp_sessions']}",
            style=style,
        )
    console.print(t)


@app.command("exec")
def exec_(
    device: Annotated[str, typer.Argument(help="Device name, e.g. site1-leaf1.")],
    command: Annotated[str, typer.Argument(help='CLI command, e.g. "show ip bgp summary".')],
    db: DbOption = None,
) -> None:
    """Run one CLI command on a device and print what the device prints."""
    from netops_agent.lab.sim import persist
    from netops_agent.store import Store

    with Store(settings(db).db_path) as store:
        lab = persist.load(store)
        out = lab.execute(device, command)
        persist.save(lab, store)
    if not out.ok:
        console.print(out.error or out.text, style="red", highlight=False)
        raise typer.Exit(1)
    console.print(out.text, highlight=False, markup=False)


@app.command()
def inject(
    fault: Annotated[str, typer.Argument(help="Fault type slug (see `netops-agent faults`).")],
    device: Annotated[str | None, typer.Option(help="Target device (default: picked with --seed).")] = None,
    interface: Annotated[str | None, typer.Option(help="Target interface.")] = None,
    peer: Annotated[str | None, typer.Option(help="Target BGP peer address.")] = None,
    severity: Annotated[str | None, typer.Option(help="Incident severity override.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for automatic target choice.")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Inject a fault into the running lab (the agent is not told what or where)."""
    from netops_agent.lab.sim import persist
    from netops_agent.lab.sim.faults import SimFaults
    from netops_agent.models import FaultSpec
    from netops_agent.store import Store

    target: dict[str, str] | str = "auto"
    if device:
        target = {k: v for k, v in {"device": device, "interface": interface, "peer": peer}.items() if v}
    spec = FaultSpec(type=fault, target=target, severity=severity)
    with Store(settings(db).db_path) as store:
        lab = persist.load(store)
        injected = SimFaults(lab).inject(spec, seed=seed)
        lab.advance(120)
        persist.save(lab, store)
    if as_json:
        print_json(injected.model_dump(mode="json"))
    else:
        console.print(
            f"[yellow]injected[/] {injected.type} ({injected.id}); symptoms are developing. "
            "Look around with `netops-agent lab exec`, then run `netops-agent solve`."
        )


@app.command()
def down(db: DbOption = None) -> None:
    """Remove the lab and its records from the database."""
    from netops_agent.store import Store

    with Store(settings(db).db_path) as store:
        store.reset_run()
    console.print("lab removed")


def _sim_only(backend: str) -> None:
    if backend == "sim":
        return
    if backend == "frr":
        raise ConfigError("the FRR backend is wired in `netops-agent lab up --backend frr` once available")
    raise ConfigError(f"unknown backend {backend!r}; choose sim or frr")

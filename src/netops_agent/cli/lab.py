"""`netops-agent lab ...`: an interactive lab on the twin or on real FRR routers.

`lab up` records in the database which backend is up (the `lab_state` row; for FRR
with its runtime directory and namespace prefix), so `status`, `exec`, `inject` and
`down` in later processes find the same lab. For FRR the row is written before any
namespace exists, so `lab down` can remove everything also after a crash. What
`lab inject` injected is recorded only in the ground-truth store next to the
database (`netops.truth.duckdb`), never in the database the agent works with.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from netops_agent.cli import lab_ssh
from netops_agent.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_store,
    print_json,
    settings,
    writing,
)
from netops_agent.cli.validate import SEED_MAX
from netops_agent.errors import ConfigError, LabError

app = typer.Typer(
    help=(
        "Bring up a lab (the twin, or real FRR routers with --backend frr), look around with "
        "show commands, inject faults. State persists in the DuckDB file between commands."
    ),
    no_args_is_help=True,
)

Backend = Annotated[
    str, typer.Option("--backend", "-b", help="sim (digital twin) or frr (real FRR routers; needs root).")
]
Prefix = Annotated[
    str,
    typer.Option(help="FRR: name prefix of the lab's namespaces (one lab per prefix).", show_default=True),
]
DEFAULT_PREFIX = "nops"


@app.command()
def up(
    backend: Backend = "sim",
    profile: Annotated[str, typer.Option(help="small | medium | large.")] = "small",
    seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Topology seed (sim).")] = 42,
    prefix: Prefix = DEFAULT_PREFIX,
    ssh: lab_ssh.SshOption = False,
    ssh_port_base: lab_ssh.PortBaseOption = 2200,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a fresh lab (replaces any previous twin and its records in the database).

    With --ssh every router also listens on 127.0.0.1 (port BASE+1, BASE+2, ...): log in
    with `ssh -p 2201 admin@127.0.0.1` or Netmiko/scrapli/Nornir; `lab status` shows the
    generated password. Changes over SSH are changes to this lab.
    """
    if ssh and backend != "sim":
        raise ConfigError("--ssh serves the digital twin; use it with --backend sim")
    if backend == "frr":
        _frr_up(profile, prefix, db, as_json)
        return
    _check_backend(backend)
    from netops_agent.lab.sim import persist
    from netops_agent.lab.sim.lab import SimLab

    with open_store(db) as store:
        _refuse_if_frr_up(store)
    lab_ssh.stop_ssh(settings(db).db_path)  # a server of the previous twin must not outlive it
    lab = SimLab.build(profile, seed)
    lab.advance(60)
    with writing(db, "lab up") as store:
        store.reset_run()
        persist.save(lab, store, fresh=True)
        _clear_truth(store)
    info: dict[str, Any] = {
        "backend": "sim",
        "profile": profile,
        "seed": seed,
        "devices": len(lab.inv.devices),
        "links": len(lab.inv.links),
        "bgp_sessions": len(lab.inv.bgp_sessions),
    }
    if ssh:
        lab_ssh.start_ssh(settings(db).db_path, lab, ssh_port_base)
        info["ssh"] = lab_ssh.ssh_info(settings(db).db_path)
    if as_json:
        print_json(info)
        return
    console.print(
        f"[green]lab up[/]: {info['devices']} devices, {info['links']} links, "
        f"{info['bgp_sessions']} BGP sessions (profile {profile}, seed {seed})"
    )
    if info.get("ssh"):
        lab_ssh.print_ssh(info["ssh"])


@app.command()
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Devices with their interfaces, OSPF and BGP health."""
    from rich.table import Table

    from netops_agent.lab.sim import persist
    from netops_agent.lab.sim.status import device_status

    with open_store(db, read_only=True) as store:
        frr = _recorded_frr(store) is not None
        lab = None if frr else persist.load(store)
    if lab is None:
        with open_store(db) as store:  # an FRR status samples real counters into telemetry
            _frr_status(store, as_json)
        return
    rows = device_status(lab)
    ssh = lab_ssh.ssh_info(settings(db).db_path)
    if as_json:
        print_json({"backend": "sim", "clock": lab.now().isoformat(), "devices": rows, "ssh": ssh})
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
    if ssh:
        lab_ssh.print_ssh(ssh)


@app.command("exec")
def exec_(
    device: Annotated[str, typer.Argument(help="Device name, e.g. site1-leaf1 (sim) or leaf1 (frr).")],
    command: Annotated[str, typer.Argument(help='CLI command, e.g. "show ip bgp summary".')],
    db: DbOption = None,
) -> None:
    """Run one CLI command on a device and print what the device prints."""
    from netops_agent.pipeline.interactive import lab_control

    with writing(db, "lab exec") as store, lab_control(store) as ctl:
        out = ctl.view().execute(device, command)
    if not out.ok:  # the device's refusal, on stderr with a non-zero exit code
        err_console.print(out.error or out.text, style="red", highlight=False, markup=False)
        sys.exit(1)
    # Verbatim: device tables must survive copy-paste and pipes, so Rich never re-wraps them.
    sys.stdout.write(out.text if out.text.endswith("\n") else out.text + "\n")
    sys.stdout.flush()


@app.command()
def inject(
    fault: Annotated[str, typer.Argument(help="Fault type slug (see `netops-agent faults`).")],
    device: Annotated[str | None, typer.Option(help="Target device (default: picked with --seed).")] = None,
    interface: Annotated[str | None, typer.Option(help="Target interface.")] = None,
    peer: Annotated[str | None, typer.Option(help="Target BGP peer address.")] = None,
    seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Seed for automatic target choice.")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Inject a fault into the running lab (the agent is not told what or where).

    The injection is recorded only in the ground-truth store next to the database
    (`<db>.truth.duckdb`); the database the agent and monitoring read never holds it.
    """
    from netops_agent.models import FaultSpec
    from netops_agent.pipeline.interactive import SCOPE, lab_control, truth_for

    target: dict[str, str] | str = "auto"
    if device:
        target = {k: v for k, v in {"device": device, "interface": interface, "peer": peer}.items() if v}
    spec = FaultSpec(type=fault, target=target)
    with writing(db, "lab inject") as store:
        recorded = _recorded_frr(store)
        with lab_control(store, with_truth=True) as ctl:
            injected = ctl.inject(spec, seed=seed)
            if recorded is None:
                ctl.advance(120)  # symptoms develop on the twin's clock
            else:
                with truth_for(store) as truth:
                    truth.record(SCOPE, ctl.injected(), ctl.now())
    if as_json:
        print_json(injected.model_dump(mode="json"))
    elif recorded is not None:
        console.print(
            f"[yellow]injected[/] {injected.type} ({injected.id}) into the FRR lab; symptoms show "
            'within seconds. Look around with `netops-agent lab exec ROUTER "show ..."`.'
        )
    else:
        console.print(
            f"[yellow]injected[/] {injected.type} ({injected.id}); symptoms are developing. "
            "Look around with `netops-agent lab exec`."
        )


@app.command()
def down(
    prefix: Annotated[
        str | None,
        typer.Option(help="FRR: also remove the lab with this prefix when the database has no record of it."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove the lab and its records from the database (FRR: every namespace, process and file)."""

    with writing(db, "lab down") as store:
        recorded = _recorded_frr(store)
        runtimes = [Path(recorded["runtime_dir"])] if recorded else []
        if prefix or not recorded:
            runtimes.append(_default_runtime(prefix or DEFAULT_PREFIX))
        removed = _frr_down(runtimes) if recorded or prefix or _frr_state_exists(runtimes) else None
        store.reset_run()
        _clear_truth(store)
    ssh_stopped = lab_ssh.stop_ssh(settings(db).db_path)
    if as_json:
        print_json({"removed": removed or {}, "ssh_server_stopped": ssh_stopped})
        return
    if removed is None:
        console.print("lab removed" + (" (SSH listeners closed)" if ssh_stopped else ""))
        return
    console.print(
        f"FRR lab removed: {len(removed['namespaces'])} namespaces, {len(removed['processes'])} "
        f"processes, {len(removed['files'])} files"
    )


# --- FRR -------------------------------------------------------------------------------------------
def _default_runtime(prefix: str) -> Path:
    from netops_agent.pipeline.backends import runtime_dir_for

    return runtime_dir_for(prefix)


def _clear_truth(store: Any) -> None:
    from netops_agent.pipeline.interactive import truth_for

    with truth_for(store) as truth:
        truth.clear()


def _recorded_frr(store: Any) -> dict[str, Any] | None:
    from netops_agent.lab.frr.persist import recorded_lab

    return recorded_lab(store)


def _refuse_if_frr_up(store: Any) -> None:
    from netops_agent.lab.frr.state import load_state

    recorded = _recorded_frr(store)
    if recorded is None:
        return
    try:
        alive = load_state(Path(recorded["runtime_dir"])) is not None
    except LabError:
        alive = True
    if alive:
        raise LabError(
            f"an FRR lab (prefix {recorded['prefix']}) is recorded in this database and still "
            "exists; run `netops-agent lab down` first"
        )


def _attach(recorded: dict[str, Any]) -> Any:
    from netops_agent.pipeline.interactive import frr_control

    return frr_control(recorded).lab  # type: ignore[attr-defined]


def _frr_up(profile: str, prefix: str, db: Path | None, as_json: bool) -> None:
    from netops_agent.lab.frr import PROFILES, FrrLab, check_prerequisites, frr_inventory
    from netops_agent.lab.frr import persist as frr_persist
    from netops_agent.lab.frr.system import valid_name
    from netops_agent.lab.frr.telemetry import FrrTelemetry

    if profile not in PROFILES:
        raise ConfigError(f"unknown FRR profile {profile!r}; choose one of {', '.join(PROFILES)}")
    valid_name(prefix, "prefix")
    check_prerequisites()  # root, ip netns, FRR: a clear message naming what is missing
    runtime = _default_runtime(prefix)
    inventory = frr_inventory(profile=profile)
    with open_store(db) as store:
        _refuse_if_frr_up(store)
        store.reset_run()
        _clear_truth(store)
        frr_persist.record_lab(store, runtime_dir=runtime, prefix=prefix, profile=profile, status="creating")
    try:
        lab = FrrLab.up(inventory, runtime, prefix=prefix)
    except BaseException:
        with open_store(db) as store:
            frr_persist.record_lab(
                store, runtime_dir=runtime, prefix=prefix, profile=profile, status="failed"
            )
        raise
    with open_store(db) as store:
        frr_persist.record_lab(store, runtime_dir=runtime, prefix=prefix, profile=profile, status="up",
                               extra={"timings": lab.timings})  # fmt: skip
        frr_persist.save_inventory(store, lab)
        FrrTelemetry(lab).record(store)
    inv = lab.inventory()
    info = {
        "backend": "frr",
        "profile": profile,
        "prefix": prefix,
        "runtime_dir": str(runtime),
        "frr_version": lab.state.frr_version,
        "devices": len(inv.devices),
        "links": len(inv.links),
        "bgp_sessions": len(inv.bgp_sessions),
        "bringup_s": lab.bringup_seconds,
        "timings": lab.timings,
    }
    if as_json:
        print_json(info)
    else:
        console.print(
            f"[green]FRR lab up[/]: {info['devices']} routers, {info['links']} links, "
            f"{info['bgp_sessions']} BGP sessions all Established in {info['bringup_s']:.1f}s "
            f"(profile {profile}, FRR {info['frr_version']}, namespaces {prefix}-*)"
        )


def _frr_status(store: Any, as_json: bool) -> None:
    from rich.table import Table

    from netops_agent.lab.frr.telemetry import FrrTelemetry

    recorded = _recorded_frr(store)
    assert recorded is not None
    lab = _attach(recorded)
    rows = lab.status()
    samples = FrrTelemetry(lab).record(store)  # real counters into the telemetry table
    if as_json:
        info = {"backend": "frr", "prefix": recorded["prefix"], "runtime_dir": recorded["runtime_dir"]}
        print_json({**info, "bringup_s": lab.bringup_seconds, "telemetry_rows": samples, "routers": rows})
        return
    t = Table(title=f"FRR lab {recorded['prefix']} ({recorded['runtime_dir']})")
    for col in ("router", "namespace", "daemons up", "OSPF full", "BGP established"):
        t.add_column(col)
    for r in rows:
        alive = sum(r["daemons"].values())
        bad = (alive < len(r["daemons"]) or r["bgp_established"] < r["bgp_sessions"]
               or r["ospf_full"] < r["ospf_adjacencies"])  # fmt: skip
        t.add_row(r["router"], r["namespace"], f"{alive}/{len(r['daemons'])}",
                  f"{r['ospf_full']}/{r['ospf_adjacencies']}", f"{r['bgp_established']}/{r['bgp_sessions']}",
                  style="yellow" if bad else "")  # fmt: skip
    console.print(t)
    console.print(f"[dim]{samples} telemetry rows recorded from the routers' counters[/]")


def _frr_state_exists(runtimes: list[Path]) -> bool:
    from netops_agent.lab.frr.state import state_path

    return any(state_path(r).exists() for r in runtimes)


def _frr_down(runtimes: list[Path]) -> dict[str, list[str]]:
    from netops_agent.lab.frr import FrrLab
    from netops_agent.pipeline.backends import remove_empty_parent

    removed: dict[str, list[str]] = {"processes": [], "namespaces": [], "files": []}
    for runtime in dict.fromkeys(runtimes):
        for key, values in FrrLab.down(runtime).items():
            removed[key] += values
        remove_empty_parent(runtime)
    return removed


def _check_backend(backend: str) -> None:
    if backend not in ("sim", "frr"):
        raise ConfigError(f"unknown backend {backend!r}; choose sim or frr")

"""`lab up --ssh`, `lab status`, `lab down` SSH parts, and `lab export` / `lab import`.

The twin's SSH server runs in the background over the DuckDB file (see
`lab.sim.ssh_lab`); its credentials live in a 0600 file next to the database and are
shown by `lab status` (they are the lab's, never the agent's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from netops_agent.cli.common import DbOption, JsonOption, console, print_json, settings

SshOption = Annotated[
    bool, typer.Option("--ssh", help="Also serve every device over SSH on 127.0.0.1 (asyncssh).")
]
PortBaseOption = Annotated[
    int,
    typer.Option(
        "--ssh-port-base",
        help="Device N listens on BASE+N (the first on BASE+1); 0 picks free ports.",
        min=0,
        max=65000,
    ),
]

TransportOption = Annotated[
    str,
    typer.Option(
        "--transport",
        help="How the agent reaches the twin's routers: inprocess, or ssh (every read and change "
        "is a real SSH session to the twin served on free loopback ports).",
    ),
]


def check_transport(transport: str, backend: str) -> None:
    from netops_agent.errors import ConfigError

    if transport not in ("inprocess", "ssh"):
        raise ConfigError(f"unknown transport {transport!r}; choose --transport inprocess or --transport ssh")
    if transport == "ssh" and backend != "sim":
        raise ConfigError("--transport ssh serves the digital twin over SSH; use it with --backend sim")


def start_ssh(db: Path, lab: Any, port_base: int) -> dict[str, Any]:
    from netops_agent.lab.sim import ssh_lab

    devices = [d.name for d in lab.inv.devices]
    roles = {d.name: d.role for d in lab.inv.devices}
    return ssh_lab.start(db, devices, port_base=port_base, roles=roles)


def stop_ssh(db: Path) -> bool:
    from netops_agent.lab.sim import ssh_lab

    return ssh_lab.stop(db)


def ssh_info(db: Path) -> dict[str, Any] | None:
    from netops_agent.lab.sim import ssh_lab

    rec = ssh_lab.status(db)
    if rec is None:
        return None
    return {k: rec[k] for k in ("username", "password", "ports", "pid", "inventory")}


def print_ssh(info: dict[str, Any]) -> None:
    first, port = next(iter(info["ports"].items()))
    console.print(
        f"[green]SSH[/]: {len(info['ports'])} routers on 127.0.0.1, user [bold]{info['username']}[/] "
        f"password [bold]{info['password']}[/] (also the enable secret)"
    )
    console.print(f"  ssh -p {port} {info['username']}@127.0.0.1   # {first}")
    console.print(f"  Nornir inventory: {info['inventory']}")


def ports_table(info: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(title="SSH listeners (127.0.0.1)")
    t.add_column("device")
    t.add_column("port", justify="right")
    for dev, port in info["ports"].items():
        t.add_row(dev, str(port))
    console.print(t)


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        nornir: Annotated[
            Path, typer.Option("--nornir", help="Directory for hosts.yaml, groups.yaml, defaults.yaml.")
        ],
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Write a Nornir SimpleInventory of the running twin (SSH ports and credentials).

        Needs `lab up --ssh`. Works with nornir_netmiko (platform cisco_ios) and
        nornir_scrapli (connection option platform cisco_iosxe).
        """
        from netops_agent.errors import LabError
        from netops_agent.lab.sim import ssh_lab

        rec = ssh_lab.status(settings(db).db_path)
        if rec is None:
            raise LabError("no SSH server is up for this lab; start one with `netops-agent lab up --ssh`")
        files = ssh_lab.export_nornir(rec, nornir)
        if as_json:
            print_json({"files": [str(f) for f in files], "hosts": len(rec["ports"])})
        else:
            console.print(f"Nornir inventory for {len(rec['ports'])} hosts written to {nornir} (mode 0600)")

    @app.command("import")
    def import_(
        netbox: Annotated[
            Path,
            typer.Option(
                "--netbox",
                help="NetBox REST export: a JSON file with devices, interfaces and cables "
                "(the results of /api/dcim/devices/, /api/dcim/interfaces/, /api/dcim/cables/).",
            ),
        ],
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Read devices, interfaces and cables from a NetBox export into the inventory tables."""
        from netops_agent.lab.ssh.netbox import load_netbox, save_inventory
        from netops_agent.store import Store

        inv = load_netbox(netbox)
        with Store(settings(db).db_path) as store:
            save_inventory(store, inv)
        counts = {
            "sites": len(inv.sites),
            "devices": len(inv.devices),
            "interfaces": len(inv.interfaces),
            "cables": len(inv.links),
        }
        if as_json:
            print_json(counts)
        else:
            console.print(
                f"imported from {netbox}: {counts['devices']} devices, {counts['interfaces']} interfaces, "
                f"{counts['cables']} cables, {counts['sites']} sites"
            )

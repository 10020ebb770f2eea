"""Real gear over SSH (the twin's SSH lab stands in for it): read-only by default."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from netops_agent.errors import InputFileError
from netops_agent.lab.ssh.inventory import load_nornir
from netops_agent.lab.ssh.netbox import load_netbox
from tests.e2e.conftest import Cli
from tests.ssh.conftest import SshLab

AUDIT_TABLES = ("tool_calls", "changes", "ticket_events", "tickets", "config_archive", "telemetry")


def solve(ssh_lab: SshLab, where: Path, *extra: str) -> dict:
    where.mkdir()
    inventory = ssh_lab.dir / "outputs" / "netops.ssh" / "inventory"
    args = ["solve", "--backend", "ssh", "--inventory", str(inventory), "--polls", "3", "--poll-s", "5"]
    return Cli(where).json(*args, "--max-wait-s", "1", *extra)  # the agent's own database and log


@pytest.mark.slow
def test_gear_is_read_only_until_allowed_and_archives_before_a_change(
    ssh_lab: SshLab, tmp_path: Path
) -> None:
    ssh_lab.cli("lab", "inject", "interface_admin_down", "--device", "site1-leaf4",
                "--interface", "GigabitEthernet0/0")  # fmt: skip
    try:
        report = solve(ssh_lab, tmp_path / "ro")
        mine = [i for i in report["incidents"] if i["device"] == "site1-leaf4"]
        assert mine and mine[0]["outcome"] == "escalated"
        assert "read-only" in mine[0]["reason"] and "--allow-changes" in mine[0]["reason"]
        shown = ssh_lab.cli("lab", "exec", "site1-leaf4", "show interfaces GigabitEthernet0/0").stdout
        assert "administratively down" in shown  # nothing was changed on the "device"
        archived, refusals, dumps = read_agent_db(tmp_path / "ro")
        assert archived == [("baseline", len(ssh_lab.record["ports"]))]
        assert refusals >= 1
        secret = ssh_lab.password
        assert secret not in (tmp_path / "ro" / "outputs" / "netops.log").read_text()
        assert all(secret not in dump for dump in dumps.values())
        assert secret not in (ssh_lab.dir / "outputs" / "netops.ssh" / "server.log").read_text()

        report = solve(ssh_lab, tmp_path / "rw", "--allow-changes")
        mine = [i for i in report["incidents"] if i["device"] == "site1-leaf4"]
        assert mine and mine[0]["outcome"] == "resolved", mine
        shown = ssh_lab.cli("lab", "exec", "site1-leaf4", "show interfaces GigabitEthernet0/0").stdout
        assert "GigabitEthernet0/0 is up" in shown
        archived, refusals, _ = read_agent_db(tmp_path / "rw")
        assert ("before change", 1) in archived and refusals == 0
    finally:
        conn = ssh_lab.netmiko("site1-leaf4")
        conn.enable()
        conn.send_config_set(["interface GigabitEthernet0/0", "no shutdown"])
        conn.disconnect()


def read_agent_db(where: Path) -> tuple[list, int, dict[str, str]]:
    db = duckdb.connect(str(where / "outputs" / "netops.duckdb"), read_only=True)
    try:
        archived = db.execute(
            "SELECT reason, count(*) FROM config_archive GROUP BY reason ORDER BY 1"
        ).fetchall()
        refusals = db.execute("SELECT count(*) FROM tool_calls WHERE error LIKE '%read-only%'").fetchone()
        dumps = {t: str(db.execute(f"SELECT * FROM {t}").fetchall()) for t in AUDIT_TABLES}
    finally:
        db.close()
    return archived, int(refusals[0]) if refusals else 0, dumps


def test_nornir_inventory_errors_name_the_host_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hosts.yaml").write_text("r1:\n  hostname: 10.0.0.1\n  platform: junos\n")
    with pytest.raises(InputFileError, match=r"host r1: platform 'junos' is not supported"):
        load_nornir(tmp_path)
    (tmp_path / "hosts.yaml").write_text("r1:\n  hostname: 10.0.0.1\n  platform: cisco_ios\n")
    monkeypatch.delenv("NETOPS_SSH_USERNAME", raising=False)
    monkeypatch.delenv("NETOPS_SSH_PASSWORD", raising=False)
    with pytest.raises(InputFileError, match=r"host r1: no username/password"):
        load_nornir(tmp_path)
    monkeypatch.setenv("NETOPS_SSH_USERNAME", "ops")
    monkeypatch.setenv("NETOPS_SSH_PASSWORD", "from-env")
    targets, _ = load_nornir(tmp_path)
    assert (targets["r1"].username, targets["r1"].password, targets["r1"].port) == ("ops", "from-env", 22)
    assert "from-env" not in repr(targets)


NETBOX = {
    "devices": {"count": 2, "results": [
        {"id": 1, "name": "core1", "role": {"slug": "core"}, "site": {"slug": "dc1"},
         "primary_ip4": {"address": "10.255.0.1/32"}, "custom_fields": {"asn": 65001}},
        {"id": 2, "name": "acc1", "device_role": {"slug": "access"}, "site": {"slug": "dc1"},
         "primary_ip4": None, "custom_fields": {}},
    ]},
    "interfaces": [
        {"device": {"name": "core1"}, "name": "GigabitEthernet0/1", "mtu": 9000, "speed": 10000000},
        {"device": {"name": "acc1"}, "name": "GigabitEthernet0/0"},
        {"device": {"name": "core1"}, "name": "Loopback0"},
    ],
    "cables": [
        {"id": 7, "a_terminations": [{"object_type": "dcim.interface",
                                      "object": {"device": {"name": "core1"}, "name": "GigabitEthernet0/1"}}],
         "b_terminations": [{"object_type": "dcim.interface",
                             "object": {"device": {"name": "acc1"}, "name": "GigabitEthernet0/0"}}]},
    ],
}  # fmt: skip


def test_netbox_export_becomes_our_inventory(tmp_path: Path) -> None:
    path = tmp_path / "netbox.json"
    path.write_text(json.dumps(NETBOX))
    inv = load_netbox(path)
    assert [(d.name, d.role, d.asn, d.loopback) for d in inv.devices] == [
        ("core1", "spine", 65001, "10.255.0.1"), ("acc1", "leaf", 0, "")]  # fmt: skip
    assert inv.link_of("acc1", "GigabitEthernet0/0").peer_of("acc1") == ("core1", "GigabitEthernet0/1")
    cli = Cli(tmp_path)
    assert cli.json("lab", "import", "--netbox", str(path)) == {
        "sites": 1, "devices": 2, "interfaces": 3, "cables": 1}  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**NETBOX, "cables": [{"id": 9, "a_terminations": []}]}))
    proc = cli("lab", "import", "--netbox", str(bad), check=False)
    assert proc.returncode == 2 and "cables[0]" in proc.stderr and "Traceback" not in proc.stderr


def test_lab_down_closes_every_listener(tmp_path: Path) -> None:
    import socket

    cli = Cli(tmp_path)
    up = cli.json("lab", "up", "--ssh", "--ssh-port-base", "0")
    ports = list(up["ssh"]["ports"].values())
    pid = up["ssh"]["pid"]
    with socket.create_connection(("127.0.0.1", ports[0]), timeout=5) as s:
        assert s.recv(64).startswith(b"SSH-2.0-")
    assert cli.json("lab", "down")["ssh_server_stopped"] is True
    assert not Path(f"/proc/{pid}").exists() or b"ssh_server" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    for port in ports:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    assert not (tmp_path / "outputs" / "netops.ssh").exists()

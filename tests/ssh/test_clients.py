"""Real SSH clients against the twin: Netmiko, scrapli, asyncssh, Nornir, and `lab exec`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from netops_agent.lab.sim.ssh_server import StoredTwin
from tests.helpers import run_coroutine
from tests.ssh.conftest import SshLab


def test_netmiko_logs_in_shows_parses_and_configures(ssh_lab: SshLab) -> None:
    conn = ssh_lab.netmiko("site1-leaf1")
    try:
        assert conn.find_prompt() == "site1-leaf1>"
        rows = conn.send_command("show ip interface brief", use_textfsm=True)
        assert {"interface": "GigabitEthernet0/0", "status": "up", "proto": "up"}.items() <= rows[0].items()
        assert "% Invalid input detected" in conn.send_command("show running-config")  # needs enable
        conn.enable()
        assert conn.find_prompt() == "site1-leaf1#"
        out = conn.send_config_set(["interface Gi0/1", "description set-by-netmiko"])
        assert "site1-leaf1(config-if)#" in out
        bad = conn.send_config_set(["interface Gi0/1", "frobnicate now"])
        assert "% Invalid input detected at '^' marker." in bad
        assert "[OK]" in conn.save_config()
    finally:
        conn.disconnect()
    # the change is the lab's: another process sees it through `lab exec`
    shown = ssh_lab.cli("lab", "exec", "site1-leaf1", "show interfaces description").stdout
    assert "set-by-netmiko" in shown


def test_scrapli_iosxe_driver_sends_commands_and_configs(ssh_lab: SshLab) -> None:
    from scrapli.driver.core import IOSXEDriver

    with IOSXEDriver(
        host="127.0.0.1", port=ssh_lab.port("site1-leaf2"), auth_username="admin",
        auth_password=ssh_lab.password, auth_secondary=ssh_lab.password, auth_strict_key=False,
        transport="paramiko", ssh_config_file=False, timeout_ops=20,
    ) as conn:  # fmt: skip
        assert conn.get_prompt() == "site1-leaf2#"
        resp = conn.send_command("show ip interface brief")
        parsed = resp.textfsm_parse_output()
        assert not resp.failed and any(r["interface"] == "Loopback0" for r in parsed)
        multi = conn.send_configs(["interface GigabitEthernet0/2", " description set-by-scrapli"])
        assert not multi.failed
        assert "description set-by-scrapli" in conn.send_command("show run interface Gi0/2").result
        assert conn.send_configs(["interface Gi0/2", "no such thing"]).failed
        assert conn.send_command("show bogus").failed


def test_paging_with_more_prompt_until_terminal_length_zero(ssh_lab: SshLab) -> None:
    import asyncssh

    async def session() -> tuple[str, str]:
        async with asyncssh.connect(
            "127.0.0.1", ssh_lab.port("site1-spine1"), username="admin",
            password=ssh_lab.password, known_hosts=None,
        ) as conn:  # fmt: skip
            proc = await conn.create_process(term_type="vt100")

            async def until(marker: str) -> str:
                buf = ""
                while not buf.rstrip(" ").endswith(marker):
                    buf += await asyncio.wait_for(proc.stdout.read(4096), 10)
                return buf

            banner = await until("site1-spine1>")
            proc.stdin.write("terminal length 8\r")
            await until(">")
            proc.stdin.write("show ip route\r")
            first = await until("--More--")
            proc.stdin.write("\r")  # Enter: one more line, then --More-- again
            more = await until("--More--")
            assert more.count("\r\n") == 1
            proc.stdin.write("q")
            await until(">")
            proc.stdin.write("terminal length 0\r")
            await until("site1-spine1>")  # one command at a time: the first prompt ends a read
            proc.stdin.write("show ip route\r")
            whole = await until("site1-spine1>")
            proc.stdin.write("exit\r")
            return banner + first, whole

    paged, whole = run_coroutine(session())
    assert "Authorized access only" in paged
    assert paged.count("\r\n") <= 8 + 8  # banner + one page of 7 lines
    assert "--More--" not in whole and whole.count("\r\n") > 10


def test_change_over_ssh_shows_in_lab_exec_and_telemetry(ssh_lab: SshLab) -> None:
    conn = ssh_lab.netmiko("site1-edge2")
    try:
        conn.enable()
        conn.send_config_set(["interface GigabitEthernet0/0", "shutdown"])
        # as `lab exec` does: load, run, save; four execs move the twin's clock 8 s, the
        # CLI call below 2 s more, so a telemetry tick after the change is recorded
        twin = StoredTwin(ssh_lab.dir / "outputs" / "netops.duckdb")
        twin.call(lambda lab: [lab.execute("site1-edge2", "show clock") for _ in range(4)])
        shown = ssh_lab.cli("lab", "exec", "site1-edge2", "show interfaces GigabitEthernet0/0").stdout
        assert "administratively down" in shown
        import duckdb

        conn_db = duckdb.connect(str(ssh_lab.dir / "outputs" / "netops.duckdb"), read_only=True)
        try:
            value = conn_db.execute(
                "SELECT value FROM telemetry WHERE device = 'site1-edge2' AND entity = 'GigabitEthernet0/0' "
                "AND metric = 'admin-status' ORDER BY ts DESC LIMIT 1"
            ).fetchone()
        finally:
            conn_db.close()
        assert value == (2.0,)
    finally:
        conn.send_config_set(["interface GigabitEthernet0/0", "no shutdown"])
        conn.disconnect()


def test_nornir_over_the_exported_inventory_gathers_facts(ssh_lab: SshLab, tmp_path: Path) -> None:
    from nornir import InitNornir
    from nornir_netmiko.tasks import netmiko_send_command

    out = tmp_path / "inv"
    ssh_lab.cli("lab", "export", "--nornir", str(out))
    assert (out / "defaults.yaml").stat().st_mode & 0o077 == 0  # credentials: owner only
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": 4}},
        inventory={"plugin": "SimpleInventory", "options": {
            "host_file": str(out / "hosts.yaml"), "group_file": str(out / "groups.yaml"),
            "defaults_file": str(out / "defaults.yaml")}},
        logging={"enabled": False},
    )  # fmt: skip
    result = nr.run(task=netmiko_send_command, command_string="show version", use_textfsm=True)
    assert not result.failed, {h: r.exception for h, r in result.items() if r.failed}
    facts = {host: r[0].result[0] for host, r in result.items()}
    assert set(facts) == set(ssh_lab.record["ports"])
    assert all(f["hostname"] == host for host, f in facts.items())


def test_lab_status_shows_credentials_and_ports(ssh_lab: SshLab) -> None:
    status = ssh_lab.cli.json("lab", "status")
    assert status["ssh"]["ports"] == ssh_lab.record["ports"]
    assert status["ssh"]["username"] == "admin" and status["ssh"]["password"] == ssh_lab.password
    text = ssh_lab.cli("lab", "status").stdout
    assert f"ssh -p {ssh_lab.port('site1-spine1')} admin@127.0.0.1" in text


def test_record_and_host_key_are_private(ssh_lab: SshLab) -> None:
    runtime = ssh_lab.dir / "outputs" / "netops.ssh"
    for name in ("ssh.json", "ssh_host_ed25519_key"):
        assert (runtime / name).stat().st_mode & 0o077 == 0
    assert json.loads((runtime / "ssh.json").read_text())["pid"] > 0

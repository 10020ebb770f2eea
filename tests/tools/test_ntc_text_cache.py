"""Parsed rows are kept per (platform, command, text): the same text gives what
`parse_output` gives for it, as fresh rows each time, and a changed text (a device that
answers differently) is parsed again."""

from __future__ import annotations

from pathlib import Path

from ntc_templates.parse import parse_output

from netops_agent.tools import ntc

GOLDEN = Path(__file__).parents[1] / "lab" / "sim" / "golden"


def _reference(command: str, text: str) -> list[dict]:
    return parse_output(platform="cisco_ios", command=command, data=text)


def test_the_same_text_is_parsed_once_and_answers_as_parse_output() -> None:
    text = (GOLDEN / "site1-leaf1__show_ip_interface_brief.txt").read_text()
    ntc._parsed.cache_clear()
    first = ntc.parse("cisco_ios", "show ip interface brief", text)
    second = ntc.parse("cisco_ios", "show ip interface brief", text)
    assert first == second == _reference("show ip interface brief", text)
    assert len(first) > 3
    info = ntc._parsed.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_kept_rows_are_handed_out_as_copies() -> None:
    text = (GOLDEN / "site1-leaf1__show_interfaces.txt").read_text()
    ntc._parsed.cache_clear()
    first = ntc.parse("cisco_ios", "show interfaces", text)
    lists = [k for k, v in first[0].items() if isinstance(v, list)]
    first[0]["interface"] = "mutated"
    first.append({"interface": "added"})
    for k in lists:
        first[0][k].append("mutated")
    again = ntc.parse("cisco_ios", "show interfaces", text)
    assert ntc._parsed.cache_info().hits == 1  # the kept rows, not a second parse
    assert again == _reference("show interfaces", text)


def test_a_changed_text_is_parsed_afresh() -> None:
    text = (GOLDEN / "site1-leaf1__show_ip_interface_brief.txt").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("GigabitEthernet") and " up " in ln)
    changed = text.replace(line, line[: line.rindex("up")] + "down")  # line protocol down
    assert changed != text
    ntc._parsed.cache_clear()
    before = ntc.parse("cisco_ios", "show ip interface brief", text)
    after = ntc.parse("cisco_ios", "show ip interface brief", changed)
    assert after == _reference("show ip interface brief", changed)
    assert after != before
    assert ntc._parsed.cache_info().misses == 2
    # and another command over the same text is its own entry (its own template)
    out = (GOLDEN / "site1-leaf1__show_processes_cpu_sorted.txt").read_text()
    assert ntc.parse("cisco_ios", "show processes cpu", out) == _reference("show processes cpu", out)
    assert ntc.parse("cisco_ios", "show processes cpu sorted", out) == _reference(
        "show processes cpu sorted", out
    )
    assert ntc._parsed.cache_info().misses == 4


def test_the_index_reads_as_texttable_reads_it() -> None:
    import os

    from ntc_templates.parse import _get_template_dir
    from textfsm import texttable

    template_dir = _get_template_dir()
    table = texttable.TextTable()
    with open(os.path.join(template_dir, "index")) as fh:
        table.CsvToTable(fh)
    header, rows = ntc._index(template_dir)
    assert header == tuple(table.header)
    assert rows == [dict(zip(table.header, row.values, strict=True)) for row in table]
    assert len(rows) > 900

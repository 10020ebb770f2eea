"""Runbooks: validated loading with precise errors, an index rebuilt only on change, retrieval."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netops_agent.catalog import CATALOG
from netops_agent.errors import InputFileError
from netops_agent.knowledge import TfidfRetriever, build_index, load_runbooks
from netops_agent.knowledge.schema import default_path
from netops_agent.store import Store


def test_every_fault_type_has_a_runbook() -> None:
    covered = {f for rb in load_runbooks() for f in rb.fault_types}
    assert covered == set(CATALOG)


def test_top_level_data_file_is_the_shipped_one() -> None:
    top = Path(__file__).resolve().parents[2] / "data" / "runbooks.yaml"
    assert top.read_text() == default_path().read_text()


def _write(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(default_path().read_text())
    mutate(data["runbooks"])
    p = tmp_path / "rb.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda rbs: rbs[0]["evidence"][0].update(tool="show_magic"), r"runbook RB-DEVICE-UNREACHABLE.*tool"),
        (lambda rbs: rbs[1].update(fault_types=["cosmic_rays"]), r"RB-LINK-FAILURE, field fault_types"),
        (lambda rbs: rbs[2].pop("validation"), r"RB-IF-ADMIN-DOWN.*validation"),
        (lambda rbs: rbs[2].update(colour="red"), r"RB-IF-ADMIN-DOWN, field colour"),
        (lambda rbs: rbs.append(dict(rbs[0])), r"duplicate runbook id RB-DEVICE-UNREACHABLE"),
    ],
)
def test_bad_runbook_file_names_runbook_and_field(tmp_path: Path, mutate, expect: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputFileError, match=expect):
        load_runbooks(_write(tmp_path, mutate))


def test_not_yaml_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("runbooks: [\n")
    with pytest.raises(InputFileError, match="broken.yaml"):
        load_runbooks(p)


def test_index_is_rebuilt_only_when_content_changes(tmp_path: Path) -> None:
    store = Store(":memory:")
    books = load_runbooks()
    assert build_index(store, books) is True
    assert build_index(store, books) is False
    changed = load_runbooks(_write(tmp_path, lambda rbs: rbs[0].update(title="Node dark")))
    assert build_index(store, changed) is True
    assert store.scalar("SELECT count(*) FROM runbooks") == len(books)
    assert store.scalar("SELECT count(*) FROM runbook_vectors") > len(books)


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("BGP peer down, prefixes withdrawn", "bgp_neighbor_shutdown"),
        ("CPU above 90%, SNMP timeouts", "high_cpu_process"),
        ("OSPF adjacency stuck in EXSTART, large pings fail", "mtu_mismatch"),
        ("memory utilisation climbing steadily", "memory_leak"),
        ("port down after a protection event err-disabled", "err_disabled_port"),
    ],
)
def test_retrieval_ranks_the_matching_runbook_first(text: str, fault: str) -> None:
    store = Store(":memory:")
    build_index(store, load_runbooks())
    hits = TfidfRetriever(store).retrieve(text, k=3)
    assert fault in hits[0].fault_types
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert 0 < hits[0].score <= 1.0

"""The memoised golden-config diff gives exactly what hier_config gives when every config
is parsed afresh for every diff (the uncached path), whichever order the diffs come in.

Parsed configs are shared between diffs (a device's golden config meets many running
configs), so these tests also prove a diff leaves the trees it compared untouched, that
a changed text is a new key (a new, right answer), and that configs that are the same
once cleaned need nothing, as hier_config itself says.
"""

from __future__ import annotations

import re

import pytest
from hier_config import Platform, WorkflowRemediation, get_hconfig

from netops_agent.lab.sim.control import sim_view
from netops_agent.lab.sim.lab import SimLab
from netops_agent.tools import golden


def _fresh(running: str, intended: str) -> list[str]:
    """The remediation computed with nothing cached: both texts parsed for this diff alone."""
    run = get_hconfig(Platform.CISCO_IOS, golden._clean(running))
    want = get_hconfig(Platform.CISCO_IOS, golden._clean(intended))
    lines: list[str] = []
    for child in WorkflowRemediation(run, want).remediation_config.children:
        lines.append(child.text)
        lines.extend(f" {c.text}" for c in child.all_children())
    return lines


def _first_interface(text: str) -> str:
    return re.search(r"^interface GigabitEthernet\S+$", text, re.M).group(0)  # type: ignore[union-attr]


# Drift of the kinds the fault catalog plants, as text edits of a golden config.
MUTATIONS = {
    "shutdown": lambda t: t.replace(_first_interface(t) + "\n", _first_interface(t) + "\n shutdown\n", 1),
    "line_removed": lambda t: t.replace(" ip ospf network point-to-point\n", "", 1),
    "description": lambda t: re.sub(r"^ description .*$", " description changed", t, count=1, flags=re.M),
    "static_route": lambda t: t.replace("\nend", "\nip route 10.99.0.0 255.255.0.0 Null0\n!\nend"),
    "acl": lambda t: t.replace(
        "\nend", "\nip access-list extended BLOCK\n 10 deny ip any any\n 20 permit ip any any\n!\nend"
    ),
    "flat_acl": lambda t: t.replace("\nend", "\naccess-list 10 permit any\n!\nend"),
    "bgp_line_removed": lambda t: re.sub(r"^ neighbor \S+ maximum-prefix \d+\n", "", t, count=1, flags=re.M),
    "banner": lambda t: "Building configuration...\n\nCurrent configuration : 1234 bytes\n" + t,
}


@pytest.fixture(scope="module")
def configs() -> dict[str, str]:
    view = sim_view(SimLab.build("small", 42))
    return {d.name: view.golden_config(d.name) for d in view.inventory().devices}


def _pairs(configs: dict[str, str]) -> list[tuple[str, str]]:
    pairs = []
    for text in configs.values():
        pairs.append((text, text))
        for mutate in MUTATIONS.values():
            drifted = mutate(text)
            assert drifted != text or mutate is MUTATIONS["bgp_line_removed"]
            pairs += [(drifted, text), (text, drifted)]  # restore and roll back
    return pairs


def test_memoised_diff_equals_the_uncached_diff_in_any_order(configs: dict[str, str]) -> None:
    pairs = _pairs(configs)
    expected = [_fresh(r, i) for r, i in pairs]
    assert sum(bool(e) for e in expected) > len(pairs) // 2  # most pairs really differ
    golden._remediation.cache_clear()
    golden._parsed.cache_clear()
    for order in (pairs, pairs[::-1]):  # every parsed tree is reused by many later diffs
        got = {(r, i): golden.remediation_lines(r, i) for r, i in order}
        assert [got[p] for p in pairs] == expected
        golden._remediation.cache_clear()  # the second round diffs again on the kept trees
    assert golden._parsed.cache_info().hits > 0


def test_a_diff_leaves_the_shared_trees_as_parsed(configs: dict[str, str]) -> None:
    some = dict(list(configs.items())[:4])  # fewer distinct texts than the cache holds
    pairs = _pairs(some)
    golden._remediation.cache_clear()
    golden._parsed.cache_clear()
    texts = {golden._clean(t) for p in pairs for t in p}
    assert len(texts) < golden._parsed.cache_info().maxsize
    trees = {t: golden._parsed(t) for t in texts}
    rendered = {t: [c.cisco_style_text() for c in tree.all_children_sorted()] for t, tree in trees.items()}
    for r, i in pairs:
        golden.remediation_lines(r, i)
    for t, tree in trees.items():
        assert golden._parsed(t) is tree  # the diffs above used these very trees
        assert [c.cisco_style_text() for c in tree.all_children_sorted()] == rendered[t]


def test_the_same_config_needs_nothing_and_is_not_parsed(configs: dict[str, str]) -> None:
    golden._remediation.cache_clear()
    golden._parsed.cache_clear()
    for text in configs.values():
        banner = MUTATIONS["banner"](text)
        assert _fresh(text, text) == [] and _fresh(banner, text) == []  # hier_config agrees
        assert golden.remediation_lines(text, text) == []
        assert golden.remediation_lines(banner, text) == []
        assert golden.config_diff(banner, text) == []
    assert golden._parsed.cache_info().misses == 0


def test_a_changed_config_is_a_new_key_with_its_own_answer(configs: dict[str, str]) -> None:
    text = configs["site1-leaf1"]
    itf = _first_interface(text)
    assert golden.remediation_lines(text, text) == []
    drifted = MUTATIONS["shutdown"](text)
    assert golden.remediation_lines(drifted, text) == [itf, " no shutdown"] == _fresh(drifted, text)
    assert golden.remediation_lines(drifted, text, itf) == [itf, " no shutdown"]
    assert golden.config_diff(drifted, text) == [{"section": itf, "op": "extra", "line": "shutdown"}]
    assert golden.remediation_lines(text, drifted) == [itf, " shutdown"] == _fresh(text, drifted)
    assert golden.remediation_lines(text, text) == []  # and the first answer still stands

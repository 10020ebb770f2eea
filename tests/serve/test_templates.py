"""The dashboard's compiled templates are kept in the user's cache, and a bad cache never fails a page."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.bccache import bc_magic

from tests.serve.conftest import make_client


def overview(db: Path) -> str:
    with make_client(db, hold_s=0) as c:
        r = c.get("/")
    assert r.status_code == 200, r.text
    assert "IM-0001" in r.text
    return r.text


def test_compiled_templates_are_kept_and_a_torn_entry_is_compiled_again(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETOPS_CACHE", str(tmp_path / "cache"))
    overview(demo_db)
    entries = sorted((tmp_path / "cache" / "templates").glob("netops-jinja*.cache"))
    assert len(entries) >= 2  # the overview and the base layout it extends
    assert all(e.read_bytes().startswith(bc_magic) and e.stat().st_size > 500 for e in entries)
    # Torn after the header (Jinja's own cache raises on this), and foreign bytes.
    entries[0].write_bytes(entries[0].read_bytes()[: len(bc_magic) + 3])
    for e in entries[1:]:
        e.write_bytes(bc_magic + b"\x80\x05not a pickle, not code")
    overview(demo_db)
    # each entry was compiled and kept again
    assert all(e.read_bytes().startswith(bc_magic) and e.stat().st_size > 500 for e in entries)


def test_a_cache_that_cannot_be_made_or_is_off_leaves_pages_working(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("NETOPS_CACHE", str(blocker))  # templates/ cannot be created under a file
    overview(demo_db)
    assert blocker.read_text() == "not a directory"
    monkeypatch.setenv("NETOPS_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    overview(demo_db)
    assert not (tmp_path / "xdg").exists()  # off keeps nothing

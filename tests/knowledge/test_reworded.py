"""Runbooks reworded by hand (titles and symptoms only) must not change what the agent gets right."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netops_agent.knowledge.schema import default_path, load_runbooks

DATA = Path(__file__).resolve().parents[1] / "data"
REWORDED = DATA / "runbooks-reworded.yaml"


def _reword_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("reword", DATA / "reword.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_reworded_runbooks_differ_only_in_titles_and_symptoms() -> None:
    assert REWORDED.read_text() == _reword_module().reword(default_path()), (
        "regenerate with tests/data/reword.py"
    )
    shipped = {rb.id: rb for rb in load_runbooks()}
    for rb in load_runbooks(REWORDED):
        orig = shipped[rb.id]
        assert rb.title != orig.title and rb.symptoms != orig.symptoms
        assert rb.model_dump(exclude={"title", "symptoms"}) == orig.model_dump(exclude={"title", "symptoms"})


@pytest.mark.slow
def test_catalog_with_reworded_runbooks_keeps_the_targets(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    cmd = [
        sys.executable,
        "-m",
        "netops_agent.cli.app",
        "eval",
        "--suite",
        "catalog",
        "--runbooks",
        str(REWORDED),
    ]
    cmd += ["--jobs", "2", "--json", "--db", str(tmp_path / "r.duckdb"), "--log", str(tmp_path / "r.log")]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    m = json.loads(run.stdout)["metrics"]
    assert m["false_resolutions"] == 0 and m["unsafe_actions"] == 0, m
    assert m["rca_accuracy"] >= 0.95 and m["mitigation_success"] >= 0.95, m

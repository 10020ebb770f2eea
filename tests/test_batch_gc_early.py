"""`run` and `eval` set the batch collector thresholds as the CLI starts, before the
command imports the agent, the twin and the database (other commands keep Python's)."""

from __future__ import annotations

import pytest

from tests.probe import run_probe

PROBE = """
import contextlib, gc, io, json, sys
sys.argv = ["netops-agent", *json.loads(sys.argv[1])]
from netops_agent.cli import app
default = gc.get_threshold()
with contextlib.redirect_stdout(io.StringIO()):
    try:
        app.main()
    except SystemExit:
        pass
print(json.dumps({"default": default, "after": gc.get_threshold()}))
"""


def _probe(args: list[str]) -> dict:
    return run_probe(PROBE, args)


@pytest.mark.parametrize("args", [["run", "--help"], ["eval", "--help"]])
def test_batch_commands_start_with_the_batch_thresholds(args: list[str]) -> None:
    from netops_agent.cli.common import BATCH_GC_THRESHOLDS

    got = _probe(args)
    assert got["default"] != list(BATCH_GC_THRESHOLDS)  # the probe starts from Python's own
    # --help runs no command body (batch_gc is never called), so only the early set-up did this
    assert got["after"] == list(BATCH_GC_THRESHOLDS)


def test_other_commands_keep_pythons_thresholds() -> None:
    got = _probe(["show-db", "--help"])
    assert got["after"] == got["default"]


PLUGINS = """
import json, os, sys
sys.argv = ["netops-agent", *json.loads(sys.argv[1])]
from netops_agent.cli.common import batch_gc_early
batch_gc_early(sys.argv[1:2])
print(json.dumps({"plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}))
"""


@pytest.mark.parametrize(
    ("args", "env", "want"),
    [
        (["eval", "--help"], None, "__all__"),  # a batch command loads no pydantic plugins
        (["eval", "--help"], "", ""),  # unless the user says otherwise
        (["show-db"], None, None),  # other commands leave pydantic as it is
    ],
)
def test_batch_commands_skip_pydantic_plugins_unless_asked(
    args: list[str], env: str | None, want: str | None
) -> None:
    import os

    extra = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if env is not None:
        extra["PYDANTIC_DISABLE_PLUGINS"] = env
    assert run_probe(PLUGINS, args, env=extra) == {"plugins": want}

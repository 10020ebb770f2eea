"""What `run` sets up for itself as a one-shot batch process (cli.common)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("env", "backend"),
    [({}, "system"), ({"ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}, "jemalloc")],
    ids=["default", "users-own-kept"],
)
def test_batch_arrow_memory_uses_the_c_allocator_unless_the_user_chose(env: dict, backend: str) -> None:
    code = (
        "from netops_agent.cli.common import batch_arrow_memory, batch_gc; import gc, pyarrow as pa;"
        "batch_gc(); batch_arrow_memory();"
        "print(pa.default_memory_pool().backend_name, gc.get_threshold()[0])"
    )
    env = {"PATH": "/usr/bin:/bin", **env}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [backend, "200000"]

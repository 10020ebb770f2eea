"""Score the LLM planner against a real local model, when one is being served.

    NETOPS_LLM_BASE_URL=http://127.0.0.1:8080/v1 NETOPS_LLM_MODEL=qwen2.5-3b-instruct \\
        python benchmarks/bench_llm.py [--suite smoke] [--max-steps 30] [--out results.json]

Opt-in (never in CI): start an OpenAI-compatible server first (docs/agents.md has a
llama.cpp recipe). Without NETOPS_LLM_BASE_URL / NETOPS_LLM_MODEL, or when the
endpoint does not answer `GET /models`, it prints why and exits 0. Otherwise it runs
`netops-agent eval --agent llm` as a whole process, prints the process wall time and
the headline metrics next to the default agent's on the same suite, and writes both
JSON documents to --out when given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HEADLINE = (
    "rca_accuracy",
    "mitigation_success",
    "false_resolutions",
    "unsafe_actions",
    "escalation_precision",
    "escalation_recall",
    "mean_tool_calls",
)


def endpoint_problem(base_url: str | None, model: str | None) -> str:
    if not base_url or not model:
        return "set NETOPS_LLM_BASE_URL and NETOPS_LLM_MODEL to a running OpenAI-compatible server"
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=5) as resp:
            resp.read()
    except (urllib.error.URLError, OSError) as exc:
        return f"{base_url} does not answer GET /models ({exc}); start the server (docs/agents.md)"
    return ""


def run(exe: str, cwd: str, suite: str, agent: str, extra: list[str]) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [exe, "eval", "--suite", suite, "--agent", agent, "--json", *extra],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"netops-agent eval --agent {agent} failed: {out.stderr.strip()[-500:]}")
    return time.perf_counter() - t0, json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="smoke")
    ap.add_argument("--max-steps", type=int, default=30)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    base_url, model = os.environ.get("NETOPS_LLM_BASE_URL"), os.environ.get("NETOPS_LLM_MODEL")
    problem = endpoint_problem(base_url, model)
    if problem:
        print(f"skipped: {problem}")
        return
    exe = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"
    with tempfile.TemporaryDirectory() as tmp:
        llm_s, llm = run(exe, tmp, args.suite, "llm", ["--max-steps", str(args.max_steps)])
        ref_s, ref = run(exe, tmp, args.suite, "default", [])
    print(f"suite {args.suite}, model {model} at {base_url}")
    print(f"{'metric':24} {'llm':>10} {'default':>10}")
    for key in HEADLINE:
        print(f"{key:24} {llm['metrics'][key]!s:>10} {ref['metrics'][key]!s:>10}")
    print(f"{'process wall s':24} {llm_s:>10.1f} {ref_s:>10.1f}")
    if args.out:
        args.out.write_text(json.dumps({"model": model, "llm": llm, "default": ref}, indent=2))
        print(f"written {args.out}")


if __name__ == "__main__":
    main()

"""Telemetry throughput: one hour of the large profile at 10 s steps, generated and stored.

    python benchmarks/bench_telemetry.py [--profile large] [--seconds 3600]

Generation is vectorised per tick over every interface, device and BGP session;
storage is one Arrow append into DuckDB. Reports rows, seconds and rows per second
for generation, for the DuckDB insert, and end to end.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from netops_agent.lab.sim.lab import SimLab
from netops_agent.store import Store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="large")
    ap.add_argument("--seconds", type=float, default=3600.0)
    args = ap.parse_args()
    lab = SimLab.build(args.profile, 42)
    _ = lab.rates  # derive once, as a running twin would have
    t0 = time.perf_counter()
    lab.advance(args.seconds)
    table = pa.concat_tables(lab.telemetry).combine_chunks()
    gen = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        t1 = time.perf_counter()
        store.append_arrow("telemetry", table)
        ins = time.perf_counter() - t1
        stored = store.scalar("SELECT count(*) FROM telemetry")
    rows = table.num_rows
    assert stored == rows
    print(
        f"profile {args.profile}: {len(lab.inv.devices)} devices, {len(lab.idx.keys)} interfaces, "
        f"{len(lab.telemetry)} ticks over {args.seconds:.0f} s of twin time"
    )
    print(f"  generate: {rows:,} rows in {gen:.2f} s = {rows / gen:,.0f} rows/s")
    print(f"  insert:   {rows:,} rows in {ins:.2f} s = {rows / ins:,.0f} rows/s (DuckDB, one Arrow append)")
    print(f"  total:    {rows / (gen + ins):,.0f} rows/s")


if __name__ == "__main__":
    main()

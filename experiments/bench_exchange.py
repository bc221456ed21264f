"""The cost of exchanging row updates between devices per update: all-gather of the rows vs all-reduce of a table.

    python experiments/bench_exchange.py --cpu-devices 4          # fake CPU devices: ~2 min on 2 cores
    python experiments/bench_exchange.py                          # every device of an accelerator machine

For an SGNS update of B pairs (output table: 6 rows a pair, the centre and 5 noise words; V = 41,433 rows,
pdcorpus's vocabulary; D = 100), the ids drawn from a Zipf law over the vocabulary, every device holding
B/N pairs' rows, two ways to bring every replica the same update of its table (jaxembed.parallel):

    rows:   all-gather the ids and row gradients (6B · (D + 1) words), then one scatter-add;
    dense:  scatter-add each device's rows into a zero V × D gradient, all-reduce it (psum), then add it.

Each is timed as one jitted shard_map call (exchange and apply, best of --repeats × 10 calls), and beside
it the same call without the exchange (each device applies only its own rows), so exchange = call − local.
Writes experiments/results/bench_exchange.json and .png, naming the devices.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from paths import RESULTS_DIR, machine

ROWS_PER_PAIR, VOCAB, DIM = 6, 41433, 100


def timed(fn, *args, calls: int = 10, repeats: int = 3) -> float:
    """Best seconds per call of fn(*args) (donated first argument fed back), after one warm-up call."""
    import jax
    state = fn(*args)
    jax.block_until_ready(state)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            state = fn(state, *args[1:])
        jax.block_until_ready(state)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def exchange_steps(mesh):
    """Jitted (table, ids, grads) -> table for each way: rows, dense, and local (no exchange)."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P
    from jaxembed.parallel import AXIS, gather_updates

    def rows(table, ids, grads):
        ids, grads = gather_updates((ids, grads))
        return table.at[ids].add(-0.01 * grads, mode="promise_in_bounds")

    def dense(table, ids, grads):
        gradient = jnp.zeros_like(table).at[ids].add(grads, mode="promise_in_bounds")
        return table - 0.01 * jax.lax.psum(gradient, AXIS)

    def local(table, ids, grads):
        return table.at[ids].add(-0.01 * grads, mode="promise_in_bounds")

    wrap = lambda f: jax.jit(jax.shard_map(f, mesh=mesh, in_specs=(P(), P(AXIS), P(AXIS)), out_specs=P(),
                                           check_vma=False), donate_argnums=0)
    return {"rows": wrap(rows), "dense": wrap(dense), "local": wrap(local)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu-devices", type=int, help="split the CPU into this many fake devices")
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--pairs", type=int, nargs="+", default=[1024, 16384, 65536], help="pairs per update (B)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import jax
    if args.cpu_devices:
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)
    import numpy as np
    from jaxembed.parallel import data_mesh
    rng = np.random.default_rng(0)
    zipf = 1.0 / np.arange(1, VOCAB + 1)
    zipf /= zipf.sum()
    results = []
    for n in [d for d in args.devices if d <= jax.device_count()]:
        steps = exchange_steps(data_mesh(n))
        for pairs in args.pairs:
            entries = pairs * ROWS_PER_PAIR
            ids = rng.choice(VOCAB, entries, p=zipf).astype(np.int32)
            grads = rng.normal(scale=1e-3, size=(entries, DIM)).astype(np.float32)
            table = np.zeros((VOCAB, DIM), np.float32)
            seconds = {name: timed(step, table, ids, grads, repeats=args.repeats) for name, step in steps.items()}
            row = {"devices": n, "pairs": pairs, "entries": entries, "distinct_rows": int(len(np.unique(ids))),
                   "rows_bytes": entries * (DIM + 1) * 4, "dense_bytes": VOCAB * DIM * 4,
                   **{f"{name}_ms": 1e3 * s for name, s in seconds.items()},
                   "rows_exchange_ms": 1e3 * (seconds["rows"] - seconds["local"]),
                   "dense_exchange_ms": 1e3 * (seconds["dense"] - seconds["local"])}
            results.append(row)
            print(f"{n} device(s), {pairs:,} pairs: rows {row['rows_ms']:.2f} ms, dense {row['dense_ms']:.2f} ms, "
                  f"local {row['local_ms']:.2f} ms (exchange: rows {row['rows_exchange_ms']:.2f}, dense "
                  f"{row['dense_exchange_ms']:.2f} ms)", flush=True)
    device = jax.devices()[0]
    report = {"device": f"{device.platform}: {device.device_kind}", "fake_cpu_devices": args.cpu_devices,
              "machine": machine(), "vocab": VOCAB, "dim": DIM, "results": results}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, "bench_exchange")
    with open(path + ".json", "w") as f:
        json.dump(report, f, indent=1)
    plot(report, path + ".png")


def plot(report: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for n in sorted({r["devices"] for r in report["results"]}):
        rows = [r for r in report["results"] if r["devices"] == n]
        for way, style in (("rows", "o-"), ("dense", "s--")):
            ax.plot([r["pairs"] for r in rows], [r[f"{way}_ms"] for r in rows], style, label=f"{way}, {n} device(s)")
    ax.set(xscale="log", yscale="log", xlabel="pairs per update", ylabel="ms per update (exchange + apply)",
           title=f"row exchange vs all-reduce ({report['device']}"
                 f"{', fake devices' if report['fake_cpu_devices'] else ''}, {report['machine']})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())

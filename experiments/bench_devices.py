"""Data-parallel step throughput (pairs/s, corpus words/s) vs number of devices and micro-batch size.

    python experiments/bench_devices.py --corpus ../shared/data/pdcorpus.txt.gz --cpu-devices 4 --words 1000000
    python experiments/bench_devices.py --corpus ../shared/data/pdcorpus.txt.gz --devices 1 2 4 8   # on GPUs/TPUs

Measures the jitted word2vec step (default skip-gram NS, dim 100, window 5, negative 5) on example
blocks generated beforehand from the first --words tokens and placed on the devices, so the
figures are the device side of training: compute plus the all-gather of row updates, without the
host pipeline or transfers. words/s = corpus words covered by the blocks × passes / seconds (best
of --repeats). Expected: on a GPU ≥ 20M words/s at 16k-64k pairs per micro-batch; on 2 CPU cores
with fake devices (--cpu-devices) no speed-up beyond 2 devices. Writes
experiments/results/bench_devices.json and .png.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

from paths import RESULTS_DIR

DEFAULT_BATCH_SIZES = {"cpu": [64, 256, 1024, 4096], "gpu": [1024, 4096, 16384, 65536], "tpu": [1024, 4096, 16384, 65536]}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", required=True)
    p.add_argument("--words", type=int, default=1_000_000, help="use the first N in-vocabulary tokens")
    p.add_argument("--model", default="sgns", choices=["sgns", "cbow", "sg-hs", "cbow-hs"])
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--devices", type=int, nargs="+", help="device counts to compare (default 1, 2, 4, ... up to all)")
    p.add_argument("--batch-sizes", type=int, nargs="+", help="global examples per micro-batch (default by backend)")
    p.add_argument("--batches-per-call", type=int, default=128, help="micro-batches per jitted call (M)")
    p.add_argument("--cpu-devices", type=int, help="split the CPU into this many fake devices (CPU backend only)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes over the blocks; the best counts")
    p.add_argument("--out", default=os.path.join(RESULTS_DIR, "bench_devices"), help="path prefix of .json/.png")
    return p.parse_args(argv)


def device_counts(requested, available: int) -> list[int]:
    if requested:
        return requested
    counts, n = [], 1
    while n <= available:
        counts.append(n)
        n *= 2
    return counts


def first_words(prepared, words: int):
    """The prepared corpus cut to its first `words` in-vocabulary tokens (the vocabulary unchanged)."""
    import dataclasses
    import numpy as np
    ids = prepared.ids_N[:words]
    ends = np.append(prepared.sentence_ends_S[prepared.sentence_ends_S < len(ids)], len(ids))
    return dataclasses.replace(prepared, ids_N=ids, sentence_ends_S=ends)


def time_step(prepared, config, devices: int, batch_size: int, repeats: int) -> dict:
    """Best-of-`repeats` seconds for one pass of the model's step over one epoch of blocks of `prepared`, on
    `devices` devices."""
    import jax
    from jax.sharding import NamedSharding
    from jaxembed import parallel
    from jaxembed.fit import make_step
    from jaxembed.models import word2vec
    mesh = parallel.data_mesh(devices)
    model = word2vec.build(prepared, config.replace(batch_size=batch_size).resolved(), devices)
    blocks = list(model.blocks(0, 0))
    pairs = sum(int(b.arrays[1].sum()) for b in blocks)  # real hidden rows: (context, centre) pairs
    shardings = [NamedSharding(mesh, parallel.input_spec(kind)) for kind in model.layout]
    placed = jax.block_until_ready([[jax.device_put(a, s) for a, s in zip(b.arrays, shardings)] for b in blocks])
    step = make_step(model, mesh)
    state = model.init()
    sync = parallel.serial_calls(mesh)  # several CPU devices: one call at a time
    state, loss = step(state, *placed[0])  # compile
    loss.block_until_ready()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for arrays in placed:
            state, loss = step(state, *arrays)
            if sync:
                loss.block_until_ready()
        loss.block_until_ready()
        seconds.append(time.perf_counter() - start)
    best, global_batch = min(seconds), model.metrics["batch_size"]
    words = len(prepared.ids_N)
    return {"devices": devices, "batch_size": global_batch, "one_call_at_a_time": sync, "per_device_batch": global_batch // devices,
            "blocks": len(blocks), "pairs": pairs, "words": words, "seconds": seconds, "best_seconds": best,
            "pairs_per_second": pairs / best, "words_per_second": words / best}


def plot(runs: list[dict], title: str, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for n in sorted({r["devices"] for r in runs}):
        rows = sorted((r for r in runs if r["devices"] == n), key=lambda r: r["batch_size"])
        ax.plot([r["batch_size"] for r in rows], [r["words_per_second"] / 1e6 for r in rows], marker="o",
                label=f"{n} device{'s' * (n > 1)}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("global micro-batch (examples)")
    ax.set_ylabel("corpus words/s (millions)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> int:
    args = parse_args(argv)
    import jax
    if args.cpu_devices:
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)
    from jaxembed.config import Word2VecConfig
    from jaxembed.models import word2vec
    config = Word2VecConfig(model=args.model, dim=args.dim, batches_per_call=args.batches_per_call, epochs=1)
    prepared = first_words(word2vec.read_corpus(args.corpus, config), args.words)
    backend = jax.default_backend()
    batch_sizes = args.batch_sizes or DEFAULT_BATCH_SIZES.get(backend, DEFAULT_BATCH_SIZES["gpu"])
    runs = []
    for devices in device_counts(args.devices, jax.device_count()):
        for batch_size in batch_sizes:
            run = time_step(prepared, config, devices, batch_size, args.repeats)
            runs.append(run)
            print(f"{devices} device(s), batch {run['batch_size']:>6}: {run['pairs_per_second'] / 1e6:7.2f}M pairs/s "
                  f"{run['words_per_second'] / 1e6:7.2f}M words/s", flush=True)
    device = jax.devices()[0]
    machine = {"backend": backend, "device_kind": device.device_kind, "devices_available": jax.device_count(),
               "cpu_devices_flag": args.cpu_devices, "cpu_count": os.cpu_count(), "processor": platform.processor(),
               "jax": jax.__version__, "python": sys.version.split()[0]}
    result = {"command": " ".join(sys.argv), "model": args.model, "dim": args.dim, "corpus": args.corpus,
              "vocab_size": len(prepared.vocab), "batches_per_call": args.batches_per_call, "machine": machine, "runs": runs}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + ".json", "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    title = (f"{args.model} dim {args.dim}, step throughput, {backend} ({device.device_kind}"
             f"{', fake devices on ' + str(os.cpu_count()) + ' cores' if args.cpu_devices else ''})")
    plot(runs, title, args.out + ".png")
    print(f"wrote {args.out}.json and .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

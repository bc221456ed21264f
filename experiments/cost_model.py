"""Cost model of the skip-gram negative-sampling step on this CPU.

    python experiments/cost_model.py --corpus ../shared/data/pdcorpus.txt.gz

(a) Memory bandwidth: numpy copies of a 512 MiB array (DRAM) and of a 16 MiB one (about cache
    size), bytes read + written per second, best of 5, one thread (the step's scatter runs on one).
(b) Steady-state step throughput (pairs/s over 200 real blocks of the corpus, after compilation):
    - against dim (k = 5) and the number of negatives k (dim 100);
    - against the table size V at a fixed batch: the same blocks (ids of the corpus vocabulary)
      against tables of V rows, V from 50k to 1M. Rows beyond the vocabulary are never touched, so
      a step that is sparse in V costs the same at every V (target: 1M within 1.2× of 50k). The
      same blocks with ids spread over all V rows by a fixed permutation show what the larger
      memory footprint itself costs (cache and TLB misses).
(c) Whole-run words/s against the window (one epoch over the corpus, everything included): the
    window sets the pairs per word, the step's cost per pair does not depend on it.
(d) Bytes moved per pair: the 2 + k table rows of a pair (its context row, the centre's output row,
    k noise rows) are gathered once and scatter-added once (read + write), so

        bytes/pair = 3 · (2 + k) · 4 · dim                       (float32 rows)

    and bytes/pair × pairs/s is compared with the copy bandwidths of (a). The per-micro-batch
    delta arrays (≤ 200 KB) stay in cache and are not counted. The corpus tables (41k rows) are
    mostly cache-resident for frequent words, so the DRAM percentage can exceed 100%.
Writes experiments/results/cost_model.json and cost_model.png.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import time

import numpy as np

from paths import PDCORPUS, RESULTS_DIR, machine

DIMS = (50, 100, 200, 300)
NEGATIVES = (1, 5, 10, 15)
TABLE_ROWS = (50_000, 100_000, 300_000, 1_000_000)
WINDOWS = (2, 5, 10)
BLOCKS = 200


def copy_bandwidth(mebibytes: int, repeats: int = 5) -> float:
    """Best bytes/s of np.copyto over an array of `mebibytes` MiB (read + write counted)."""
    src = np.ones(mebibytes * (1 << 20) // 4, np.float32)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best


def bytes_per_pair(dim: int, negative: int) -> int:
    """Table traffic of one SGNS pair: 2 + k float32 rows, gathered (read) and scatter-added (read + write)."""
    return 3 * (2 + negative) * 4 * dim


def real_blocks(prepared, negative: int, config):
    """The model with `negative` noise words and the first BLOCKS + 1 of its blocks of epoch 0 (skip-gram pairs)."""
    from jaxembed.models import word2vec
    model = word2vec.build(prepared, config.replace(negative=negative).resolved(), devices=1)
    return model, list(itertools.islice(model.blocks(0, 0), BLOCKS + 1))


def remap(blocks: list, table_V: np.ndarray) -> list:
    """The blocks' inputs with every word id w replaced by table_V[w] (hidden, outputs, negatives)."""
    return [(table_V[hidden], mask, table_V[outputs], table_V[negatives], *rest)
            for hidden, mask, outputs, negatives, *rest in (b.arrays for b in blocks)]


def hidden_rows(blocks: list) -> int:
    """Real (context, centre) pairs in the blocks, the first (compiling) one excluded."""
    return sum(b.examples for b in blocks[1:])


def step_pairs_per_second(model, arrays: list, rows: int, dim: int, pairs: int, seed: int = 1) -> float:
    """pairs/s of the model's jitted step over `arrays` (the first call, which compiles, not timed) on tables of
    `rows` rows and `dim` columns."""
    from jaxembed.fit import make_step
    from jaxembed.models.word2vec import init_word2vec
    from jaxembed.parallel import data_mesh
    step = make_step(model, data_mesh(1))
    state = init_word2vec(seed, rows, dim, rows)
    state, loss = step(state, *arrays[0])
    loss.block_until_ready()
    start = time.perf_counter()
    for block in arrays[1:]:
        state, loss = step(state, *block)
    loss.block_until_ready()
    return pairs / (time.perf_counter() - start)


def median_rate(measure, repeats: int) -> dict:
    rates = [measure() for _ in range(repeats)]
    return {"pairs_per_second": float(np.median(rates)), "runs": rates}


def step_sweeps(prepared, config, repeats: int) -> dict:
    """(b): pairs/s against dim, negatives and table rows (same ids, and ids spread over the table)."""
    by_negative = {k: real_blocks(prepared, k, config) for k in NEGATIVES}
    model, blocks = by_negative[5]
    pairs = hidden_rows(blocks)
    vocab = len(prepared.vocab)
    identity = np.arange(vocab, dtype=np.int32)
    default = remap(blocks, identity)
    out = {"pairs_per_block_run": pairs, "dim": {}, "negative": {}, "rows_same_ids": {}, "rows_spread_ids": {}}
    for dim in DIMS:
        out["dim"][dim] = median_rate(lambda: step_pairs_per_second(model, default, vocab, dim, pairs), repeats)
        print(f"dim {dim}: {out['dim'][dim]['pairs_per_second']:,.0f} pairs/s", flush=True)
    for k in NEGATIVES:
        k_model, k_blocks = by_negative[k]
        arrays = remap(k_blocks, identity)
        out["negative"][k] = median_rate(lambda: step_pairs_per_second(k_model, arrays, vocab, 100, hidden_rows(k_blocks)),
                                         repeats)
        print(f"negative {k}: {out['negative'][k]['pairs_per_second']:,.0f} pairs/s", flush=True)
    for rows in TABLE_ROWS:
        spread = np.random.default_rng(rows).permutation(rows)[:vocab].astype(np.int32)
        for name, arrays in (("rows_same_ids", default), ("rows_spread_ids", remap(blocks, spread))):
            out[name][rows] = median_rate(lambda: step_pairs_per_second(model, arrays, rows, 100, pairs), repeats)
            print(f"V {rows:,} ({name}): {out[name][rows]['pairs_per_second']:,.0f} pairs/s", flush=True)
    return out


def window_sweep(corpus: str, config) -> dict:
    """(c): whole-run words/s (one epoch, everything included) and pairs/s against the window."""
    from jaxembed.fit import fit
    out = {}
    for window in WINDOWS:
        m = fit(corpus, config.replace(window=window, epochs=1), progress=False).metrics
        out[window] = {"words_per_second": m["words_per_second"], "pairs_per_second": m["examples"] / m["train_seconds"],
                       "pairs_per_word": m["examples"] / m["corpus_words"]}
        print(f"window {window}: {out[window]['words_per_second']:,.0f} words/s, {out[window]['pairs_per_word']:.2f} pairs/word", flush=True)
    return out


def bandwidth_shares(steps: dict, bandwidth: dict) -> dict:
    """(d): bytes/pair, achieved bytes/s and its share of each copy bandwidth, per dim and per k."""
    rows = [("dim", dim, dim, 5) for dim in DIMS] + [("negative", k, 100, k) for k in NEGATIVES]
    out = {}
    for sweep, key, dim, k in rows:
        rate = steps[sweep][key]["pairs_per_second"]
        achieved = bytes_per_pair(dim, k) * rate
        out[f"{sweep}={key}"] = {"bytes_per_pair": bytes_per_pair(dim, k), "bytes_per_second": achieved,
                                 **{f"percent_of_{name}": 100 * achieved / bw for name, bw in bandwidth.items()}}
    return out


def plot(report: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps = report["step"]
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    panels = [("dim (k = 5)", "dim"), ("negatives k (dim 100)", "negative")]
    for ax, (title, sweep) in zip(axes[:2], panels):
        keys = list(steps[sweep])
        ax.plot([int(k) for k in keys], [steps[sweep][k]["pairs_per_second"] / 1e6 for k in keys], "o-")
        ax.set_xlabel(title)
        ax.set_ylabel("step Mpairs/s")
    ax = axes[2]
    for name, label in (("rows_same_ids", "same ids"), ("rows_spread_ids", "ids spread over V")):
        keys = list(steps[name])
        ax.plot([int(k) for k in keys], [steps[name][k]["pairs_per_second"] / 1e6 for k in keys], "o-", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("table rows V")
    ax.set_ylabel("step Mpairs/s")
    ax.legend(loc="lower left")
    ax = axes[3]
    windows = report["window"]
    ax.plot([int(w) for w in windows], [windows[w]["words_per_second"] / 1e3 for w in windows], "o-")
    ax.set_xlabel("window (whole run, 1 epoch)")
    ax.set_ylabel("k words/s")
    for ax in axes:
        ax.set_ylim(0, ax.get_ylim()[1] * 1.15)
    share = report["bandwidth_share"]["dim=100"]
    fig.suptitle(f"SGNS step cost on {report['machine']}: dim 100, k 5 moves {share['bytes_per_pair']:,} B/pair = "
                 f"{share['percent_of_dram_copy']:.0f}% of DRAM copy bandwidth "
                 f"({report['bandwidth_bytes_per_second']['dram_copy'] / 1e9:.1f} GB/s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per point (median reported)")
    args = parser.parse_args()
    from jaxembed.config import Word2VecConfig
    from jaxembed.models import word2vec
    config = Word2VecConfig(model="sgns")
    bandwidth = {"dram_copy": copy_bandwidth(512), "cache_copy": copy_bandwidth(16)}
    print(f"copy bandwidth: {bandwidth['dram_copy'] / 1e9:.1f} GB/s (512 MiB), {bandwidth['cache_copy'] / 1e9:.1f} GB/s (16 MiB)", flush=True)
    prepared = word2vec.read_corpus(args.corpus, config)
    steps = step_sweeps(prepared, config, args.repeats)
    rows = steps["rows_same_ids"]
    report = {"corpus": os.path.abspath(args.corpus), "machine": machine(), "vocab_size": len(prepared.vocab),
              "bandwidth_bytes_per_second": bandwidth, "step": steps, "window": window_sweep(args.corpus, config),
              "bandwidth_share": bandwidth_shares(steps, bandwidth),
              "step_cost_ratio_1M_vs_50k_same_ids": rows[50_000]["pairs_per_second"] / rows[1_000_000]["pairs_per_second"],
              "step_cost_ratio_1M_vs_50k_spread_ids": (steps["rows_spread_ids"][50_000]["pairs_per_second"]
                                                       / steps["rows_spread_ids"][1_000_000]["pairs_per_second"])}
    print(json.dumps({k: report[k] for k in ("step_cost_ratio_1M_vs_50k_same_ids", "step_cost_ratio_1M_vs_50k_spread_ids")}, indent=1))
    print(json.dumps(report["bandwidth_share"], indent=1))
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "cost_model.json"), "w") as f:
        json.dump(report, f, indent=1)
    plot(report, os.path.join(RESULTS_DIR, "cost_model.png"))


if __name__ == "__main__":
    main()

"""Large-batch SGNS at full quality: the count-aware update against the alternatives, and beside gensim, in one run.

    python experiments/bench_large_batch.py --corpus ../shared/data/pdcorpus.txt.gz             # ~45 min on 2 cores
    python experiments/bench_large_batch.py --part rules                                         # ~10 min
    python experiments/bench_large_batch.py --part speed --repeats 5                             # ~15 min

Part `quality` (pdcorpus, dim 100, window 5, negative 5, sample 1e-3, 5 epochs): gensim, jaxembed's default
(64 pairs per update), and jaxembed at 16,384 and 65,536 pairs per update with the count-aware update
(max_row_updates 64), plus skip-gram with shared negatives at 2,731 centre windows per update (≈16,400
pairs), each at its CPU defaults (pairs on 2 replicas, one per core, merged after every block of 524,288 pairs;
centre windows on one), and 16,384 pairs on one replica; each once, one after the other in this process. Reports
quality (analogy, WS353, SimLex), whole-run and steady-state words/s (epochs after the first), steady-state pairs/s,
and the ratios the bars use.
Part `rules`: one epoch at 16,384 pairs per update on one replica for each row rule — plain sum (the dense
gradient), τ = 1 (each row's mean), 8, 32, 64, 256 — beside the default run's first epoch, and τ 64 with the examples
made on the device (jax.random) instead of the host (numpy), for speed on this machine.
Part `speed`: the default and 16,384 pairs (τ 64) at their CPU defaults, `--repeats` pairs of runs with the order
swapped from pair to pair (default first, then 16,384 first, ...), so that a machine whose speed drifts during the
invocation favours neither, after one uncounted epoch of each; reports each pair's ratio of whole-run words/s (and of
steady-state pairs/s) and their medians.
Every part starts with uncounted epochs (`warm_up`): a process's first jaxembed run pays one-time costs (3 s of a 6 s
run on a small corpus), which would slow whichever run came first.
Writes experiments/results/bench_large_batch<tag>.json and .png.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from bench_gpu import steady_rates
from paths import PDCORPUS, RESULTS_DIR, machine

SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5)
QUALITY_RUNS = {
    "default (64 pairs)": {},
    "16,384 pairs, τ 64": {"batch_size": 16384, "max_row_updates": 64},
    "65,536 pairs, τ 64": {"batch_size": 65536, "max_row_updates": 64},
    "2,731 windows (≈16k pairs), shared negatives, τ 64": {"batch_size": 2731, "max_row_updates": 64,
                                                            "shared_negatives": True},
    "16,384 pairs, τ 64, 1 replica": {"batch_size": 16384, "max_row_updates": 64, "replicas": 1},
}
SPEED_RUNS = {"default (64 pairs)": {}, "16,384 pairs, τ 64": {"batch_size": 16384, "max_row_updates": 64}}
RULES = {"sum (plain SGD)": 0, "τ 1 (mean)": 1, "τ 8": 8, "τ 32": 32, "τ 64": 64, "τ 256": 256}


def jaxembed_run(corpus: str, epochs: int, seed: int, **overrides) -> dict:
    """One jaxembed SGNS run: quality, speed, and whether it diverged."""
    from jaxembed.config import Word2VecConfig
    from jaxembed.errors import TrainingDiverged
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import fit
    config = Word2VecConfig(model="sgns", epochs=epochs, seed=seed, **SETTINGS, **overrides)
    start = time.perf_counter()
    try:
        result = fit(corpus, config, progress=False)
    except TrainingDiverged as e:
        return {"settings": overrides, "diverged": str(e), "wall_seconds": time.perf_counter() - start}
    m, e = result.metrics, evaluate_all(result.vectors)
    steady_words, steady_pairs = steady_rates(m)
    return {"settings": overrides, "diverged": None, "replicas": m["config"]["replicas"],
            "merge_every": m["config"]["merge_every"], "wall_seconds": m["train_seconds"],
            "words_per_second": m["words_per_second"], "loss": m["loss"], "pairs": m["examples"],
            "steady_words_per_second": steady_words, "steady_pairs_per_second": steady_pairs,
            "analogy": e["analogy"]["accuracy"], "wordsim353": e["wordsim353"]["spearman"],
            "simlex999": e["simlex999"]["spearman"]}


def gensim_run(corpus: str, epochs: int, seed: int) -> dict:
    """gensim's skip-gram with negative sampling, same settings, all cores."""
    import gensim
    from gensim.models import Word2Vec
    from gensim.models.word2vec import Text8Corpus
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.vectors import Vectors
    start = time.perf_counter()
    model = Word2Vec(Text8Corpus(corpus), vector_size=SETTINGS["dim"], window=SETTINGS["window"], sg=1, hs=0,
                     negative=SETTINGS["negative"], sample=SETTINGS["sample"], min_count=SETTINGS["min_count"],
                     epochs=epochs, workers=os.cpu_count(), seed=seed, alpha=0.025, min_alpha=0.0001)
    seconds = time.perf_counter() - start
    e = evaluate_all(Vectors(list(model.wv.index_to_key), model.wv.vectors))
    return {"system": f"gensim {gensim.__version__}", "wall_seconds": seconds,
            "words_per_second": model.corpus_total_words * epochs / seconds, "analogy": e["analogy"]["accuracy"],
            "wordsim353": e["wordsim353"]["spearman"], "simlex999": e["simlex999"]["spearman"]}


def show(name: str, run: dict) -> None:
    if run.get("diverged"):
        print(f"{name}: diverged ({run['diverged'][:80]})", flush=True)
        return
    print(f"{name}: {run['wall_seconds']:.0f} s, {run['words_per_second']:,.0f} words/s, analogy {run['analogy']:.4f}, "
          f"WS353 {run['wordsim353']:.4f}, SimLex {run['simlex999']:.4f}", flush=True)


def warm_up(args, settings: dict) -> dict:
    """One uncounted epoch of each setting (name: overrides), before the runs that are measured."""
    runs = {}
    for name, overrides in settings.items():
        runs[name] = jaxembed_run(args.corpus, 1, args.seed, **overrides)
        show(f"warm-up, {name}, 1 epoch", runs[name])
    return runs


def quality_part(args) -> dict:
    runs = {"gensim": gensim_run(args.corpus, args.epochs, args.seed)}
    show("gensim", runs["gensim"])
    warm_up(args, {"default (64 pairs)": {}})
    for name, overrides in QUALITY_RUNS.items():
        epochs = args.epochs_65536 if overrides.get("batch_size") == 65536 else args.epochs
        runs[name] = {**jaxembed_run(args.corpus, epochs, args.seed, **overrides), "epochs": epochs}
        show(name, runs[name])
    peer, default = runs["gensim"], runs["default (64 pairs)"]
    for name in QUALITY_RUNS:
        run = runs[name]
        if not run.get("diverged"):
            run["analogy_ratio_vs_gensim"] = run["analogy"] / peer["analogy"]
            run["wordsim353_diff_vs_gensim"] = run["wordsim353"] - peer["wordsim353"]
            run["speed_ratio_vs_default"] = run["words_per_second"] / default["words_per_second"]
    return runs


def rules_part(args) -> dict:
    warm_up(args, {"default (64 pairs)": {}})
    runs = {"default (64 pairs)": jaxembed_run(args.corpus, 1, args.seed)}
    show("default (64 pairs), 1 epoch", runs["default (64 pairs)"])
    for name, tau in RULES.items():
        runs[name] = jaxembed_run(args.corpus, 1, args.seed, batch_size=16384, max_row_updates=tau, replicas=1)
        show(f"16,384 pairs, {name}, 1 epoch", runs[name])
    runs["τ 64, examples made on the device"] = jaxembed_run(args.corpus, 1, args.seed, batch_size=16384,
                                                             max_row_updates=64, device_examples=True, replicas=1)
    show("16,384 pairs, τ 64, device examples, 1 epoch", runs["τ 64, examples made on the device"])
    return runs


def speed_part(args) -> dict:
    (default, default_overrides), (large, large_overrides) = SPEED_RUNS.items()
    warmed = warm_up(args, SPEED_RUNS)
    pairs = []
    for index in range(args.repeats):
        order = [(default, default_overrides), (large, large_overrides)][::1 if index % 2 == 0 else -1]
        runs = {}
        for name, overrides in order:
            runs[name] = jaxembed_run(args.corpus, args.epochs, args.seed, **overrides)
            show(f"pair {index + 1}, {name}", runs[name])
        ratio = lambda key: (runs[large][key] / runs[default][key] if runs[large][key] and runs[default][key] else None)
        pairs.append({"first": order[0][0], "runs": runs, "words_ratio": ratio("words_per_second"),
                      "steady_pairs_ratio": ratio("steady_pairs_per_second")})  # steady: None with one epoch
        print(f"pair {index + 1}: {pairs[-1]['words_ratio']:.3f}x words/s, steady pairs/s "
              f"{pairs[-1]['steady_pairs_ratio'] or float('nan'):.3f}x", flush=True)
    median = lambda key: float(np.median([p[key] for p in pairs])) if all(p[key] for p in pairs) else None
    return {"default": default, "large": large, "warm_up": warmed, "pairs": pairs,
            "median_words_ratio": median("words_ratio"), "median_steady_pairs_ratio": median("steady_pairs_ratio")}


def plot(report: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    parts = [p for p in ("quality", "rules", "speed") if p in report]
    fig, axes = plt.subplots(1, len(parts), figsize=(7 * len(parts), 4.2), squeeze=False)
    for ax, part in zip(axes[0], parts):
        if part == "speed":
            speed = report["speed"]
            ratios = [p["words_ratio"] for p in speed["pairs"]]
            firsts = ["default" if p["first"] == speed["default"] else "large batch" for p in speed["pairs"]]
            bars = ax.bar([f"pair {i + 1}\n{first} first" for i, first in enumerate(firsts)], ratios)
            ax.bar_label(bars, labels=[f"{r:.3f}" for r in ratios])
            median = speed["median_words_ratio"]
            ax.axhline(median, color="tab:orange", label=f"median {median:.3f}")
            ax.set_ylabel(f"{speed['large']} ÷ default, words/s")
            ax.set_title(f"SGNS speed, {report['epochs']} epochs, pairs of runs in swapped order")
            ax.legend()
            continue
        runs = report[part]
        names = list(runs)
        values = [0 if runs[n].get("diverged") else runs[n]["analogy"] for n in names]
        bars = ax.barh(names, values, color=["tab:gray" if n == "gensim" else "tab:blue" for n in names])
        ax.bar_label(bars, labels=["diverged" if runs[n].get("diverged") else f"{v:.3f}" for n, v in zip(names, values)])
        ax.invert_yaxis()
        ax.set_xlabel("analogy accuracy")
        ax.set_title({"quality": f"SGNS, {report['epochs']} epochs (65,536: {report['epochs_65536']})",
                      "rules": "SGNS at 16,384 pairs per update, 1 epoch"}[part])
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle(f"large-batch SGNS on {os.path.basename(report['corpus'])} ({report['machine']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--part", choices=["quality", "rules", "speed", "all"], default="all",
                        help="all: quality and rules")
    parser.add_argument("--repeats", type=int, default=5, help="pairs of runs in part speed")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--epochs-65536", type=int, default=5, help="epochs of the 65,536-pair run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tag", default="", help="suffix of the result files' names (bench_large_batch<tag>.json)")
    args = parser.parse_args()
    from jaxembed.config import reserve_cpu_devices
    reserve_cpu_devices()  # before jax starts: the replicas' CPU devices
    import jax
    report = {"corpus": os.path.abspath(args.corpus), "machine": f"{machine()}, {jax.default_backend()}",
              "settings": SETTINGS, "epochs": args.epochs, "epochs_65536": args.epochs_65536, "seed": args.seed}
    if args.part in ("quality", "all"):
        report["quality"] = quality_part(args)
    if args.part in ("rules", "all"):
        report["rules"] = rules_part(args)
    if args.part == "speed":
        report["speed"] = speed_part(args)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"bench_large_batch{args.tag}")
    previous = {}
    if os.path.exists(path + ".json"):  # keep the other part's figures when one part is rerun
        with open(path + ".json") as f:
            previous = json.load(f)
    report = {**{k: v for k, v in previous.items() if k in ("quality", "rules", "speed")}, **report}
    with open(path + ".json", "w") as f:
        json.dump(report, f, indent=1)
    plot(report, path + ".png")


if __name__ == "__main__":
    main()

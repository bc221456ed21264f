"""jaxembed vs gensim on the same corpus, same settings, same machine, one run: time, words/s, quality.

    python experiments/bench_word2vec.py --model sgns --corpus ../shared/data/pdcorpus.txt.gz

Expected on pdcorpus (2 CPU cores): jaxembed words/s >= 0.5x gensim's with WS353 within 0.02 and
analogy accuracy >= 0.9x gensim's. Writes experiments/results/bench_<model>.json and .png.
Each system runs in its own subprocess; wall time covers vocabulary building, compilation and
training (imports excluded for both); both get evaluated by jaxembed's evaluator, and gensim's
own evaluator is run on jaxembed's saved vectors to cross-check. `--seeds 1 2 3` runs both systems
once per seed and compares the means (one run's analogy accuracy moves by ~5% from seed to seed).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time

from paths import PDCORPUS, RESULTS_DIR, machine

MODELS = ("sgns", "cbow", "sg-hs", "cbow-hs")


def bench_config(args, jaxembed: bool = False):
    """The one configuration both systems run: the model's defaults (word2vec's) plus the flags given; with
    `jaxembed`, also jaxembed's own settings (batch size, its large-batch options, its epochs)."""
    from jaxembed.config import Word2VecConfig
    switch = lambda value: None if value is None else bool(value)
    own = dict(batch_size=args.batch_size, max_row_updates=args.max_row_updates,
               shared_negatives=switch(args.shared_negatives), device_examples=switch(args.device_examples),
               epochs=args.jaxembed_epochs, replicas=args.replicas, merge_every=args.merge_every,
               merge_rule=args.merge_rule,
               batches_per_call=args.batches_per_call) if jaxembed else {}
    config = Word2VecConfig(model=args.model, dim=args.dim, window=args.window, negative=args.negative,
                            sample=args.sample, min_count=args.min_count, epochs=args.epochs, seed=args.seed)
    return config.replace(**own).resolved()


def run_jaxembed(args) -> dict:
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import fit
    from jaxembed.io.word2vec import save_word2vec
    config = bench_config(args, jaxembed=True)
    result = fit(args.corpus, config, progress=False)
    path = os.path.join(RESULTS_DIR, f"jaxembed_{args.model}{args.tag}_vectors.txt")
    save_word2vec(path, result.vectors)
    m = result.metrics
    return {"system": "jaxembed", "wall_seconds": m["train_seconds"], "words_per_second": m["words_per_second"],
            "corpus_words": m["corpus_words"], "epochs": config.epochs, "batch_size": m["batch_size"], "replicas": config.replicas,
            "replica_devices": m.get("replica_devices", 1), "merge_every": config.merge_every,
            "merge_rule": config.merge_rule, "vectors": path, "eval": evaluate_all(result.vectors),
            "loss": m["loss"]}


def run_gensim(args) -> dict:
    import gensim
    from gensim.models import Word2Vec
    from gensim.models.word2vec import Text8Corpus
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.vectors import Vectors
    config = bench_config(args)  # word2vec's alpha: gensim's own default is 0.025 for CBOW too
    flags = dict(sg=int(not config.cbow), hs=int(config.hs), negative=config.negative, alpha=config.alpha,
                 min_alpha=config.min_alpha, cbow_mean=int(config.cbow_mean))
    start = time.perf_counter()
    model = Word2Vec(Text8Corpus(args.corpus), vector_size=args.dim, window=args.window, sample=args.sample,
                     min_count=args.min_count, epochs=args.epochs, workers=args.workers, seed=args.seed, **flags)
    seconds = time.perf_counter() - start
    words = model.corpus_total_words
    vectors = Vectors(list(model.wv.index_to_key), model.wv.vectors)
    return {"system": f"gensim {gensim.__version__}", "wall_seconds": seconds, "words_per_second": words * args.epochs / seconds,
            "corpus_words": words, "eval": evaluate_all(vectors)}


def gensim_cross_check(vectors_path: str) -> dict:
    """gensim's own evaluators on jaxembed's saved vectors."""
    from gensim.models import KeyedVectors
    from jaxembed.eval.benchmarks import GOOGLE_ANALOGIES, SIMLEX999, WORDSIM353
    kv = KeyedVectors.load_word2vec_format(vectors_path)
    return {"analogy": kv.evaluate_word_analogies(GOOGLE_ANALOGIES)[0],
            "wordsim353": float(kv.evaluate_word_pairs(WORDSIM353)[1].statistic),
            "simlex999": float(kv.evaluate_word_pairs(SIMLEX999)[1].statistic)}


def run_systems(script: str, systems: tuple[str, str], seeds: list[int] | None = None) -> list[dict]:
    """Each system's JSON from `script <this run's flags> --only SYSTEM [--seed S]`, each in its own
    process, seed by seed (the systems alternate, so a drift in machine load hits both), with a
    one-line summary printed as each finishes. Every run records its `seed` (None: the flags' own)."""
    runs = []
    for seed in seeds or [None]:
        for system in systems:
            extra = [] if seed is None else ["--seed", str(seed)]
            done = subprocess.run([sys.executable, script, *sys.argv[1:], "--only", system, *extra],
                                  capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"{system} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
            out = done.stdout
            runs.append({**json.loads(out.strip().splitlines()[-1]), "seed": seed})
            e = runs[-1]["eval"]
            print(f"{runs[-1]['system']}{'' if seed is None else f' (seed {seed})'}: {runs[-1]['wall_seconds']:.1f} s, "
                  f"{runs[-1]['words_per_second']:,.0f} words/s, analogy {e['analogy']['accuracy']:.4f}, "
                  f"WS353 {e['wordsim353']['spearman']:.4f}, SimLex {e['simlex999']['spearman']:.4f}", flush=True)
    return runs


SUMMARY_FIELDS = {"wall_seconds": ("wall_seconds",), "words_per_second": ("words_per_second",),
                  "analogy": ("eval", "analogy", "accuracy"), "wordsim353": ("eval", "wordsim353", "spearman"),
                  "simlex999": ("eval", "simlex999", "spearman")}


def field(run: dict, keys: tuple[str, ...]) -> float:
    """run[keys[0]][keys[1]]...: one summary figure of a run (SUMMARY_FIELDS gives the paths)."""
    for key in keys:
        run = run[key]
    return run


def mean_run(runs: list[dict]) -> dict:
    """One system's runs over seeds as a run of the same shape (means), plus `sd` (sample standard
    deviation, 0 for one run) and the per-seed `values` of every summary field."""
    import numpy as np
    values = {name: [float(field(r, keys)) for r in runs] for name, keys in SUMMARY_FIELDS.items()}
    mean = {name: float(np.mean(v)) for name, v in values.items()}
    sd = {name: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for name, v in values.items()}
    return {"system": runs[0]["system"], "seeds": [r["seed"] for r in runs], "wall_seconds": mean["wall_seconds"],
            "words_per_second": mean["words_per_second"], "corpus_words": runs[0].get("corpus_words"),
            "eval": {"analogy": {"accuracy": mean["analogy"]}, "wordsim353": {"spearman": mean["wordsim353"]},
                     "simlex999": {"spearman": mean["simlex999"]}},
            "sd": sd, "values": values}


def ratios(ours: dict, peer: dict) -> dict:
    """jaxembed against the peer of the same run: words/s ratio, analogy ratio (NaN if the peer
    answers none), WS353 difference."""
    peer_analogy = peer["eval"]["analogy"]["accuracy"]
    return {"speed_ratio": ours["words_per_second"] / peer["words_per_second"],
            "analogy_ratio": ours["eval"]["analogy"]["accuracy"] / peer_analogy if peer_analogy else float("nan"),
            "wordsim353_diff": ours["eval"]["wordsim353"]["spearman"] - peer["eval"]["wordsim353"]["spearman"]}


def plot(report: dict, path: str) -> None:
    """Bar chart of each system's mean words/s and quality (error bars: sd over seeds)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    systems = report["systems"]
    names = [r["system"] for r in systems]
    panels = [("words/s (whole run)", "words_per_second"), ("analogy accuracy", "analogy"),
              ("WordSim-353 ρ", "wordsim353"), ("SimLex-999 ρ", "simlex999")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.5))
    for ax, (title, name) in zip(axes, panels):
        values = [field(r, SUMMARY_FIELDS[name]) for r in systems]
        bars = ax.bar(names, values, yerr=[r["sd"][name] for r in systems], capsize=4,
                      color=["tab:blue", "tab:gray"][:len(values)])
        ax.bar_label(bars, fmt="%.3g", label_type="center")
        ax.set_title(title)
        ax.tick_params(axis="x", labelsize=8)
    seeds = len(systems[0]["seeds"])
    fig.suptitle(f"{report['model']} on {os.path.basename(report['corpus'])} ({report['machine']}"
                 f"{f', mean of {seeds} seeds' if seeds > 1 else ''})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="sgns", choices=MODELS)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, help="default: 5 for sgns/cbow, 0 for the HS models")
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", help="run both systems once per seed and compare the means "
                        "(gensim with several workers is not deterministic, and one run's analogy varies by ~5%%)")
    parser.add_argument("--batch-size", type=int, help="jaxembed's micro-batch (default: the model's)")
    parser.add_argument("--max-row-updates", type=float, help="jaxembed's large-batch row cap (default: the model's)")
    parser.add_argument("--shared-negatives", type=int, choices=[0, 1], help="jaxembed: share a centre's noise words")
    parser.add_argument("--device-examples", type=int, choices=[0, 1], help="jaxembed: make examples on the device")
    parser.add_argument("--replicas", type=int, help="jaxembed's replicas, one per core (default: the model's)")
    parser.add_argument("--merge-every", type=int, help="jaxembed: blocks per replica between merges (default: the model's)")
    parser.add_argument("--merge-rule", choices=["sum", "agreement"], help="jaxembed: how merges combine (default: the model's)")
    parser.add_argument("--batches-per-call", type=int, help="jaxembed: micro-batches per block (default: 128)")
    parser.add_argument("--jaxembed-epochs", type=int, help="jaxembed's epochs (default: --epochs, gensim's)")
    parser.add_argument("--tag", default="", help="suffix of the result files' names (bench_<model><tag>.json)")
    parser.add_argument("--only", choices=["jaxembed", "gensim"], help="run one system and print its JSON (internal)")
    args = parser.parse_args()
    os.makedirs(RESULTS_DIR, exist_ok=True)
    if args.only:
        print(json.dumps(run_jaxembed(args) if args.only == "jaxembed" else run_gensim(args)))
        return
    runs = run_systems(__file__, ("jaxembed", "gensim"), args.seeds)
    ours, peer = (mean_run([r for r in runs if r["system"] == name]) for name in (runs[0]["system"], runs[1]["system"]))
    report = {"model": args.model, "corpus": os.path.abspath(args.corpus), "settings": vars(args),
              "config": dataclasses.asdict(bench_config(args, jaxembed=True)), "runs": runs, "systems": [ours, peer],
              "machine": machine(), **ratios(ours, peer),
              "per_seed": [ratios(o, p) for o, p in zip(runs[0::2], runs[1::2])],
              "gensim_eval_of_jaxembed_vectors": gensim_cross_check(runs[-2]["vectors"])}
    print(json.dumps({k: report[k] for k in ("speed_ratio", "analogy_ratio", "wordsim353_diff", "per_seed",
                                              "gensim_eval_of_jaxembed_vectors")}, indent=1))
    path = os.path.join(RESULTS_DIR, f"bench_{args.model}{args.tag}")
    with open(path + ".json", "w") as f:
        json.dump(report, f, indent=1)
    plot(report, path + ".png")


if __name__ == "__main__":
    main()

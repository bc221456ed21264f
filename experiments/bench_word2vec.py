"""jaxembed vs gensim on the same corpus, same settings, same machine, one run: time, words/s, quality.

    python experiments/bench_word2vec.py --model sgns --corpus ../shared/data/pdcorpus.txt.gz

Expected on pdcorpus (2 CPU cores): jaxembed words/s >= 0.5x gensim's with WS353 within 0.02 and
analogy accuracy >= 0.9x gensim's. Writes experiments/results/bench_<model>.json and .png.
Each system runs in its own subprocess; wall time covers vocabulary building, compilation and
training (imports excluded for both); both get evaluated by jaxembed's evaluator, and gensim's
own evaluator is run on jaxembed's saved vectors to cross-check.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
MODELS = ("sgns", "cbow", "sg-hs", "cbow-hs")


def bench_config(args):
    """The one configuration both systems run: the model's defaults (word2vec's) plus the flags given."""
    from jaxembed.config import TrainConfig
    return TrainConfig(model=args.model, dim=args.dim, window=args.window, negative=args.negative,
                       sample=args.sample, min_count=args.min_count, epochs=args.epochs, seed=args.seed)


def run_jaxembed(args) -> dict:
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.train import train_word2vec
    config = bench_config(args)
    result = train_word2vec(args.corpus, config, progress=False)
    path = os.path.join(RESULTS_DIR, f"jaxembed_{args.model}_vectors.txt")
    result.vectors.save(path)
    m = result.metrics
    return {"system": "jaxembed", "wall_seconds": m["train_seconds"], "words_per_second": m["words_per_second"],
            "corpus_words": m["corpus_words"], "vectors": path, "eval": evaluate_all(result.vectors),
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


def run_systems(script: str, systems: tuple[str, str]) -> list[dict]:
    """Each system's JSON from `script <this run's flags> --only SYSTEM`, each in its own process,
    with a one-line summary printed as it finishes."""
    runs = []
    for system in systems:
        out = subprocess.run([sys.executable, script, *sys.argv[1:], "--only", system], check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{runs[-1]['system']}: {runs[-1]['wall_seconds']:.1f} s, {runs[-1]['words_per_second']:,.0f} words/s, "
              f"analogy {runs[-1]['eval']['analogy']['accuracy']:.4f}, WS353 {runs[-1]['eval']['wordsim353']['spearman']:.4f}, "
              f"SimLex {runs[-1]['eval']['simlex999']['spearman']:.4f}", flush=True)
    return runs


def ratios(ours: dict, peer: dict) -> dict:
    """jaxembed against the peer of the same run: words/s ratio, analogy ratio (NaN if the peer
    answers none), WS353 difference."""
    peer_analogy = peer["eval"]["analogy"]["accuracy"]
    return {"speed_ratio": ours["words_per_second"] / peer["words_per_second"],
            "analogy_ratio": ours["eval"]["analogy"]["accuracy"] / peer_analogy if peer_analogy else float("nan"),
            "wordsim353_diff": ours["eval"]["wordsim353"]["spearman"] - peer["eval"]["wordsim353"]["spearman"]}


def plot(report: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    systems = report["runs"]
    names = [r["system"] for r in systems]
    panels = [("words/s (whole run)", [r["words_per_second"] for r in systems]),
              ("analogy accuracy", [r["eval"]["analogy"]["accuracy"] for r in systems]),
              ("WordSim-353 ρ", [r["eval"]["wordsim353"]["spearman"] for r in systems]),
              ("SimLex-999 ρ", [r["eval"]["simlex999"]["spearman"] for r in systems])]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.5))
    for ax, (title, values) in zip(axes, panels):
        bars = ax.bar(names, values, color=["tab:blue", "tab:gray"][:len(values)])
        ax.bar_label(bars, fmt="%.3g")
        ax.set_title(title)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"{report['model']} on {os.path.basename(report['corpus'])} ({report['machine']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="sgns", choices=MODELS)
    parser.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "pdcorpus.txt.gz"))
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, help="default: 5 for sgns/cbow, 0 for the HS models")
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=["jaxembed", "gensim"], help="run one system and print its JSON (internal)")
    args = parser.parse_args()
    os.makedirs(RESULTS_DIR, exist_ok=True)
    if args.only:
        print(json.dumps(run_jaxembed(args) if args.only == "jaxembed" else run_gensim(args)))
        return
    runs = run_systems(__file__, ("jaxembed", "gensim"))
    ours, peer = runs
    report = {"model": args.model, "corpus": os.path.abspath(args.corpus), "settings": vars(args),
              "config": dataclasses.asdict(bench_config(args)), "runs": runs,
              "machine": f"{os.cpu_count()} CPU cores", **ratios(ours, peer),
              "gensim_eval_of_jaxembed_vectors": gensim_cross_check(ours["vectors"])}
    print(json.dumps({k: report[k] for k in ("speed_ratio", "analogy_ratio", "wordsim353_diff", "gensim_eval_of_jaxembed_vectors")}, indent=1))
    path = os.path.join(RESULTS_DIR, f"bench_{args.model}")
    with open(path + ".json", "w") as f:
        json.dump(report, f, indent=1)
    plot(report, path + ".png")


if __name__ == "__main__":
    main()

"""jaxembed fastText vs the official fastText (PyPI `fasttext`) on one corpus, same settings, in one invocation.

    python experiments/bench_fasttext.py --corpus ../shared/data/pdcorpus.txt.gz --seeds 1 2 3

Expected on pdcorpus (2 CPU cores; skip-gram, dim 100, window 5, neg 5, sample 1e-3, 5 epochs,
n-grams 3..6, 2M buckets): jaxembed words/s >= 1.2x fastText's with WS353 within 0.02 and analogy
>= 0.95x fastText's. `--seeds` runs both systems once per seed, alternating, and compares the means.
Writes experiments/results/bench_fasttext.json and .png. Each system runs in its own subprocess; wall
time covers reading the corpus, the vocabulary and training (jaxembed's also covers compilation and
computing every word's vector); fastText runs with `--workers` threads.
Both are evaluated by jaxembed's evaluator on the words of their vocabulary (each word's vector as
fastText's get_word_vector gives it), and the OOV check compares jaxembed's and fastText's
vectors of jaxembed's own model for misspelt words.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import os
import time

from bench_word2vec import mean_run, plot, ratios, run_systems
from paths import PDCORPUS, RESULTS_DIR, machine


def bench_config(args):
    from jaxembed.config import FastTextConfig
    return FastTextConfig(cbow=args.cbow, dim=args.dim, window=args.window, negative=args.negative, sample=args.sample,
                          min_count=args.min_count, epochs=args.epochs, minn=args.minn, maxn=args.maxn,
                          bucket=args.bucket, alpha=args.lr, seed=args.seed)


def jaxembed_config(args):
    """bench_config with jaxembed's own batch size (and large-batch cap) when given."""
    return bench_config(args).replace(batch_size=args.batch_size, max_row_updates=args.max_row_updates,
                                      device_examples=args.device_examples, replicas=args.replicas,
                                      merge_every=args.merge_every, merge_rule=args.merge_rule)


def run_jaxembed(args) -> dict:
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import fit
    from jaxembed.io.word2vec import save_word2vec
    result = fit(args.corpus, jaxembed_config(args), progress=False)
    path = os.path.join(RESULTS_DIR, f"jaxembed_fasttext{args.tag}_vectors.txt")
    save_word2vec(path, result.vectors)
    model_path = os.path.join(RESULTS_DIR, f"jaxembed_fasttext{args.tag}_model.bin")
    result.files["model.bin"](model_path)
    m, config = result.metrics, jaxembed_config(args).resolved()
    return {"system": "jaxembed", "wall_seconds": m["train_seconds"], "words_per_second": m["words_per_second"],
            "corpus_words": m["corpus_words"], "replicas": config.replicas, "merge_every": config.merge_every,
            "merge_rule": config.merge_rule, "vectors": path, "model": model_path,
            "eval": evaluate_all(result.vectors), "loss": m["loss"]}


def run_fasttext(args) -> dict:
    import fasttext
    import numpy as np
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.vectors import Vectors
    config = bench_config(args)
    start = time.perf_counter()
    model = fasttext.train_unsupervised(args.corpus if not args.corpus.endswith(".gz") else unpacked(args.corpus),
                                        model="cbow" if config.cbow else "skipgram", dim=config.dim, ws=config.window,
                                        neg=config.negative, t=config.sample, minCount=config.min_count,
                                        epoch=config.epochs, minn=config.minn, maxn=config.maxn, bucket=config.bucket,
                                        lr=config.alpha, thread=args.workers, verbose=0)
    seconds = time.perf_counter() - start
    words = model.get_words()
    vectors = Vectors(words, np.stack([model.get_word_vector(w) for w in words]))
    return {"system": f"fastText {importlib.metadata.version('fasttext')}", "wall_seconds": seconds,
            "words_per_second": corpus_tokens(args.corpus) * config.epochs / seconds,
            "eval": evaluate_all(vectors)}


def unpacked(path: str) -> str:
    """fastText reads plain text: the corpus decompressed once to a file beside the results."""
    import gzip
    import shutil
    out = os.path.join(RESULTS_DIR, os.path.basename(path)[:-3])
    if not os.path.exists(out):
        with gzip.open(path, "rb") as src, open(out + ".tmp", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(out + ".tmp", out)
    return out


def corpus_tokens(path: str) -> int:
    from jaxembed.data.corpus import count_words
    return count_words(path)[1]


def oov_check(model_path: str, vocabulary: list[str]) -> dict:
    """Official fastText's get_word_vector vs jaxembed's on jaxembed's saved model, for misspelt words."""
    import fasttext
    import numpy as np
    from jaxembed.io.fasttext import load_fasttext
    ours, official = load_fasttext(model_path), fasttext.load_model(model_path)
    vocab = set(vocabulary)
    words = [v for w in vocabulary[:200] if len(w) > 3 for v in (w + "s", w[:-1], w[1:] + w[0]) if v not in vocab]
    iv = vocabulary[:1000]
    return {"oov_words": len(words),
            "oov_max_abs_diff": float(max(np.abs(ours[w] - official.get_word_vector(w)).max() for w in words)),
            "in_vocabulary_max_abs_diff": float(max(np.abs(ours[w] - official.get_word_vector(w)).max() for w in iv))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--cbow", action="store_true")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--minn", type=int, default=3)
    parser.add_argument("--maxn", type=int, default=6)
    parser.add_argument("--bucket", type=int, default=2_000_000)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", help="run both systems once per seed and compare the means "
                        "(default: --seed alone)")
    parser.add_argument("--replicas", type=int, help="jaxembed's replicas, one per core (default: the model's)")
    parser.add_argument("--merge-every", type=int, help="jaxembed: blocks per replica between merges (default: the model's)")
    parser.add_argument("--merge-rule", choices=["sum", "agreement"], help="jaxembed: how merges combine (default: the model's)")
    parser.add_argument("--batch-size", type=int, help="jaxembed's micro-batch (default: the model's)")
    parser.add_argument("--max-row-updates", type=float, help="jaxembed's large-batch row cap (default: the model's)")
    parser.add_argument("--device-examples", type=int, choices=[0, 1],
                        help="jaxembed makes the examples on the device (default: the model's)")
    parser.add_argument("--tag", default="", help="suffix of the result files' names (bench_fasttext<tag>.json)")
    parser.add_argument("--only", choices=["jaxembed", "fasttext"], help="run one system and print its JSON (internal)")
    args = parser.parse_args()
    os.makedirs(RESULTS_DIR, exist_ok=True)
    if args.only:
        print(json.dumps(run_jaxembed(args) if args.only == "jaxembed" else run_fasttext(args)))
        return
    if args.corpus.endswith(".gz"):
        unpacked(args.corpus)  # outside both timed runs
    runs = run_systems(__file__, ("jaxembed", "fasttext"), args.seeds)
    ours, peer = (mean_run([r for r in runs if (r["system"] == "jaxembed") == mine]) for mine in (True, False))
    from jaxembed.io.word2vec import load_word2vec
    last = [r for r in runs if r["system"] == "jaxembed"][-1]  # its model.bin: each seed's run writes the same file
    report = {"model": "fasttext-" + ("cbow" if args.cbow else "skipgram"), "corpus": os.path.abspath(args.corpus),
              "settings": vars(args), "config": dataclasses.asdict(jaxembed_config(args)), "runs": runs,
              "systems": [ours, peer],
              "machine": machine(), **ratios(ours, peer),
              "official_fasttext_reads_jaxembed_model": oov_check(last["model"], load_word2vec(last["vectors"]).words)}
    print(json.dumps({k: report[k] for k in ("speed_ratio", "analogy_ratio", "wordsim353_diff",
                                              "official_fasttext_reads_jaxembed_model")}, indent=1))
    path = os.path.join(RESULTS_DIR, f"bench_fasttext{args.tag}")
    with open(path + ".json", "w") as f:
        json.dump(report, f, indent=1)
    plot(report, path + ".png")


if __name__ == "__main__":
    main()

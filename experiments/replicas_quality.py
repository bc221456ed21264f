"""Replicas (jaxembed.replicas) against one copy: quality and whole-run speed of word2vec on pdcorpus.

    python experiments/replicas_quality.py --corpus ../shared/data/pdcorpus.txt.gz                     # ~30 min
    python experiments/replicas_quality.py --runs sgns:1 sgns:2:64 sg-hs:2:16 cbow:2:8                 # chosen rows

Each run is `model:replicas[:merge_every[:merge_rule]]`, trained at word2vec's defaults (dim 100, window 5, 5 epochs, seed 1)
and scored by `jaxembed eval`'s benchmarks. Runs go one after the other, so the words/s are comparable within one
invocation on an idle machine. Adds its rows to experiments/results/replicas_quality.json (a row of the same run
and seed is replaced).
"""
from __future__ import annotations

import argparse
import json
import os

from paths import PDCORPUS, RESULTS_DIR, cpu_name

DEFAULT_RUNS = ["sgns:1", "sgns:2:32:sum", "sgns:2:64:sum", "sgns:2:128:sum", "sgns:2:64:agreement",
                "sg-hs:1", "sg-hs:2:16:sum", "sg-hs:2:32:sum", "sg-hs:2:64:sum", "sg-hs:2:64:agreement",
                "sg-hs:2:128:agreement", "cbow:1", "cbow:2:8:sum", "cbow:2:32:sum", "cbow:2:8:agreement",
                "cbow:2:32:agreement"]


def run(corpus: str, spec: str, seed: int) -> dict:
    from jaxembed.config import Word2VecConfig
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import fit
    model, count, *rest = spec.split(":")
    every, rule = (rest + [None, None])[:2]
    config = Word2VecConfig(model=model, replicas=int(count), seed=seed, merge_rule=rule,
                            **({"merge_every": int(every)} if every else {}))
    result = fit(corpus, config, progress=False)
    scores = evaluate_all(result.vectors)
    row = {"run": spec, "model": model, "replicas": int(count), "merge_every": result.metrics["config"]["merge_every"],
           "merge_rule": result.metrics["config"]["merge_rule"],
           "replica_devices": result.metrics.get("replica_devices", 1), "seed": seed,
           "words_per_second": result.metrics["words_per_second"], "train_seconds": result.metrics["train_seconds"],
           "analogy": scores["analogy"]["accuracy"], "wordsim353": scores["wordsim353"]["spearman"],
           "simlex999": scores["simlex999"]["spearman"]}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--runs", nargs="+", default=DEFAULT_RUNS, help="model:replicas[:merge_every[:merge_rule]] per run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = [run(args.corpus, spec, args.seed) for spec in args.runs]
    path = os.path.join(RESULTS_DIR, "replicas_quality.json")
    earlier = []
    if os.path.exists(path):
        with open(path) as f:
            earlier = json.load(f)["runs"]
    new = {(row["run"], row["seed"]) for row in rows}
    out = {"cpu": cpu_name(), "cores": os.cpu_count(), "corpus": os.path.abspath(args.corpus),
           "runs": [row for row in earlier if (row["run"], row["seed"]) not in new] + rows}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

"""Phrases on pdcorpus: the collocations two passes find, and the neighbours of their vectors after skip-gram.

    python experiments/phrases_pd.py --corpus ../shared/data/pdcorpus.txt.gz        # about 3 min, 2 cores

Two passes of `jaxembed.phrases` (gensim's defaults: min_count 5, threshold 10, default scoring), then the
library's skip-gram (its defaults, 5 epochs) on the phrased text. Prints and writes
experiments/results/phrases_pd.json: per pass the number of phrases and the most frequent ones, then the
nearest neighbours of the most frequent phrases that have a vector.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from paths import PDCORPUS, RESULTS_DIR

SHOWN = 30
NEIGHBOURS = 12


def main() -> None:
    from jaxembed.config import Word2VecConfig
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import fit
    from jaxembed.phrases import PhraseConfig, phrase_passes
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        phrased = os.path.join(work, "phrased.txt")
        start = time.perf_counter()
        learned = phrase_passes(args.corpus, phrased, PhraseConfig(), args.passes)
        phrase_seconds = time.perf_counter() - start
        passes = []
        for done, phrases in enumerate(learned, start=1):
            found = phrases.export_phrases()
            count = lambda p: phrases.counts[p.encode("utf-8", "surrogateescape")]
            frequent = sorted(found, key=lambda p: -count(p))[:SHOWN]
            passes.append({"pass": done, "phrases": len(found), "most_frequent": [[p, count(p), found[p]] for p in frequent]})
            print(f"pass {done}: {len(found):,} phrases; most frequent: " + ", ".join(f"{p} ({count(p)})" for p in frequent))
        result = fit(phrased, Word2VecConfig(), progress=False)
    vectors = result.vectors
    shown = [w for w in vectors.words if "_" in w][:SHOWN]
    neighbours = {w: [[n, round(s, 3)] for n, s in vectors.most_similar(w, topn=NEIGHBOURS)] for w in shown}
    for word, near in neighbours.items():
        print(f"  {word}: " + ", ".join(f"{n} {s:.2f}" for n, s in near))
    evaluation = evaluate_all(vectors)
    out = {"corpus": os.path.abspath(args.corpus), "passes": passes, "phrase_seconds": phrase_seconds,
           "vocab_size": len(vectors), "phrase_words_in_vocabulary": sum("_" in w for w in vectors.words),
           "train_seconds": result.metrics["train_seconds"], "neighbours": neighbours,
           "analogy": evaluation["analogy"]["accuracy"], "wordsim353": evaluation["wordsim353"]["spearman"]}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "phrases_pd.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"{out['phrase_words_in_vocabulary']:,} phrases in the vocabulary of {len(vectors):,}; analogy "
          f"{out['analogy']:.3f}, WS353 {out['wordsim353']:.3f}")


if __name__ == "__main__":
    main()

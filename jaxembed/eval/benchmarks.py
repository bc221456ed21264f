"""The standard benchmarks shipped with the package, and one call that runs them all.

Files (public research data, copied from gensim's test data):
  questions-words.txt  Google analogy set, Mikolov et al. 2013 (word2vec, Apache-2.0)
  wordsim353.tsv       WordSim-353, Finkelstein et al. 2002
  simlex999.txt        SimLex-999, Hill, Reichart & Korhonen 2015
"""
from __future__ import annotations

import os

from jaxembed.eval.analogy import evaluate_word_analogies
from jaxembed.eval.similarity import evaluate_word_pairs
from jaxembed.vectors import Vectors

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
GOOGLE_ANALOGIES = os.path.join(DATA_DIR, "questions-words.txt")
WORDSIM353 = os.path.join(DATA_DIR, "wordsim353.tsv")
SIMLEX999 = os.path.join(DATA_DIR, "simlex999.txt")


def evaluate_all(vectors: Vectors, restrict_vocab: int = 300_000) -> dict:
    """Google analogies (3CosAdd, 3CosMul, coverage; also over its semantic and syntactic sections), WordSim-353
    and SimLex-999 (Spearman, OOV)."""
    analogy = evaluate_word_analogies(vectors, GOOGLE_ANALOGIES, restrict_vocab)
    results = {
        "analogy": {
            "accuracy": analogy.accuracy_cosadd,
            "accuracy_cosmul": analogy.accuracy_cosmul,
            "answered": analogy.answered,
            "total": analogy.total,
            "coverage": analogy.coverage,
            **{part: dict(zip(("accuracy", "accuracy_cosmul", "answered"), analogy.split(part == "syntactic")))
               for part in ("semantic", "syntactic")},
        }
    }
    for name, path in (("wordsim353", WORDSIM353), ("simlex999", SIMLEX999)):
        sim = evaluate_word_pairs(vectors, path, restrict_vocab)
        results[name] = {"spearman": sim.spearman, "pearson": sim.pearson, "pairs": sim.pairs,
                         "oov_pairs": sim.oov_pairs, "oov_ratio": sim.oov_ratio}
    return results


def format_results(results: dict) -> str:
    """Human-readable summary lines."""
    a = results["analogy"]
    lines = [f"Google analogies: 3CosAdd {a['accuracy']:.4f}  3CosMul {a['accuracy_cosmul']:.4f}  "
             f"(answered {a['answered']}/{a['total']}, coverage {a['coverage']:.1%})"]
    for part in ("semantic", "syntactic"):
        p = a[part]
        lines.append(f"  {part}: 3CosAdd {p['accuracy']:.4f}  3CosMul {p['accuracy_cosmul']:.4f}  ({p['answered']} answered)")
    for name, label in (("wordsim353", "WordSim-353"), ("simlex999", "SimLex-999")):
        r = results[name]
        lines.append(f"{label}: Spearman {r['spearman']:.4f}  ({r['pairs']} pairs, {r['oov_pairs']} OOV)")
    return "\n".join(lines)

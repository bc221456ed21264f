"""Levy & Goldberg (2014) Table 2 on pdcorpus: SPPMI, SVD of SPPMI and SGNS at k in {1, 5, 15} on word similarity and
analogies, in the paper's layout with the paper's figures beside ours.

    python experiments/count_vs_predict.py --corpus ../shared/data/pdcorpus.txt.gz --dim 500     # about 40 min, 2 cores

The paper's setting where it can be matched: a fixed window of 2, the plain unigram context distribution (ppmi/svd
with cds 1; SGNS with noise_power 1), no subsampling, SVD with W = U√Σ (eig 0.5), SGNS trained on the same pairs
(the library's trainer, 5 epochs, file order). Not matched: the corpus (pdcorpus, 4.8M words, min_count 5, against
Wikipedia's 1.5B words with words seen < 100 times dropped), d (the paper's 1000; --dim), MEN (not shipped here:
SimLex-999 takes its column) and the MSR syntactic set (not shipped: the Google set's syntactic sections take its
column). Analogies are answered by 3CosMul, as the paper, and by 3CosAdd.

Writes experiments/results/count_vs_predict_d<dim>.json and prints the table.
"""
from __future__ import annotations

import argparse
import json
import os
import time

from paths import PDCORPUS, RESULTS_DIR

NEGATIVES = (1, 5, 15)
PAPER = {  # Levy & Goldberg (2014) Table 2 (d = 1000): column -> {(method, k): score}
    "WS353": {("SVD", 5): 0.691, ("SPPMI", 15): 0.687, ("SPPMI", 5): 0.670, ("SGNS", 15): 0.666, ("SVD", 15): 0.661,
              ("SVD", 1): 0.652, ("SGNS", 5): 0.644, ("SGNS", 1): 0.633, ("SPPMI", 1): 0.605},
    "MEN": {("SVD", 1): 0.735, ("SVD", 5): 0.734, ("SPPMI", 5): 0.721, ("SPPMI", 15): 0.719, ("SGNS", 15): 0.716,
            ("SGNS", 5): 0.708, ("SVD", 15): 0.694, ("SGNS", 1): 0.690, ("SPPMI", 1): 0.688},
    "Mixed analogies": {("SPPMI", 1): 0.655, ("SPPMI", 5): 0.644, ("SGNS", 15): 0.619, ("SGNS", 5): 0.616,
                        ("SPPMI", 15): 0.571, ("SVD", 1): 0.567, ("SGNS", 1): 0.540, ("SVD", 5): 0.472,
                        ("SVD", 15): 0.341},
    "Syntactic analogies": {("SGNS", 15): 0.627, ("SGNS", 5): 0.619, ("SGNS", 1): 0.59, ("SPPMI", 5): 0.466,
                            ("SVD", 1): 0.448, ("SPPMI", 1): 0.445, ("SPPMI", 15): 0.353, ("SVD", 5): 0.337,
                            ("SVD", 15): 0.208},
}
COLUMNS = (  # (our column, what it is, the paper's column beside it)
    ("WS353", "wordsim353 Spearman", "WS353"),
    ("SimLex-999", "simlex999 Spearman", "MEN"),
    ("Google 3CosMul", "Google analogies, 3CosMul", "Mixed analogies"),
    ("Google syntactic 3CosMul", "Google syntactic sections, 3CosMul", "Syntactic analogies"),
    ("Google 3CosAdd", "Google analogies, 3CosAdd", None),
)
SAME_MEASURE = {"WS353": "WS353", "Google 3CosMul": "Mixed analogies"}
"""Our columns that measure what the paper's column of that name measures (the others stand in for a missing set)."""


def configs(dim: int, k: int, window: int, epochs: int, seed: int) -> dict:
    from jaxembed.config import PpmiConfig, SvdConfig, Word2VecConfig
    counts = dict(window=window, negative=k, cds=1.0, shrink_windows=False, sample=0.0, seed=seed)
    return {"SPPMI": PpmiConfig(**counts), "SVD": SvdConfig(**counts, dim=dim, eig=0.5),
            "SGNS": Word2VecConfig(window=window, negative=k, noise_power=1.0, shrink_windows=False, sample=0.0,
                                   dim=dim, epochs=epochs, seed=seed)}


def scores(results: dict) -> dict:
    analogy = results["analogy"]
    return {"WS353": results["wordsim353"]["spearman"], "SimLex-999": results["simlex999"]["spearman"],
            "Google 3CosMul": analogy["accuracy_cosmul"], "Google syntactic 3CosMul": analogy["syntactic"]["accuracy_cosmul"],
            "Google 3CosAdd": analogy["accuracy"]}


def run(corpus: str, dim: int, window: int, epochs: int, seed: int) -> list[dict]:
    from jaxembed.eval.benchmarks import evaluate_all
    from jaxembed.fit import fit
    rows = []
    for k in NEGATIVES:
        for method, config in configs(dim, k, window, epochs, seed).items():
            start = time.perf_counter()
            result = fit(corpus, config, progress=False)
            seconds = time.perf_counter() - start
            evaluated = evaluate_all(result.vectors)
            rows.append({"method": method, "k": k, "seconds": seconds, "vocab_size": result.metrics["vocab_size"],
                         "coverage": evaluated["analogy"]["coverage"], **scores(evaluated)})
            print(f"  {method} k={k}: " + ", ".join(f"{c} {rows[-1][c]:.3f}" for c, _, _ in COLUMNS)
                  + f" ({seconds:.0f} s)", flush=True)
    return rows


def paper_layout(rows: list[dict]) -> str:
    """Markdown: per column, ours sorted by score beside the paper's column sorted by score (as the paper prints it)."""
    header, rule, ranked = [], [], []
    for column, _, paper_column in COLUMNS:
        ours = sorted(rows, key=lambda r: -r[column])
        header.append(f"{column} (ours)")
        ranked.append([f"{r['method']} k={r['k']} {r[column]:.3f}" for r in ours])
        if paper_column:
            header.append(f"{paper_column} (paper)")
            ranked.append([f"{m} k={k} {v:.3f}" for (m, k), v in sorted(PAPER[paper_column].items(), key=lambda i: -i[1])])
    rule = ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(column[i] for column in ranked) + " |" for i in range(len(rows))]
    return "\n".join(lines)


def grid(rows: list[dict]) -> str:
    """Markdown: one row per method and k, ours with the paper's figure in parentheses where it measures the same."""
    lines = ["| method | k | " + " | ".join(c for c, _, _ in COLUMNS) + " |", "|---|---|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = []
        for column, _, _ in COLUMNS:
            paper = PAPER[SAME_MEASURE[column]][r["method"], r["k"]] if column in SAME_MEASURE else None
            cells.append(f"{r[column]:.3f}" + (f" ({paper:.3f})" if paper is not None else ""))
        lines.append(f"| {r['method']} | {r['k']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--dim", type=int, default=1000, help="the paper's d = 1000 by default")
    parser.add_argument("--window", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5, help="SGNS epochs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = run(args.corpus, args.dim, args.window, args.epochs, args.seed)
    result = {"corpus": os.path.abspath(args.corpus), "dim": args.dim, "window": args.window, "epochs": args.epochs,
              "seed": args.seed, "columns": {c: what for c, what, _ in COLUMNS}, "rows": rows, "paper": {
                  column: [{"method": m, "k": k, "score": v} for (m, k), v in values.items()]
                  for column, values in PAPER.items()},
              "paper_layout": paper_layout(rows), "grid": grid(rows)}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, f"count_vs_predict_d{args.dim}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(result["paper_layout"] + "\n\n" + result["grid"])


if __name__ == "__main__":
    main()

"""SGNS factorises shifted PMI, on real text: (a) the exact optimum, (b) the sampled trainer, (c) Levy & Goldberg's Table 1.

    python experiments/sgns_spmi.py --config configs/theory_pd.yaml            # all three parts
    python experiments/sgns_spmi.py --config configs/theory_pd.yaml --part exact
    python experiments/sgns_spmi.py --config configs/theory_pd.yaml --part stochastic --stochastic-vocab 1000

(a) exact: pdcorpus restricted to its 1000 most frequent words, fixed window 5, k = 5, noise ∝
    count^0.75. The expected objective is minimised over the score matrix (Newton; d ≥ V makes every
    score matrix reachable) and factored exactly (d = V); expected: max |w·c − SPMI| < 1e-10 over all
    pairs with #(w, c) >= 1. For contrast, L-BFGS over the factors (d = V) is far from it after
    hundreds of steps: rare pairs carry almost no curvature.
(b) stochastic: the library's SGNS trainer (fixed window, no subsampling, so the pair counts are
    exactly those it samples from), on the full vocabulary or the V most frequent words, reading the
    corpus in file order and with its sentences shuffled every epoch; Pearson/Spearman/RMSE of w·c
    (syn0 · syn1neg) against SPMI over the pairs with #(w, c) >= t, for each order, d and number of
    epochs; the bar: Pearson >= 0.9 for #(w, c) >= 100. As a control, the same statistics for the
    minimiser of the expected objective at each d (L-BFGS over the factors, when
    stochastic_optimum_steps > 0): on frequent pairs, the best any rank-d SGNS can do. The expected
    objective assumes pairs drawn independently; pdcorpus is a dictionary in alphabetical order, and in file order SGD ends fitted
    to its last part.
(c) Table 1: % deviation from the optimal objective (ℓ − ℓ*)/ℓ* reached by SGNS training and by SVD,
    for d in {100, 500, 1000}, next to the paper's figures.
Writes experiments/results/sgns_spmi_<part>.json and .png.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time

import numpy as np

from jaxembed.config import load_dataclass
from paths import RESULTS_DIR


@dataclasses.dataclass(frozen=True)
class TheoryConfig:
    """Settings of the three parts (configs/theory_pd.yaml)."""

    corpus: str = "../shared/data/pdcorpus.txt.gz"
    window: int = 5
    negative: int = 5
    min_count: int = 5
    seed: int = 1
    exact_vocab: int = 1000
    newton_steps: int = 15
    lbfgs_steps: int = 300
    lbfgs_log_every: int = 25
    stochastic_dims: tuple[int, ...] = (100, 300)
    stochastic_epochs: tuple[int, ...] = (1, 5)
    stochastic_vocab: int | None = None
    stochastic_alpha: float | None = None
    stochastic_shuffle: tuple[bool, ...] = (False, True)
    stochastic_optimum_steps: int = 0
    table_vocab: int = 2000
    table_corpus_words: int = 1_000_000
    table_dims: tuple[int, ...] = (100, 500, 1000)
    table_epochs: int = 3
    table_shuffle: bool = True


def restricted_counts(corpus: str, vocab_size: int, window: int):
    """The corpus restricted to its `vocab_size` most frequent words: (prepared corpus, dense fixed-window #(w, c))."""
    from jaxembed.theory.pmi import pair_counts
    from jaxembed.data.corpus import prepare_corpus
    prepared = prepare_corpus(corpus, min_count=1, max_vocab_size=vocab_size)
    return prepared, pair_counts(prepared.ids_N, prepared.sentence_ends_S, len(prepared.vocab), window)


def exact_part(cfg: TheoryConfig) -> dict:
    from jaxembed.theory.pmi import shifted_pmi, smoothed_noise, svd_embeddings
    from jaxembed.theory.sgns_objective import (deviation_percent, fit_expected_sgns, newton_scores, optimal_objective,
                                                score_errors)
    prepared, counts = restricted_counts(cfg.corpus, cfg.exact_vocab, cfg.window)
    noise = smoothed_noise(prepared.vocab.counts)
    target, observed = shifted_pmi(counts, cfg.negative, noise), counts > 0
    optimum = optimal_objective(counts, cfg.negative, noise)
    start = time.perf_counter()
    scores, newton = newton_scores(counts, cfg.negative, noise, cfg.newton_steps)
    newton_seconds = time.perf_counter() - start
    w, c = svd_embeddings(scores, cfg.exact_vocab)
    max_error, rmse = score_errors(w @ c.T, target, observed)
    start = time.perf_counter()
    lw, lc, lbfgs = fit_expected_sgns(counts, cfg.negative, noise, cfg.exact_vocab, cfg.lbfgs_steps, cfg.seed,
                                      cfg.lbfgs_log_every)
    lbfgs_seconds = time.perf_counter() - start
    rows = lambda history: [{"step": s, "objective": v, "deviation_percent": deviation_percent(v, optimum),
                             "max_abs_error": m, "rmse": r} for s, v, m, r in history]
    result = {"vocab": cfg.exact_vocab, "pairs": float(counts.sum()), "observed_fraction": float(observed.mean()),
              "optimal_objective": optimum, "newton": rows(newton), "newton_seconds": newton_seconds,
              "factors": {"dim": cfg.exact_vocab, "max_abs_error": max_error, "rmse": rmse},
              "lbfgs_factors": rows(lbfgs), "lbfgs_seconds": lbfgs_seconds}
    plot_exact(result, counts[observed], target[observed], (lw @ lc.T)[observed], (w @ c.T)[observed])
    return result


def plot_exact(result: dict, counts_P, target_P, lbfgs_P, newton_P) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, label in (("newton", "Newton on scores, then exact factors"), ("lbfgs_factors", "L-BFGS on factors (d = V)")):
        steps = [r["step"] for r in result[name]]
        axes[0].semilogy(steps, [max(r["max_abs_error"], 1e-16) for r in result[name]], "o-", label=f"{label}: max")
        axes[0].semilogy(steps, [max(r["rmse"], 1e-16) for r in result[name]], "--", label=f"{label}: RMSE")
    axes[0].axhline(0.01, color="k", lw=0.8, ls=":")
    axes[0].set(xlabel="step", ylabel="|w·c − SPMI| over observed pairs", title=f"exact SGNS optimum, V = {result['vocab']}")
    axes[0].legend(fontsize=7)
    sample = np.random.default_rng(0).choice(len(target_P), min(20000, len(target_P)), replace=False)
    for ax, scores, title in ((axes[1], newton_P, "Newton + factors"), (axes[2], lbfgs_P, "L-BFGS factors")):
        points = ax.scatter(target_P[sample], scores[sample], s=2, c=np.log10(counts_P[sample]), cmap="viridis")
        lims = [target_P.min(), target_P.max()]
        ax.plot(lims, lims, "r-", lw=0.8)
        ax.set(xlabel="SPMI = log(#(w,c) / (k #w P_n(c)))", ylabel="w·c", title=title)
    fig.colorbar(points, ax=axes[2], label="log10 #(w, c)")
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS_DIR, "sgns_spmi_exact.png"), dpi=110)


COUNT_THRESHOLDS = (1, 10, 100, 1000)


def count_statistics(counts_P, scores_P, target_P) -> list[dict]:
    """Pearson, Spearman and RMSE of scores against SPMI over the pairs with #(w, c) >= t, for each threshold t."""
    from scipy import stats
    out = []
    for low in COUNT_THRESHOLDS:
        chosen = counts_P >= low
        if chosen.sum() > 2:
            x, y = target_P[chosen], scores_P[chosen]
            out.append({"min_count": low, "pairs": int(chosen.sum()), "pearson": float(stats.pearsonr(x, y)[0]),
                        "spearman": float(stats.spearmanr(x, y)[0]), "rmse": float(np.sqrt(np.mean((x - y) ** 2)))})
    return out


ORDER_NAMES = {False: "file order", True: "shuffled"}


def stochastic_part(cfg: TheoryConfig) -> dict:
    from jaxembed.config import Word2VecConfig
    from jaxembed.data.cooccur import count_cooccurrences
    from jaxembed.fit import fit
    from jaxembed.models import word2vec
    from jaxembed.theory.pmi import smoothed_noise
    if cfg.stochastic_optimum_steps and not cfg.stochastic_vocab:
        raise ValueError("stochastic_optimum_steps needs stochastic_vocab: the expected objective is a dense V × V problem")
    base = Word2VecConfig(window=cfg.window, negative=cfg.negative, sample=0.0, shrink_windows=False,
                          min_count=1 if cfg.stochastic_vocab else cfg.min_count, max_vocab_size=cfg.stochastic_vocab,
                          seed=cfg.seed, alpha=cfg.stochastic_alpha)
    prepared = word2vec.read_corpus(cfg.corpus, base)
    cooc = count_cooccurrences(prepared.ids_N, prepared.sentence_ends_S, len(prepared.vocab), cfg.window,
                               symmetric=True, distance_weighting=np.ones(cfg.window))
    rows, cols, counts = cooc.rows_N, cooc.cols_N, cooc.values_N.astype(np.float64)
    word_totals = np.bincount(rows, weights=counts, minlength=len(prepared.vocab))
    noise = smoothed_noise(prepared.vocab.counts)
    target = np.log(counts) - np.log(cfg.negative * word_totals[rows]) - np.log(noise[cols])
    runs, last_scores = [], {}
    for shuffle in cfg.stochastic_shuffle:
        for dim in cfg.stochastic_dims:
            for epochs in cfg.stochastic_epochs:
                result = fit(cfg.corpus, base.replace(dim=dim, epochs=epochs, shuffle=shuffle), progress=False)
                syn0, syn1neg = np.asarray(result.state.syn0_VxD), np.asarray(result.state.syn1_RxD)
                last_scores[shuffle] = pair_scores(syn0, syn1neg, rows, cols)
                runs.append({"order": ORDER_NAMES[shuffle], "dim": dim, "epochs": epochs,
                             "alpha": result.metrics["config"]["alpha"], "train_seconds": result.metrics["train_seconds"],
                             "pairs_at_least": count_statistics(counts, last_scores[shuffle], target)})
                print(f"  {ORDER_NAMES[shuffle]}, d={dim}, epochs={epochs}: "
                      + ", ".join(f"#>={b['min_count']}: r={b['pearson']:.3f}" for b in runs[-1]["pairs_at_least"]), flush=True)
    dense = cooc.to_dense() if cfg.stochastic_optimum_steps else None
    optima = [rank_optimum(cfg, dense, rows, cols, noise, dim, counts, target) for dim in cfg.stochastic_dims] if dense is not None else []
    plot_stochastic(runs, optima, counts, last_scores, target, part_name("stochastic", cfg))
    best = {order: max((b["pearson"] for r in runs if r["order"] == order for b in r["pairs_at_least"] if b["min_count"] == 100),
                       default=None)
            for order in dict.fromkeys(r["order"] for r in runs)}
    return {"pairs": len(counts), "runs": runs, "rank_d_optima": optima, "best_pearson_count_ge_100": best}


def rank_optimum(cfg: TheoryConfig, counts_VxV: np.ndarray, rows_P, cols_P, noise_V: np.ndarray, dim: int, counts_P,
                 target_P) -> dict:
    """The control: statistics over the pairs (rows_P, cols_P) of the rank-`dim` minimiser of the expected
    objective (L-BFGS over the factors)."""
    from jaxembed.theory.sgns_objective import fit_expected_sgns
    start = time.perf_counter()
    w, c, history = fit_expected_sgns(counts_VxV, cfg.negative, noise_V, dim, cfg.stochastic_optimum_steps, cfg.seed)
    result = {"dim": dim, "lbfgs_steps": cfg.stochastic_optimum_steps, "seconds": time.perf_counter() - start,
              "objective": history[-1][1],
              "pairs_at_least": count_statistics(counts_P, pair_scores(w, c, rows_P, cols_P), target_P)}
    print(f"  rank-{dim} optimum: " + ", ".join(f"#>={b['min_count']}: r={b['pearson']:.3f}" for b in result["pairs_at_least"]),
          flush=True)
    return result


def pair_scores(syn0_VxD: np.ndarray, syn1_VxD: np.ndarray, rows_P: np.ndarray, cols_P: np.ndarray,
                chunk: int = 1 << 18) -> np.ndarray:
    """(P,) w·c for the given pairs, gathered `chunk` pairs at a time (memory O(chunk · D), not O(P · D))."""
    return np.concatenate([np.einsum("pd,pd->p", syn0_VxD[rows_P[i:i + chunk]], syn1_VxD[cols_P[i:i + chunk]])
                           for i in range(0, len(rows_P), chunk)])


def part_name(part: str, cfg: TheoryConfig) -> str:
    """Output name of a part: the stochastic part gets its restricted vocabulary size, its starting
    learning rate (when not the trainer's default) and its corpus order (when only one) appended."""
    if part != "stochastic":
        return f"sgns_spmi_{part}"
    orders = cfg.stochastic_shuffle
    return ("sgns_spmi_stochastic" + (f"_V{cfg.stochastic_vocab}" if cfg.stochastic_vocab else "")
            + (f"_alpha{cfg.stochastic_alpha:g}" if cfg.stochastic_alpha else "")
            + ("_" + ORDER_NAMES[orders[0]].replace(" ", "_") if len(orders) == 1 else ""))


def plot_stochastic(runs: list[dict], optima: list[dict], counts_P, scores_by_shuffle: dict, target_P, name: str) -> None:
    """One scatter of w·c against SPMI (pairs with # >= 100, or all if too few) per corpus order, from its last run, and
    Pearson against epochs for every order and d (the rank-d optima as horizontal lines)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(scores_by_shuffle) + 1, figsize=(5.5 * (len(scores_by_shuffle) + 1), 4.2))
    low = 100 if (counts_P >= 100).sum() > 2 else 1
    frequent = counts_P >= low
    sample = np.random.default_rng(0).choice(np.flatnonzero(frequent), min(20000, int(frequent.sum())), replace=False)
    lims = [target_P[sample].min(), target_P[sample].max()]
    shown = np.concatenate([scores_P[sample] for scores_P in scores_by_shuffle.values()])
    score_lims = (shown.min() - 0.5, shown.max() + 0.5)
    for ax, (shuffle, scores_P) in zip(axes, scores_by_shuffle.items()):
        ax.scatter(target_P[sample], scores_P[sample], s=2, c=np.log10(counts_P[sample]), cmap="viridis")
        ax.plot(lims, lims, "r-", lw=0.8)
        last = [r for r in runs if r["order"] == ORDER_NAMES[shuffle]][-1]
        ax.set(xlabel="SPMI", ylabel="w·c (syn0 · syn1neg)",
               title=f"{last['order']}: d={last['dim']}, {last['epochs']} epochs, α₀ {last['alpha']:g}, #(w,c) ≥ {low}", ylim=score_lims)
    dims = sorted({r["dim"] for r in runs})
    for order, dim in dict.fromkeys((r["order"], r["dim"]) for r in runs):
        mine = [r for r in runs if (r["order"], r["dim"]) == (order, dim)]
        style = "osd^v"[dims.index(dim) % 5] + ("-" if order == ORDER_NAMES[True] else "--")
        for low, color in ((10, "tab:blue"), (100, "tab:orange"), (1000, "tab:green")):
            values = [next((b["pearson"] for b in r["pairs_at_least"] if b["min_count"] == low), np.nan) for r in mine]
            axes[-1].plot([r["epochs"] for r in mine], values, style, color=color, label=f"{order}, d={dim}, #(w,c) ≥ {low}")
    for optimum in optima:
        value = next((b["pearson"] for b in optimum["pairs_at_least"] if b["min_count"] == 100), np.nan)
        axes[-1].axhline(value, color="tab:orange", lw=0.8, ls="-.", label=f"rank-{optimum['dim']} optimum, #(w,c) ≥ 100")
    axes[-1].axhline(0.9, color="k", lw=0.8, ls=":")
    axes[-1].set(xlabel="epochs", ylabel="Pearson(w·c, SPMI)", title="pairs with #(w,c) ≥ t", xscale="log")
    epochs = sorted({r["epochs"] for r in runs})
    axes[-1].set_xticks(epochs, [str(e) for e in epochs])
    axes[-1].minorticks_off()
    axes[-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS_DIR, name + ".png"), dpi=110)


TABLE_NEGATIVES = (1, 5, 15)


def corpus_prefix(path: str, words: int) -> str:
    """The first `words` tokens of the corpus as a one-line text file beside the results (made once)."""
    from jaxembed.data.corpus import iter_token_blocks
    out = os.path.join(RESULTS_DIR, f"{os.path.basename(path).split('.')[0]}_first{words}.txt")
    if not os.path.exists(out):
        tokens: list[bytes] = []
        for piece, _ in iter_token_blocks(path):
            tokens.extend(piece[:words - len(tokens)])
            if len(tokens) >= words:
                break
        with open(out + ".tmp", "wb") as f:
            f.write(b" ".join(tokens) + b"\n")
        os.replace(out + ".tmp", out)
    return out


def table_part(cfg: TheoryConfig) -> dict:
    """Levy & Goldberg (2014) Table 1: % deviation from ℓ* of SGNS training and of SVD of shifted PPMI."""
    from jaxembed.config import Word2VecConfig
    from jaxembed.fit import fit
    from jaxembed.theory.pmi import smoothed_noise, svd_embeddings
    from jaxembed.theory.sgns_objective import deviation_percent, negative_counts, optimal_objective
    corpus = corpus_prefix(cfg.corpus, cfg.table_corpus_words)
    prepared, counts = restricted_counts(corpus, cfg.table_vocab, cfg.window)
    noise = smoothed_noise(prepared.vocab.counts)

    def objective(scores_VxV, k):
        negatives = negative_counts(counts, k, noise)
        return float(-np.sum(counts * log_sigmoid(scores_VxV) + negatives * log_sigmoid(-scores_VxV)))

    cells = []
    for k in TABLE_NEGATIVES:
        optimum = optimal_objective(counts, k, noise)
        sppmi = shifted_ppmi(counts, k, noise)
        cells.append({"k": k, "method": "SPPMI (full rank)", "dim": None,
                      "deviation_percent": deviation_percent(objective(sppmi, k), optimum)})
        for dim in cfg.table_dims:
            w, c = svd_embeddings(sppmi, dim)
            cells.append({"k": k, "method": "SVD of SPPMI", "dim": dim,
                          "deviation_percent": deviation_percent(objective(w @ c.T, k), optimum)})
            config = Word2VecConfig(dim=dim, negative=k, window=cfg.window, sample=0.0, shrink_windows=False, min_count=1,
                                    max_vocab_size=cfg.table_vocab, epochs=cfg.table_epochs, shuffle=cfg.table_shuffle,
                                    seed=cfg.seed)
            state = fit(corpus, config, progress=False).state
            scores = np.asarray(state.syn0_VxD, np.float64) @ np.asarray(state.syn1_RxD, np.float64).T
            cells.append({"k": k, "method": "SGNS (jaxembed trainer)", "dim": dim,
                          "deviation_percent": deviation_percent(objective(scores, k), optimum)})
            print(f"  k={k} d={dim}: " + ", ".join(f"{c['method']} {c['deviation_percent']:.2f}%" for c in cells[-2:]), flush=True)
    return {"corpus_words": prepared.raw_words, "vocab": cfg.table_vocab, "pairs": float(counts.sum()),
            "observed_fraction": float((counts > 0).mean()), "cells": cells, "table": format_table(cells, cfg.table_dims)}


def shifted_ppmi(counts_VxV: np.ndarray, k: int, noise_V: np.ndarray) -> np.ndarray:
    """max(SPMI_k,P_n, 0), with unobserved pairs at 0 (the sparse matrix SVD factorises)."""
    from jaxembed.theory.pmi import shifted_pmi
    return np.maximum(np.nan_to_num(shifted_pmi(counts_VxV, k, noise_V), neginf=0.0), 0.0)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def format_table(cells: list[dict], dims: tuple[int, ...]) -> str:
    """Markdown: one row per method and d, one column per k."""
    lines = ["| method | d | " + " | ".join(f"k = {k}" for k in TABLE_NEGATIVES) + " |",
             "|---|---|" + "---|" * len(TABLE_NEGATIVES)]
    for method in dict.fromkeys(c["method"] for c in cells):
        for dim in dict.fromkeys(c["dim"] for c in cells if c["method"] == method):
            values = [next(c["deviation_percent"] for c in cells if (c["method"], c["dim"], c["k"]) == (method, dim, k))
                      for k in TABLE_NEGATIVES]
            lines.append(f"| {method} | {dim or 'V'} | " + " | ".join(f"{v:.2f}%" for v in values) + " |")
    return "\n".join(lines)


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=os.path.join(os.path.dirname(__file__), "..", "configs", "theory_pd.yaml"))
    parser.add_argument("--part", choices=["exact", "stochastic", "table", "all"], default="all")
    parser.add_argument("--corpus", help="overrides the config's corpus")
    parser.add_argument("--stochastic-vocab", type=int, help="overrides the config's stochastic_vocab (the V most frequent words)")
    parser.add_argument("--stochastic-alpha", type=float, help="overrides the config's stochastic_alpha (starting learning rate)")
    parser.add_argument("--stochastic-epochs", type=int, nargs="+", help="overrides the config's stochastic_epochs")
    parser.add_argument("--stochastic-dims", type=int, nargs="+", help="overrides the config's stochastic_dims")
    parser.add_argument("--stochastic-shuffle", type=int, nargs="+", choices=[0, 1],
                        help="overrides the config's stochastic_shuffle: 0 file order, 1 sentences shuffled every epoch")
    args = parser.parse_args()
    cfg = load_dataclass(TheoryConfig, args.config)
    if args.corpus:
        cfg = dataclasses.replace(cfg, corpus=args.corpus)
    overrides = {"stochastic_vocab": args.stochastic_vocab, "stochastic_alpha": args.stochastic_alpha,
                 "stochastic_epochs": args.stochastic_epochs and tuple(args.stochastic_epochs),
                 "stochastic_dims": args.stochastic_dims and tuple(args.stochastic_dims),
                 "stochastic_shuffle": args.stochastic_shuffle and tuple(bool(s) for s in args.stochastic_shuffle)}
    cfg = dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v})
    os.makedirs(RESULTS_DIR, exist_ok=True)
    parts = {"exact": exact_part, "stochastic": stochastic_part, "table": table_part}
    for name in (parts if args.part == "all" else [args.part]):
        print(f"part {name}...", flush=True)
        result = {"config": dataclasses.asdict(cfg), **parts[name](cfg)}
        with open(os.path.join(RESULTS_DIR, part_name(name, cfg) + ".json"), "w") as f:
            json.dump(result, f, indent=1)
        print(json.dumps({k: v for k, v in result.items() if k not in ("config", "newton", "lbfgs_factors", "runs")},
                         indent=1), flush=True)


if __name__ == "__main__":
    main()

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
(c) Levy & Goldberg's Table 1 in the paper's setting where it can be matched: words seen >= 100 times (the
    whole corpus), fixed window 2, unigram noise; % deviation (ℓ − ℓ*)/ℓ* of SPPMI, of the SVD of SPPMI
    (W = U√Σ, C = V√Σ) and of the library's SGNS trainer (noise_power 1, no subsampling, sentences shuffled
    every epoch), d in {100, 500, 1000}, k in {1, 5, 15}; each exact (every cell summed) and estimated as the
    paper did (10M pairs drawn by prevalence, one noise word each), next to the paper's figures.
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
    table_window: int = 2
    table_min_count: int = 100
    table_noise_power: float = 1.0
    table_samples: int = 10_000_000
    table_dims: tuple[int, ...] = (100, 500, 1000)
    table_epochs: int = 1
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
PAPER_TABLE = {  # Levy & Goldberg (2014) Table 1, % deviation: (method, d) -> (k = 1, 5, 15)
    ("SPPMI", None): (0.00009, 0.00004, 0.00002),
    ("SVD", 100): (26.1, 95.8, 266.0), ("SVD", 500): (25.2, 95.1, 266.0), ("SVD", 1000): (24.2, 94.9, 265.0),
    ("SGNS", 100): (31.4, 39.3, 7.80), ("SGNS", 500): (29.4, 36.0, 6.37), ("SGNS", 1000): (7.40, 7.13, 5.97),
}


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


@dataclasses.dataclass(frozen=True)
class ObjectiveSample:
    """The paper's estimate of ℓ: S pairs (w_S, c_S) drawn by their prevalence #(w, c)/|D|, one noise word n_S ~ P_n
    each; ℓ ≈ (|D|/S) Σ_s [−log σ(x_{w c}) − k log σ(−x_{w n})], unbiased for the exact ℓ."""

    words_S: np.ndarray
    contexts_S: np.ndarray
    noise_S: np.ndarray
    pairs: float

    @classmethod
    def draw(cls, counts_VxV: np.ndarray, noise_V: np.ndarray, samples: int, seed: int) -> "ObjectiveSample":
        rng = np.random.default_rng(seed)
        cells = rng.choice(counts_VxV.size, samples, p=(counts_VxV / counts_VxV.sum()).ravel())
        words, contexts = np.divmod(cells, counts_VxV.shape[1])
        return cls(words, contexts, rng.choice(len(noise_V), samples, p=noise_V), float(counts_VxV.sum()))

    def objective(self, scores_VxV: np.ndarray, k: int) -> float:
        terms = log_sigmoid(scores_VxV[self.words_S, self.contexts_S]) + k * log_sigmoid(-scores_VxV[self.words_S, self.noise_S])
        return float(-self.pairs * terms.mean())


def exact_objective(scores_VxV: np.ndarray, counts_VxV: np.ndarray, k: int, noise_V: np.ndarray) -> float:
    """ℓ summed over every cell, a row block at a time."""
    from jaxembed.theory.sgns_objective import negative_counts
    total, block = 0.0, 512
    for start in range(0, len(counts_VxV), block):
        rows = slice(start, start + block)
        counts, scores = counts_VxV[rows], scores_VxV[rows]
        negatives = negative_counts(counts, k, noise_V)
        total -= float(np.sum(counts * log_sigmoid(scores) + negatives * log_sigmoid(-scores)))
    return total


def table_part(cfg: TheoryConfig) -> dict:
    """Levy & Goldberg (2014) Table 1: % deviation from ℓ* of SPPMI, SVD of SPPMI (W = U√Σ, C = V√Σ) and SGNS
    training, each exact (every cell summed) and estimated as the paper did (ObjectiveSample)."""
    from jaxembed.config import Word2VecConfig
    from jaxembed.fit import fit
    from jaxembed.models import word2vec
    from jaxembed.theory.pmi import pair_counts, shifted_pmi
    from jaxembed.theory.sgns_objective import deviation_percent, optimal_objective
    base = Word2VecConfig(window=cfg.table_window, sample=0.0, shrink_windows=False, min_count=cfg.table_min_count,
                          noise_power=cfg.table_noise_power, epochs=cfg.table_epochs, shuffle=cfg.table_shuffle,
                          seed=cfg.seed)
    prepared = word2vec.read_corpus(cfg.corpus, base)
    counts = pair_counts(np.asarray(prepared.ids_N[:len(prepared.ids_N)]), prepared.sentence_ends_S,
                         len(prepared.vocab), cfg.table_window)
    noise = prepared.vocab.counts.astype(np.float64) ** cfg.table_noise_power
    noise /= noise.sum()
    sample = ObjectiveSample.draw(counts, noise, cfg.table_samples, cfg.seed)
    observed = counts > 0
    cells = []

    def add(k, method, dim, scores, optimum, sampled_optimum, **extra):
        cells.append({"k": k, "method": method, "dim": dim, **extra,
                      "deviation_percent": deviation_percent(exact_objective(scores, counts, k, noise), optimum),
                      "sampled_deviation_percent": deviation_percent(sample.objective(scores, k), sampled_optimum)})
        c = cells[-1]
        print(f"  k={k} {method} d={dim}: exact {c['deviation_percent']:.3f}%, sampled {c['sampled_deviation_percent']:.3f}% "
              f"(paper {c['paper_percent']})", flush=True)

    for k in TABLE_NEGATIVES:
        paper = {key: values[TABLE_NEGATIVES.index(k)] for key, values in PAPER_TABLE.items()}
        spmi = shifted_pmi(counts, k, noise)
        optimum, sampled_optimum = optimal_objective(counts, k, noise), sample.objective(spmi, k)
        sppmi = np.maximum(np.nan_to_num(spmi, neginf=0.0), 0.0)
        unseen_share = unobserved_share(sppmi, counts, k, noise, optimum, observed)
        add(k, "SPPMI", None, sppmi, optimum, sampled_optimum, paper_percent=paper["SPPMI", None],
            unobserved_share=unseen_share)
        start = time.perf_counter()
        u, s, vt = np.linalg.svd(sppmi)
        print(f"  k={k}: SVD of the {len(s)} x {len(s)} SPPMI in {time.perf_counter() - start:.0f} s", flush=True)
        for dim in cfg.table_dims:
            add(k, "SVD", dim, (u[:, :dim] * s[:dim]) @ vt[:dim], optimum, sampled_optimum, paper_percent=paper.get(("SVD", dim)))
        del u, s, vt
        for dim in cfg.table_dims:
            result = fit(cfg.corpus, base.replace(dim=dim, negative=k), progress=False)
            scores = np.asarray(result.state.syn0_VxD, np.float64) @ np.asarray(result.state.syn1_RxD, np.float64).T
            add(k, "SGNS", dim, scores, optimum, sampled_optimum, paper_percent=paper.get(("SGNS", dim)),
                train_seconds=result.metrics["train_seconds"])
    return {"corpus_words": prepared.raw_words, "training_words": int(len(prepared.ids_N)), "vocab": len(prepared.vocab),
            "pairs": float(counts.sum()), "observed_fraction": float(observed.mean()), "samples": cfg.table_samples,
            "cells": cells, "table": format_table(cells, cfg.table_dims)}


def unobserved_share(sppmi_VxV: np.ndarray, counts_VxV: np.ndarray, k: int, noise_V: np.ndarray, optimum: float,
                     observed_VxV: np.ndarray) -> float:
    """The part of SPPMI's excess ℓ − ℓ* due to the pairs never observed (there SPPMI = 0 where the optimum is −∞,
    adding k #w P_n(c) log 2 each)."""
    from jaxembed.theory.sgns_objective import negative_counts
    excess = exact_objective(sppmi_VxV, counts_VxV, k, noise_V) - optimum
    unseen = float(np.sum(negative_counts(counts_VxV, k, noise_V)[~observed_VxV]) * np.log(2.0))
    return unseen / excess if excess > 0 else float("nan")


def format_table(cells: list[dict], dims: tuple[int, ...]) -> str:
    """Markdown in the paper's layout (one row per k), each cell "ours exact / ours sampled (paper)"."""
    columns = [("SPPMI", None)] + [("SVD", d) for d in dims] + [("SGNS", d) for d in dims]
    lines = ["| k | " + " | ".join(m if d is None else f"{m} d={d}" for m, d in columns) + " |",
             "|---|" + "---|" * len(columns)]
    shown = lambda v: f"{v:.2g}%" if abs(v) < 0.01 else f"{v:.1f}%" if abs(v) >= 100 else f"{v:.2f}%"
    for k in TABLE_NEGATIVES:
        row = []
        for method, dim in columns:
            c = next(c for c in cells if (c["k"], c["method"], c["dim"]) == (k, method, dim))
            paper = "" if c["paper_percent"] is None else f" ({shown(c['paper_percent'])})"
            row.append(f"{shown(c['deviation_percent'])} / {shown(c['sampled_deviation_percent'])}{paper}")
        lines.append(f"| {k} | " + " | ".join(row) + " |")
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

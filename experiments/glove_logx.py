"""GloVe fits log X: with full-rank vectors (d = V), w·w̃ + b + b̃ → log X_ij on the nonzeros.

    python experiments/glove_logx.py --corpus ../shared/data/pdcorpus.txt.gz

pdcorpus restricted to its 1000 most frequent words, GloVe's counts (window 10, weight 1/d,
symmetric), the library's own GloVe trainer (Adagrad, GloVe C's update) with d = V. Reports the
f(X)-weighted RMSE of the fit per epoch (from the training loss, ½ Σ f e², as the epoch runs) and,
at the end, the weighted RMSE and max |error| over every nonzero and over the pairs with X ≥ x_max
(weight 1). Expected: the weighted RMSE falls steadily towards 0. Writes
experiments/results/glove_logx.json and .png.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

from paths import PDCORPUS, RESULTS_DIR


def fit_errors(params_RxE: np.ndarray, rows_N, cols_N, x_N, vocab_size: int, x_max: float, weight_exponent: float) -> dict:
    """Residuals e = w·w̃ + b + b̃ − log X of the fitted parameters, weighted by f(X)."""
    w, wc = params_RxE[:vocab_size], params_RxE[vocab_size:]
    e = np.einsum("nd,nd->n", w[rows_N, :-1], wc[cols_N, :-1]) + w[rows_N, -1] + wc[cols_N, -1] - np.log(x_N)
    f = np.minimum(1.0, (x_N / x_max) ** weight_exponent)
    full = x_N >= x_max
    return {"weighted_rmse": float(np.sqrt(np.sum(f * e ** 2) / np.sum(f))), "max_abs_error": float(np.abs(e).max()),
            "weighted_rmse_x_ge_xmax": float(np.sqrt(np.mean(e[full] ** 2))), "max_abs_error_x_ge_xmax": float(np.abs(e[full]).max()),
            "pairs_x_ge_xmax": int(full.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--vocab", type=int, default=1000)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--x-max", type=float, default=10.0)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from jaxembed.config import GloveConfig
    from jaxembed.data.cooccur import count_cooccurrences
    from jaxembed.fit import train_model
    from jaxembed.models import glove
    from jaxembed.optim.sparse import adagrad_rows
    from jaxembed.parallel import data_mesh
    config = GloveConfig(dim=args.vocab, window=args.window, x_max=args.x_max, epochs=args.epochs, min_count=1,
                         max_vocab_size=args.vocab, seed=args.seed)
    mesh = data_mesh(config.devices)
    prepared = glove.read_corpus(args.corpus, config)
    cooc = count_cooccurrences(prepared.ids_N, prepared.sentence_ends_S, args.vocab, args.window)
    state, position = train_model(glove.counts_model(cooc, config, mesh.size), config, mesh)
    x = cooc.values_N.astype(np.float64)
    weight_sum = float(np.sum(np.minimum(1.0, (x / config.x_max) ** config.weight_exponent)))
    curve = [float(np.sqrt(2.0 * loss * len(cooc) / weight_sum)) for loss in position.epoch_losses]
    params = np.asarray(adagrad_rows().params(state.table_Rx2E), np.float64)
    final = fit_errors(params, cooc.rows_N, cooc.cols_N, x, args.vocab, config.x_max, config.weight_exponent)
    report = {"settings": vars(args), "nonzeros": len(cooc), "dim": args.vocab, "epoch_seconds": position.epoch_seconds,
              "weighted_rmse_per_epoch": curve, "final": final}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "glove_logx.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({k: report[k] for k in ("nonzeros", "final")}, indent=1))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(range(1, len(curve) + 1), curve, "o-", ms=3)
    ax.set(xlabel="epoch", ylabel="f(X)-weighted RMSE of w·w̃ + b + b̃ − log X",
           title=f"GloVe, d = V = {args.vocab}, {len(cooc):,} nonzeros")
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS_DIR, "glove_logx.png"), dpi=110)


if __name__ == "__main__":
    main()

"""Why SGNS in file order misses SPMI on pdcorpus: the explanations other than corpus order, each measured.

    python experiments/sgns_order_diagnosis.py            # about 4 min on 2 cores

The setting of experiments/sgns_spmi.py part (b): pdcorpus's 1,000 most frequent words, fixed window 5,
k = 5, no subsampling, d = 100, 5 epochs, the corpus read in file order.
1. sampling: one epoch's (context, centre) pairs against the counts #(w, c), and its noise draws per
   (w, c) against their expectation k (#w − #(w, c)) P_n(c) (draws equal to the centre are skipped)
   as z-scores over the pairs with # >= 100;
2. micro-batching: Pearson r(w·c, SPMI) over # >= t for 8, 64 (the default) and 512 pairs per micro-batch
   (a run that diverges is recorded as such);
3. stationarity: at the trained vectors (64 pairs), the gradient of the expected objective per pair
   event on each output row, |Σ_w r_wc w| / Σ_w (#(w,c) + n_wc), its median and largest rows (with
   their pair events per epoch, Σ_w (#(w,c) + n_wc), and norms).
Writes experiments/results/sgns_order_diagnosis.json.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

from paths import PDCORPUS, RESULTS_DIR
from sgns_spmi import count_statistics, restricted_counts

VOCAB, WINDOW, NEGATIVE, DIM, EPOCHS = 1000, 5, 5, 100, 5


def base_config(**overrides):
    from jaxembed.config import Word2VecConfig
    return Word2VecConfig(window=WINDOW, negative=NEGATIVE, sample=0.0, shrink_windows=False, min_count=1,
                          max_vocab_size=VOCAB, dim=DIM, epochs=EPOCHS, seed=1, **overrides).resolved()


def epoch_event_counts(prepared, config) -> tuple[np.ndarray, np.ndarray]:
    """(V, V) positives and kept noise draws of epoch 0, as (context row, output column)."""
    from jaxembed.data.sampling import noise_table
    from jaxembed.data.windows import Sampling
    from jaxembed.data.word2vec_examples import example_blocks
    size = len(prepared.vocab)
    positives, negatives = np.zeros(size * size), np.zeros(size * size)
    sampling = Sampling(np.ones(size), noise_table(prepared.vocab.counts), config.window, config.negative, shrink_windows=False)
    for block in example_blocks(prepared.ids_N, prepared.sentence_ends_S, sampling, windows=False,
                                batch_size=config.batch_size, batches=config.batches_per_call, seed=config.seed, epoch=0):
        real = block.hidden_mask_MxPxC[..., 0]
        hidden, outputs = block.hidden_MxPxC[..., 0][real].astype(np.int64), block.outputs_MxP[real]
        noise = block.negatives_MxPxK[real]
        positives += np.bincount(hidden * size + outputs, minlength=size * size)
        kept = noise != outputs[:, None]
        negatives += np.bincount((hidden[:, None] * size + noise)[kept], minlength=size * size)
    return positives.reshape(size, size), negatives.reshape(size, size)


def sampling_check(prepared, counts_VxV, noise_V, config) -> dict:
    positives, negatives = epoch_event_counts(prepared, config)
    expected = config.negative * (counts_VxV.sum(axis=1)[:, None] - counts_VxV) * noise_V[None, :]
    frequent = counts_VxV >= 100
    z = (negatives - expected)[frequent] / np.sqrt(expected[frequent])
    return {"max_abs_positives_minus_counts": float(np.abs(positives - counts_VxV).max()),
            "noise_z_mean": float(z.mean()), "noise_z_std": float(z.std()), "noise_z_max_abs": float(np.abs(z).max()),
            "pairs": int(frequent.sum())}


def output_row_gradients(syn0_VxD, syn1_VxD, counts_VxV, noise_V, words, k: int, top: int = 8) -> dict:
    """Per pair event, the gradient of the expected objective (`theory.sgns_objective`, by jax.grad,
    in float64) on each output row: |∂ℓ/∂c| / Σ_w (#(w,c) + n_wc), n_wc = k #w P_n(c)."""
    import jax
    from jaxembed.theory.sgns_objective import expected_sgns_objective, negative_counts
    with jax.enable_x64(True):
        grad_C = np.asarray(jax.grad(expected_sgns_objective, argnums=1)(
            syn0_VxD.astype(np.float64), syn1_VxD.astype(np.float64), counts_VxV, k, noise_V / noise_V.sum()))
    events_V = (counts_VxV + negative_counts(counts_VxV, k, noise_V)).sum(axis=0)
    per_event = np.linalg.norm(grad_C, axis=1) / events_V
    largest = np.argsort(-per_event)[:top]
    return {"median": float(np.median(per_event)),
            "largest": [{"word": words[i], "per_event": float(per_event[i]), "events_per_epoch": float(events_V[i]),
                         "norm": float(np.linalg.norm(syn1_VxD[i].astype(np.float64)))} for i in largest]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 64, 512])
    args = parser.parse_args()
    from jaxembed.errors import TrainingDiverged
    from jaxembed.theory.pmi import shifted_pmi, smoothed_noise
    from jaxembed.fit import fit
    prepared, counts = restricted_counts(args.corpus, VOCAB, WINDOW)
    noise = smoothed_noise(prepared.vocab.counts)
    target, observed = shifted_pmi(counts, NEGATIVE, noise), counts > 0
    result = {"setting": {"vocab": VOCAB, "window": WINDOW, "negative": NEGATIVE, "dim": DIM, "epochs": EPOCHS},
              "sampling": sampling_check(prepared, counts, noise, base_config())}
    print("sampling:", result["sampling"], flush=True)
    result["batch_sizes"] = []
    for batch_size in args.batch_sizes:
        try:
            state = fit(args.corpus, base_config(batch_size=batch_size), progress=False).state
        except TrainingDiverged as e:
            result["batch_sizes"].append({"batch_size": batch_size, "diverged": str(e)})
            print(f"batch {batch_size}: {e}", flush=True)
            continue
        syn0, syn1 = np.asarray(state.syn0_VxD), np.asarray(state.syn1_RxD)
        scores = (syn0.astype(np.float64) @ syn1.astype(np.float64).T)[observed]
        stats = count_statistics(counts[observed], scores, target[observed])
        result["batch_sizes"].append({"batch_size": batch_size, "pairs_at_least": stats})
        print(f"batch {batch_size}: " + ", ".join(f"#>={b['min_count']}: r={b['pearson']:.3f}" for b in stats), flush=True)
        if batch_size == base_config().batch_size:
            result["output_row_gradients"] = output_row_gradients(syn0, syn1, counts, noise, prepared.vocab.strings, NEGATIVE)
            print("output-row gradient per event:", result["output_row_gradients"], flush=True)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(os.path.join(RESULTS_DIR, "sgns_order_diagnosis.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

"""Where a CPU epoch goes: the host's example blocks against the jitted step, per word2vec model or fastText.

    python experiments/profile_cpu.py --corpus ../shared/data/pdcorpus.txt.gz --models sgns sg-hs cbow fasttext
    python experiments/profile_cpu.py --models sgns cbow sg-hs --batch-size 16384 --replay 8 --tag _b16384

For each model at its defaults, one epoch is run three ways on the machine it runs on:
- host: the epoch's blocks made and dropped (the numpy producer alone);
- step: the jitted step on the first `--replay` blocks, made beforehand and replayed until the epoch's
  number of blocks (the XLA step alone, with no producer beside it);
- both: made and stepped in turn, each step waited for (the sum, without overlap);
and `fit`'s own epoch time at the model's defaults (producer and dispatch overlapped, as training runs, with
its default replicas: `fit_replicas`). fastText runs at the benchmark's sample 1e-3. `--batch-size` sets the
examples per micro-batch (with its defaults: the count-aware update from 1,024 up, one replica). Adds its rows to
experiments/results/profile_cpu<tag>.json, replacing those of the same models.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import jax

from paths import PDCORPUS, RESULTS_DIR, cpu_name


def profile(corpus: str, model_name: str, replay: int, batch_size: int | None = None) -> dict:
    from jaxembed.config import FastTextConfig, Word2VecConfig
    from jaxembed.fit import fit, make_step
    from jaxembed.models import fasttext, word2vec
    from jaxembed.parallel import data_mesh
    plugin = fasttext if model_name == "fasttext" else word2vec
    config = (FastTextConfig(sample=1e-3, epochs=1, batch_size=batch_size) if plugin is fasttext else
              Word2VecConfig(model=model_name, epochs=1, batch_size=batch_size)).resolved()
    prepared = plugin.read_corpus(corpus, config)
    model = plugin.build(prepared, config, 1)
    step = make_step(model, data_mesh(1))
    start = time.perf_counter()
    blocks = 0
    for _ in model.blocks(0, 0):
        blocks += 1
    host = time.perf_counter() - start
    kept = []
    for block in model.blocks(0, 0):
        kept.append(block.arrays)
        if len(kept) == replay:
            break
    state = model.init()
    state, loss = step(state, *kept[0])  # compile
    jax.block_until_ready(loss)
    start = time.perf_counter()
    for index in range(blocks):
        state, loss = step(state, *kept[index % len(kept)])
    jax.block_until_ready(loss)
    step_seconds = time.perf_counter() - start
    state, both = model.init(), 0.0
    start = time.perf_counter()
    for block in model.blocks(0, 0):
        state, loss = step(state, *block.arrays)
        jax.block_until_ready(loss)
    both = time.perf_counter() - start
    overlapped = fit(corpus, config, progress=False).metrics["epoch_seconds"][0]
    result = {"model": model_name, "blocks": blocks, "host_seconds": host, "step_seconds": step_seconds,
              "serial_seconds": both, "fit_epoch_seconds": overlapped, "fit_replicas": config.replicas,
              "pairs_or_windows_per_block": config.batch_size * config.batches_per_call}
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=PDCORPUS)
    parser.add_argument("--models", nargs="+", default=["sgns", "sg-hs"])
    parser.add_argument("--replay", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=None, help="examples per micro-batch (default: the model's)")
    parser.add_argument("--tag", default="", help="suffix of the result file's name (profile_cpu<tag>.json)")
    args = parser.parse_args()
    path = os.path.join(RESULTS_DIR, f"profile_cpu{args.tag}.json")
    earlier = json.load(open(path))["runs"] if os.path.exists(path) else []
    runs = [profile(args.corpus, m, args.replay, args.batch_size) for m in args.models]
    runs += [r for r in earlier if r["model"] not in args.models]  # other models' rows stay
    out = {"cpu": cpu_name(), "cores": os.cpu_count(), "jax": jax.__version__, "runs": runs}
    os.makedirs(RESULTS_DIR, exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

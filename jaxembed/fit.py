"""The training driver, written once for every model: read the corpus → build the model (its plug-in,
jaxembed.models) → mesh and data-parallel step → init or resume → epoch loop → vectors, files and metrics.

    result = fit("corpus.txt.gz", Word2VecConfig(model="cbow"))
    result.vectors.most_similar("king")
    result.save("run/")          # vectors.txt, metrics.json and the model's own files, as `jaxembed train` writes them

With `checkpoint_dir`, a checkpoint is written there every `checkpoint_every` seconds (0: only on
SIGINT/SIGTERM) and `resume=True` continues the run saved there, ending bit for bit where an
uninterrupted run ends (jaxembed.checkpoint).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from typing import Any

import jax

from jaxembed.checkpoint import Position, start_run
from jaxembed.config import CHECKPOINT_SECONDS, Config
from jaxembed.data.corpus import PreparedCorpus
from jaxembed.io.atomic import atomic_open
from jaxembed.io.word2vec import save_word2vec
from jaxembed.loop import EpochLoop, calls_in_flight, run_epochs
from jaxembed.models import plugin
from jaxembed.models.base import Model
from jaxembed.parallel import data_mesh, make_data_parallel_step
from jaxembed.vectors import Vectors


@dataclasses.dataclass
class TrainResult:
    """The vectors, the metrics written to metrics.json, the final training state (the model's tables and
    optimiser state), and the model's own files by name (fastText: `model.bin`), each a function writing
    it to a path."""

    vectors: Vectors
    metrics: dict
    state: Any
    files: dict[str, Callable[[str], None]]

    def save(self, directory: str | os.PathLike, binary: bool = False) -> list[str]:
        """Write the run's outputs into `directory`, each atomically: vectors.txt (word2vec text), with `binary`
        vectors.bin (word2vec binary), the model's own files, then metrics.json; returns their paths."""
        directory = os.fspath(directory)
        writers = {"vectors.txt": lambda path: save_word2vec(path, self.vectors)}
        if binary:
            writers["vectors.bin"] = lambda path: save_word2vec(path, self.vectors, binary=True)
        writers.update(self.files)
        writers["metrics.json"] = lambda path: write_json(path, self.metrics)
        os.makedirs(directory, exist_ok=True)
        paths = []
        for name, write in writers.items():
            paths.append(os.path.join(directory, name))
            write(paths[-1])
        return paths


def write_json(path: str, data: dict) -> None:
    with atomic_open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def make_step(model: Model, mesh: jax.sharding.Mesh):
    """The model's jitted data-parallel step over `mesh`: `(state, *block.arrays) -> (state, loss_sum)`."""
    return make_data_parallel_step(model.row_updates, model.apply_updates, mesh, model.layout, generate=model.generate)


def train_model(model: Model, config: Config, mesh: jax.sharding.Mesh | None = None, progress: bool = False,
                checkpoint_dir: str | os.PathLike | None = None, checkpoint_every: float = CHECKPOINT_SECONDS,
                resume: bool = False, corpus_record: dict | None = None) -> tuple[Any, Position]:
    """Train a built model for `config.epochs` (from its checkpoint when resuming): (final state, position).
    `mesh`: the devices the model was built for (default: `config.devices` of them); `corpus_record`: what
    the checkpoint records to recognise the corpus, besides the model's own record."""
    config = config.resolved()
    mesh = mesh or data_mesh(config.devices)
    state, position, checkpointer = start_run(model.init(), config, {**(corpus_record or {}), **model.corpus_record},
                                              checkpoint_dir, checkpoint_every, resume)
    loop = EpochLoop(step=make_step(model, mesh), blocks=model.blocks, epochs=config.epochs,
                     units_per_epoch=model.units_per_epoch, unit=model.unit, desc=config.model,
                     calls_in_flight=calls_in_flight(mesh))
    return run_epochs(loop, state, position, checkpointer, progress)


def corpus_summary(path: str | os.PathLike, prepared: PreparedCorpus) -> dict:
    """What a checkpoint records to recognise its corpus on resume."""
    return {"path": os.path.abspath(path), "corpus_words": prepared.raw_words, "training_words": len(prepared.ids_N),
            "vocab_size": len(prepared.vocab)}


def fit(corpus: str | os.PathLike, config: Config, progress: bool = True, checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: float = CHECKPOINT_SECONDS, resume: bool = False) -> TrainResult:
    """Train `config.model` on the corpus file (text8-style or one sentence per line, gzip ok); see the module docstring."""
    start_time = time.perf_counter()
    config = config.resolved()
    mesh = data_mesh(config.devices)
    family = plugin(config)
    prepared = family.read_corpus(corpus, config)
    model = family.build(prepared, config, mesh.size)
    state, position = train_model(model, config, mesh, progress, checkpoint_dir, checkpoint_every, resume,
                                  corpus_summary(corpus, prepared))
    outputs = model.outputs(state)
    seconds = time.perf_counter() - start_time
    metrics = {
        "model": config.model,
        "corpus": os.fspath(corpus),
        "corpus_words": prepared.raw_words,
        "training_words": int(len(prepared.ids_N)),
        "vocab_size": len(prepared.vocab),
        "epochs": config.epochs,
        **model.metrics,
        "examples": position.total_examples,
        "train_seconds": seconds,
        "words_per_second": prepared.raw_words * config.epochs / seconds,
        "loss": position.epoch_losses[-1],
        "epoch_losses": position.epoch_losses,
        "epoch_seconds": position.epoch_seconds,
        "config": dataclasses.asdict(config),
        "backend": jax.default_backend(),
        "devices": mesh.size,
    }
    return TrainResult(outputs.vectors, metrics, state, outputs.files)

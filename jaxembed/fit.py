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

import contextlib
import dataclasses
import functools
import json
import os
import time
from collections.abc import Callable
from typing import Any

import jax

from jaxembed import replicas, rundir
from jaxembed.checkpoint import Checkpointer, Position, checkpoint_path, remove_checkpoint, start_run
from jaxembed.config import CHECKPOINT_SECONDS, COUNT_MODELS, Config, ModelConfig, Word2VecConfig, reserve_cpu_devices
from jaxembed.data.corpus import Corpus, PreparedCorpus
from jaxembed.data.sources import corpus_files, is_sentences, spooled_sentences
from jaxembed.errors import ConfigError, InputFileError, JaxembedError, OutputFileError, TrainingInterrupted
from jaxembed.interrupts import handling_interrupts
from jaxembed.io.atomic import atomic_open
from jaxembed.io.files import file_path
from jaxembed.io.sparse import save_sparse
from jaxembed.io.word2vec import save_word2vec
from jaxembed.loop import EpochLoop, calls_in_flight, run_epochs
from jaxembed.models import plugin
from jaxembed.models.base import Model
from jaxembed.parallel import data_mesh, make_data_parallel_step
from jaxembed.vectors import SparseVectors, Vectors


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
        """Write the run's outputs into `directory`, each atomically: vectors.txt (word2vec text; sparse vectors:
        vectors.npz, io.sparse), with `binary` vectors.bin (word2vec binary), the model's own files, then
        metrics.json; returns their paths."""
        directory = os.fspath(directory)
        if isinstance(self.vectors, SparseVectors):
            writers = {"vectors.npz": lambda path: save_sparse(path, self.vectors)}
        else:
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
    """The model's jitted step over `mesh`: `(state, *block.arrays) -> (state, loss_sum)`, data-parallel, or one
    round of the replicas on a replica mesh (jaxembed.replicas)."""
    if replicas.REPLICA in mesh.axis_names:
        return replicas.make_replica_step(model.row_updates, model.apply_updates, mesh, model.layout)
    return make_data_parallel_step(model.row_updates, model.apply_updates, mesh, model.layout, generate=model.generate)


def train_model(model: Model, config: Config, mesh: jax.sharding.Mesh | None = None, progress: bool = False,
                checkpoint_dir: str | os.PathLike | None = None, checkpoint_every: float = CHECKPOINT_SECONDS,
                resume: bool = False, corpus_record: dict | None = None) -> tuple[Any, Position]:
    """Train a built model for `config.epochs` (from its checkpoint when resuming): (final state, position).
    `mesh`: the devices the model was built for (default: `config.devices` of them); `corpus_record`: what
    the checkpoint records to recognise the corpus, besides the model's own record. With `config.replicas` > 1
    the replicas train on the CPU devices (jaxembed.replicas), and the state returned is their merged state."""
    config = config.resolved()
    record = {**(corpus_record or {}), **model.corpus_record}
    loop = functools.partial(EpochLoop, epochs=config.epochs, units_per_epoch=model.units_per_epoch, unit=model.unit,
                             desc=config.model)
    if config.replicas > 1:
        devices = replicas.replica_mesh(config.replicas)
        initial = model.init()
        replicas.check_memory(initial, config.replicas)
        state, position, checkpointer = start_run(replicas.stacked(initial, config.replicas), config, record,
                                                  checkpoint_dir, checkpoint_every, resume)
        touched = (replicas.TouchedRows(model.touched_rows, config.merge_every, state.anchor) if model.touched_rows
                   else None)
        rounds = loop(step=make_step(model, devices),
                      blocks=replicas.rounds(model.blocks, config.replicas, model.layout, touched),
                      merge=replicas.make_merge(devices, config.merge_rule, touched), merge_every=config.merge_every)
        state, position = run_epochs(rounds, replicas.placed(state, devices), position, checkpointer, progress)
        return state.anchor, position
    mesh = mesh or data_mesh(config.devices)
    state, position, checkpointer = start_run(model.init(), config, record, checkpoint_dir, checkpoint_every, resume)
    blocks = loop(step=make_step(model, mesh), blocks=model.blocks, calls_in_flight=calls_in_flight(mesh))
    return run_epochs(blocks, state, position, checkpointer, progress)


SENTENCES = "<sentences>"
"""How metrics and checkpoints name a corpus given as sentences from Python."""


def corpus_label(corpus: Corpus) -> str | list[str]:
    """A corpus as metrics.json and checkpoints record it: its absolute path(s), or SENTENCES."""
    if corpus == SENTENCES:
        return corpus
    return [os.path.abspath(f) for f in corpus] if isinstance(corpus, tuple) else os.path.abspath(corpus)


def corpus_summary(path: Corpus, prepared: PreparedCorpus) -> dict:
    """What a checkpoint records to recognise its corpus on resume."""
    return {"path": corpus_label(path), "corpus_words": prepared.raw_words, "training_words": len(prepared.ids_N),
            "vocab_size": len(prepared.vocab), "fingerprint": prepared.fingerprint}


def fit(corpus: Any, config: Config | None = None, progress: bool = True,
        checkpoint_dir: str | os.PathLike | None = None, checkpoint_every: float = CHECKPOINT_SECONDS,
        resume: bool = False, save_to: str | os.PathLike | None = None, binary: bool = False,
        on_saved: Callable[[], None] | None = None) -> TrainResult:
    """Train `config.model` (default: Word2VecConfig(), skip-gram with negative sampling) on the corpus; see the
    module docstring. The corpus: a text file (text8-style or one sentence per line, gzip ok), several files, a
    directory, glob patterns, or an iterable of sentences (lists of str tokens, as gensim's `sentences`), read
    once (data.sources).

    With `save_to`, the outputs are written there (`TrainResult.save`, `binary` as there) before returning,
    then `on_saved()` is called (`jaxembed train` records the run as finished), then the checkpoint in
    `checkpoint_dir` is removed. SIGINT/SIGTERM: while the corpus is read, they stop at once; while
    training, at the next block, after a checkpoint; from the end of training until all that is done,
    the first one lets it finish and a second one stops it, leaving a checkpoint of the finished training
    from which `resume` writes the outputs. A failed write leaves that checkpoint too. A checkpoint
    directory is locked against other processes for the run (jaxembed.rundir).

    The count models (ppmi, svd) have no training loop: they are computed in closed form (models.count),
    stop at once on a signal until their outputs are written, and write no checkpoint.
    """
    start_time = time.perf_counter()
    reserve_cpu_devices()
    config = checked_arguments(config, checkpoint_dir, save_to, binary)
    files = None if is_sentences(corpus) else corpus_files(corpus)
    with rundir.locked(checkpoint_dir) if checkpoint_dir is not None else contextlib.nullcontext(), \
            handling_interrupts() as interrupts:
        family = plugin(config)
        with contextlib.nullcontext(files) if files is not None else spooled_sentences(corpus) as source:
            try:
                prepared = family.read_corpus(source, config)
            except InputFileError as e:  # name the sentences, not their temporary file
                if files is not None:
                    raise
                raise InputFileError(str(e).replace(f"corpus {source!r}", "the corpus of sentences")) from None
        corpus = files if files is not None else SENTENCES
        outputs = OutputPlan(save_to, binary, on_saved, checkpoint_dir, interrupts)
        if config.model in COUNT_MODELS:
            solution = family.solve(prepared, config)
            interrupts.check()
            with interrupts.deferring():
                return outputs.written(lambda: solved_result(solution, config, prepared, corpus, start_time),
                                       lambda: "nothing is kept: a new run computes the model again from the corpus")
        mesh = data_mesh(config.devices)
        model = family.build(prepared, config, mesh.size)
        corpus_record = corpus_summary(corpus, prepared)
        interrupts.check()
        with interrupts.deferring():
            state, position = train_model(model, config, mesh, progress, checkpoint_dir, checkpoint_every, resume,
                                          corpus_record)
            return outputs.written(
                lambda: trained_result(model, state, position, config, mesh, prepared, corpus, start_time),
                lambda: keep_finished_training(state, position, config, {**corpus_record, **model.corpus_record},
                                               checkpoint_dir))


@dataclasses.dataclass(frozen=True)
class OutputPlan:
    """Where and how `fit` writes a finished run's outputs (its arguments of the same names)."""

    save_to: str | os.PathLike | None
    binary: bool
    on_saved: Callable[[], None] | None
    checkpoint_dir: str | os.PathLike | None
    interrupts: Any

    def written(self, result_of_run: Callable[[], TrainResult], keep: Callable[[], str]) -> TrainResult:
        """The run's result, written to `save_to` (then `on_saved()`, then the checkpoint removed). When that fails
        or is interrupted, `keep()` saves what it can and says where, for the error raised."""
        try:
            result = result_of_run()
            if self.save_to is not None:
                result.save(self.save_to, binary=self.binary)
                if self.on_saved is not None:
                    self.on_saved()
                if self.checkpoint_dir is not None:
                    remove_checkpoint(self.checkpoint_dir)
            return result
        except BaseException as e:
            with self.interrupts.blocked():
                where = keep()
            if isinstance(e, KeyboardInterrupt):
                raise TrainingInterrupted(f"interrupted by {self.interrupts.name} while writing the outputs; {where}") from None
            if isinstance(e, (JaxembedError, OSError)):
                raise OutputFileError(f"{e}; {where}") from e
            raise


def corpus_metrics(config: Config, prepared: PreparedCorpus, corpus: Corpus) -> dict:
    """The first entries of every model's metrics.json: the model and what it read."""
    return {"model": config.model, "corpus": corpus_label(corpus), "corpus_words": prepared.raw_words,
            "training_words": int(len(prepared.ids_N)), "vocab_size": len(prepared.vocab)}


def solved_result(solution: Any, config: Config, prepared: PreparedCorpus, corpus: Corpus,
                  start_time: float) -> TrainResult:
    """The vectors, metrics and files of a count model (models.count.Solution)."""
    seconds = time.perf_counter() - start_time
    metrics = {
        **corpus_metrics(config, prepared, corpus),
        **solution.metrics,
        "train_seconds": seconds,
        "words_per_second": prepared.raw_words / seconds,
        "config": dataclasses.asdict(config),
    }
    return TrainResult(solution.outputs.vectors, metrics, solution.state, solution.outputs.files)


def checked_arguments(config: Any, checkpoint_dir: Any, save_to: Any, binary: Any) -> Config:
    """The resolved config of fit's arguments; ConfigError naming any argument of the wrong type."""
    config = Word2VecConfig() if config is None else config
    if not isinstance(config, ModelConfig):
        raise ConfigError(f"config must be a Word2VecConfig, GloveConfig, FastTextConfig, PpmiConfig or SvdConfig, "
                          f"got {type(config).__name__}")
    if binary and config.model == "ppmi":
        raise ConfigError("binary: the ppmi model writes its sparse rows as vectors.npz, not word2vec files")
    for name, path in (("checkpoint_dir", checkpoint_dir), ("save_to", save_to)):
        if path is not None:
            file_path(path, name)
    return config.resolved()


def keep_finished_training(state: Any, position: Position, config: Config, corpus_record: dict,
                           checkpoint_dir: str | os.PathLike | None) -> str:
    """Checkpoint a run whose training finished but whose outputs are not all written; says where, for messages."""
    if checkpoint_dir is None:
        return "no checkpoint written"
    if config.replicas > 1:  # as training saves it: every replica, each equal to the merged state at the end
        state = replicas.stacked(state, config.replicas)
    Checkpointer(checkpoint_dir, 0, config, corpus_record).save(state, position)
    return (f"the finished training is saved in {checkpoint_path(checkpoint_dir)}; write the outputs with: "
            f"jaxembed train --resume {os.fspath(checkpoint_dir)}")


def trained_result(model: Model, state: Any, position: Position, config: Config, mesh: jax.sharding.Mesh,
                   prepared: PreparedCorpus, corpus: Corpus, start_time: float) -> TrainResult:
    """The vectors, metrics and files of a finished training."""
    outputs = model.outputs(state)
    seconds = time.perf_counter() - start_time
    metrics = {
        **corpus_metrics(config, prepared, corpus),
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
        **({"replica_devices": replicas.replica_device_count(config.replicas)} if config.replicas > 1 else {}),
    }
    return TrainResult(outputs.vectors, metrics, state, outputs.files)

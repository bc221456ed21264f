"""Training checkpoints: the state tables, the position in the run and the config, in one file written atomically.

`DIR/checkpoint.msgpack` (flax.serialization msgpack) holds
    config:   the training config, resolved (dataclasses.asdict), so `--resume DIR` needs nothing else;
    corpus:   path, corpus_words, training_words, vocab_size, fingerprint (a hash of the corpus bytes), and
              the model's own record (GloVe: nonzeros), checked on resume;
    position: epoch, block (blocks finished in that epoch), the loss sum and example count of the epoch
              so far, the losses and wall times of finished epochs, and all examples so far;
    state:    every array of the training state (tables, optimiser state).
Training is deterministic given the seed (word2vec and fastText: one numpy RNG stream per (seed, epoch,
chunk); GloVe: one permutation per (seed, epoch)), so the tables plus the position are the whole state:
resuming regenerates the epoch's blocks, skips those already trained, and ends bit for bit where an
uninterrupted run ends. Writes go to a temporary file that is fsynced and renamed over the old one,
so a crash at any moment leaves the previous checkpoint intact.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import time
from typing import Any

import flax.serialization
import jax
import jax.numpy as jnp
import msgpack
import numpy as np

from jaxembed.config import make_config
from jaxembed.errors import ConfigError, InputFileError, TrainingDiverged
from jaxembed.io.atomic import atomic_open

CHECKPOINT_NAME = "checkpoint.msgpack"
FORMAT_VERSION = 4


@dataclasses.dataclass
class Position:
    """Where a run is: `block` blocks of epoch `epoch` are trained; loss_sum/examples cover them."""

    epoch: int = 0
    block: int = 0
    loss_sum: float = 0.0
    examples: int = 0
    epoch_losses: list[float] = dataclasses.field(default_factory=list)
    epoch_seconds: list[float] = dataclasses.field(default_factory=list)
    total_examples: int = 0

    def finish_epoch(self, seconds: float) -> None:
        """Record the epoch's mean loss per example and wall time; move to the start of the next epoch."""
        self.epoch_losses.append(self.loss_sum / max(self.examples, 1))
        self.epoch_seconds.append(seconds)
        self.total_examples += self.examples
        self.epoch, self.block, self.loss_sum, self.examples = self.epoch + 1, 0, 0.0, 0


def checkpoint_path(directory: str | os.PathLike) -> str:
    return os.path.join(os.fspath(directory), CHECKPOINT_NAME)


def host_state(state: Any) -> dict:
    """The state's arrays as a nested dict of numpy arrays (one device-to-host copy)."""
    return {k: (host_state(v) if isinstance(v, dict) else np.asarray(v))
            for k, v in flax.serialization.to_state_dict(state).items()}


def all_finite(arrays: dict) -> bool:
    return all(all_finite(a) if isinstance(a, dict) else bool(np.isfinite(a).all()) for a in arrays.values())


def save_checkpoint(directory: str | os.PathLike, arrays: dict, position: Position, config: Any, corpus: dict) -> None:
    """Write the checkpoint atomically (temporary file, fsync, rename)."""
    payload = {"version": FORMAT_VERSION, "config": dataclasses.asdict(config), "corpus": corpus,
               "position": dataclasses.asdict(position), "state": arrays}
    with atomic_open(checkpoint_path(directory), "wb") as f:
        f.write(flax.serialization.msgpack_serialize(payload))


def load_checkpoint(directory: str | os.PathLike) -> dict:
    """The checkpoint in `directory` as a dict (module docstring); a clear error when missing or corrupt."""
    path = checkpoint_path(directory)
    if not os.path.isfile(path):
        raise InputFileError(f"no checkpoint to resume in {os.fspath(directory)!r} ({path} does not exist: "
                             "the run finished, or never wrote one)")
    try:
        with open(path, "rb") as f:
            payload = flax.serialization.msgpack_restore(f.read())
    except OSError as e:
        raise InputFileError(f"checkpoint {path!r} cannot be read: {e.strerror or e}") from e
    except (ValueError, TypeError, msgpack.UnpackException) as e:
        raise InputFileError(f"checkpoint {path!r} is corrupt: {e}") from e
    keys = {"version", "config", "corpus", "position", "state"}
    if not isinstance(payload, dict) or not keys <= set(payload):
        raise InputFileError(f"checkpoint {path!r} is not a jaxembed checkpoint")
    if payload["version"] != FORMAT_VERSION:
        raise InputFileError(f"checkpoint {path!r} has format version {payload['version']}, this jaxembed reads "
                             f"version {FORMAT_VERSION}: finish that run with the jaxembed that started it, or delete "
                             "the file and train again")
    return payload


def checkpoint_config(directory: str | os.PathLike) -> tuple[Any, str]:
    """(config, corpus path) saved in the checkpoint of `directory`."""
    payload = load_checkpoint(directory)
    return make_config(payload["config"], source=f"checkpoint {checkpoint_path(directory)!r}"), payload["corpus"]["path"]


def restore_state(template: Any, arrays: dict, path: str) -> Any:
    """`template` (a state pytree) with the saved arrays, which must match its shapes and dtypes."""
    expected = host_state(template)
    try:
        flat_expected, flat_saved = flatten(expected), flatten(arrays)
    except AttributeError as e:
        raise InputFileError(f"checkpoint {path!r} holds a state of another shape") from e
    for key, want in flat_expected.items():
        got = flat_saved.get(key)
        if got is None or got.shape != want.shape or got.dtype != want.dtype:
            found = "missing" if got is None else f"{got.dtype}{list(got.shape)}"
            raise InputFileError(f"checkpoint {path!r}: {key} is {found}, this run needs {want.dtype}{list(want.shape)}")
    return jax.tree.map(jnp.asarray, flax.serialization.from_state_dict(template, arrays))


def flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    out = {}
    for k, v in tree.items():
        out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k: v})
    return out


class Checkpointer:
    """Writes checkpoints of one run to `directory`: every `every_seconds` (0: only when asked, e.g.
    on Ctrl-C), never with NaN/inf tables (raises TrainingDiverged instead, keeping the last good one)."""

    def __init__(self, directory: str | os.PathLike, every_seconds: float, config: Any, corpus: dict):
        if every_seconds < 0:
            raise ConfigError(f"checkpoint_every must be >= 0 seconds, got {every_seconds}")
        self.directory, self.every_seconds, self.config, self.corpus = os.fspath(directory), every_seconds, config, corpus
        self.last_time = time.monotonic()
        self.saved: Position | None = None

    def due(self) -> bool:
        return self.every_seconds > 0 and time.monotonic() - self.last_time >= self.every_seconds

    def save(self, state: Any, position: Position) -> None:
        arrays = host_state(state)
        if not all_finite(arrays):
            raise TrainingDiverged(f"training diverged: the parameters hold NaN or inf at epoch {position.epoch + 1}, "
                                   f"block {position.block}; {self.kept()}")
        save_checkpoint(self.directory, arrays, position, self.config, self.corpus)
        self.saved, self.last_time = copy.deepcopy(position), time.monotonic()

    def kept(self) -> str:
        """Which checkpoint a failure leaves in place, for error messages."""
        if self.saved is None:
            return f"no checkpoint was written to {self.directory!r}"
        return (f"the last good checkpoint ({checkpoint_path(self.directory)}, epoch {self.saved.epoch + 1}, "
                f"block {self.saved.block}) is kept")


def check_no_checkpoint(directory: str | os.PathLike) -> None:
    """A fresh run must not overwrite the checkpoint of an unfinished one."""
    if os.path.exists(checkpoint_path(directory)):
        raise ConfigError(f"{os.fspath(directory)!r} holds the checkpoint of an unfinished run ({checkpoint_path(directory)}): "
                          f"resume it (jaxembed train --resume {os.fspath(directory)}) or delete the file")


def start_run(state: Any, config: Any, corpus: dict, directory: str | os.PathLike | None, every_seconds: float,
              resume: bool) -> tuple[Any, Position, Checkpointer | None]:
    """(state, position, checkpointer) to train from: a fresh run, or the checkpoint in `directory` when resuming.

    A fresh run refuses a directory that holds an unfinished run's checkpoint; a resumed run needs
    the same config and the same corpus (its word counts, vocabulary size and content fingerprint) as the
    checkpoint.
    """
    if directory is None:
        if resume:
            raise ConfigError("resume needs the checkpoint directory")
        return state, Position(), None
    checkpointer = Checkpointer(directory, every_seconds, config, corpus)
    path = checkpoint_path(directory)
    if not resume:
        check_no_checkpoint(directory)
        return state, Position(), checkpointer
    payload = load_checkpoint(directory)
    saved_config = make_config(payload["config"], source=f"checkpoint {path!r}")
    if saved_config != config:
        raise ConfigError(f"checkpoint {path!r} was written with another config: {saved_config} (this run: {config})")
    changed = {k: (payload["corpus"].get(k), v) for k, v in corpus.items() if k != "path" and payload["corpus"].get(k) != v}
    if changed:
        detail = ", ".join("its content differs (fingerprint)" if k == "fingerprint" else f"{k} {old} -> {new}"
                           for k, (old, new) in changed.items())
        raise InputFileError(f"corpus {corpus.get('path')!r} is not the one checkpoint {path!r} was trained on ({detail})")
    try:
        position = Position(**payload["position"])
    except TypeError as e:
        raise InputFileError(f"checkpoint {path!r} has a malformed position: {e}") from e
    checkpointer.saved = position
    return restore_state(state, payload["state"], path), position, checkpointer


def remove_checkpoint(directory: str | os.PathLike) -> None:
    """Delete the checkpoint of a finished run (its vectors are written)."""
    if os.path.exists(checkpoint_path(directory)):
        os.remove(checkpoint_path(directory))

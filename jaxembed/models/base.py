"""What every model plug-in gives the training driver (jaxembed.fit).

A plug-in is a module (models.word2vec, models.glove, models.fasttext), one per family of
jaxembed.config.FAMILIES, taking that family's config, with

    read_corpus(path, config) -> PreparedCorpus the corpus read by the model's rules (sentence cuts, `</s>`)
    build(corpus, config, devices) -> Model     the model bound to this corpus, config (resolved there) and
                                                device count

and the `Model` it builds holds everything the driver calls:

    init() -> state                           a fresh state pytree: the tables with their optimiser state
    blocks(epoch, skip) -> Iterator[Block]    the epoch's inputs, one Block per jitted call, after the first `skip`
    row_updates, apply_updates, layout        the two halves of the data-parallel step (jaxembed.parallel)
    generate                                  None, or the device-side example generator (parallel.Generator):
                                              its blocks then carry chunks of token ids, and the step makes the
                                              examples itself
    outputs(state) -> Outputs                 the vectors, and any other file the model writes
    unit, units_per_epoch                     what the progress bar counts
    corpus_record, metrics                    what a checkpoint checks on resume, and what metrics.json adds
    touched_rows                              None, or per leaf of the state (jax.tree.leaves order) a function
                                              giving the ids of the rows a block's arrays can change, or None
                                              where any row can: replicas then merge only those rows of a table

A closed-form plug-in (models.count: ppmi, svd) gives `read_corpus` and `solve(corpus, config) -> Solution`
(its outputs, state and metrics) instead of `build`; the driver then runs no epoch loop.

A new model is one plug-in module and its tests; the driver, the loop, checkpoints and the data-parallel
step do not change.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import jax
import numpy as np

from jaxembed.data.device_examples import token_chunks
from jaxembed.data.windows import epoch_sentences

from jaxembed.optim.sparse import RowOptimizer
from jaxembed.parallel import ApplyUpdates, FactoredRowUpdate, Generator, RowUpdate, RowUpdates
from jaxembed.vectors import Vectors


@dataclasses.dataclass(frozen=True)
class Block:
    """One jitted call's inputs, laid out as the model's `layout` (or, for a model with `generate`, the chunk
    it generates them from); `examples`: how many examples its loss sum covers (None: the step counts them);
    `done`: the progress units of the whole run finished after it."""

    arrays: tuple
    examples: int | None
    done: int


@dataclasses.dataclass(frozen=True)
class Outputs:
    """What a trained model gives its user: `vectors`, and `files`: extra files by name (fastText's
    `model.bin`), each a function writing it to a path."""

    vectors: Vectors
    files: dict[str, Callable[[str], None]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Model:
    """A model bound to one corpus and config (module docstring)."""

    init: Callable[[], Any]
    blocks: Callable[[int, int], Iterator[Block]]
    row_updates: RowUpdates
    apply_updates: ApplyUpdates
    layout: tuple[str, ...]
    outputs: Callable[[Any], Outputs]
    unit: str
    units_per_epoch: int
    corpus_record: dict = dataclasses.field(default_factory=dict)
    metrics: dict = dataclasses.field(default_factory=dict)
    generate: Generator | None = None
    touched_rows: tuple[Callable[[tuple], np.ndarray] | None, ...] | None = None


def update_tables(state: Any, updates: tuple[RowUpdate | FactoredRowUpdate, ...], optimizer: RowOptimizer,
                  learning_rate) -> Any:
    """The state with each of its tables (its fields, in order) stepped by `optimizer` on its RowUpdate or
    FactoredRowUpdate."""
    tables, treedef = jax.tree.flatten(state)
    return jax.tree.unflatten(treedef, [update_table(table, update, optimizer, learning_rate)
                                        for table, update in zip(tables, updates, strict=True)])


def update_table(table: jax.Array, update: RowUpdate | FactoredRowUpdate, optimizer: RowOptimizer, learning_rate):
    """One table stepped on its update, whole or as factors (`RowOptimizer.update_factored`)."""
    if isinstance(update, FactoredRowUpdate):
        return optimizer.update_factored(table, update.ids_PxT, update.coef_PxCxT, update.rows_PxCxD, learning_rate,
                                        update.terms_PxT, update.chunk)
    return optimizer.update(table, update.ids_N, update.values_NxD, learning_rate, update.terms_N)


def chunk_blocks(ids, sentence_ends_S, *, seed: int, shuffle: bool, chunk_tokens: int,
                 tables: tuple) -> Callable[[int, int], Iterator[Block]]:
    """`Model.blocks` for a model whose examples are made on the device (`generate`): per chunk of the epoch's
    sentences, (ids_T, sentence_T, start, epoch, chunk, *tables) as `data.device_examples.token_chunks` lays it
    out; the step counts the examples."""

    def blocks(epoch: int, skip: int) -> Iterator[Block]:
        epoch_ids, epoch_ends = epoch_sentences(ids, sentence_ends_S, seed, epoch, shuffle)
        chunks = token_chunks(epoch_ids, epoch_ends, chunk_tokens, epoch * len(ids))
        for index, (ids_T, sentence_T, start, done) in itertools.islice(enumerate(chunks), skip, None):
            yield Block((ids_T, sentence_T, start, np.int32(epoch), np.int32(index)) + tables, None, done)

    return blocks

"""Replicas: a CPU's cores train at once, as word2vec's, gensim's and fastText's threads do, but deterministically.

Those tools run one thread per core on shared tables (Hogwild): each thread trains its own part of the corpus,
and every update lands in the shared tables as it is made, in an order set by thread timing. jaxembed runs R
replicas of the model's state instead, replica r on CPU device r mod d (one device per core, config.reserve_cpu_devices):
the epoch's blocks are dealt out in rounds (block i to replica i mod R), each replica takes the model's usual
single-device step on its block, and the R calls of a round run at once. Every `merge_every` rounds, and at the end
of each epoch, the replicas' changes are added to the shared state, as Hogwild's threads add theirs:

    T ← T + Σ_r (X_r − T)   (summed in replica order),   then X_r ← T for every replica r,

with T the state at the previous merge (`ReplicaState.anchor`). Between merges a replica does not see the others'
updates (a staleness of `merge_every` blocks, where Hogwild's is a few updates); at a merge every update lands.
With the `agreement` rule (hierarchical softmax's default), each row's summed change is scaled towards the mean of
the replicas' changes as far as they point the same way (`combined_change`): a row that every replica moved to the
same place (the Huffman tree's top nodes) moves there once, not R times, while rows the replicas changed
independently (a rare word's) still receive every update.
The result depends on the seed, R, `merge_every` and the rule only, never on timing or on how many devices carry
the replicas (with one device they train one after the other, more slowly, to the same bytes), and a checkpoint
holds every replica, so a resumed run continues bit for bit.

Memory: R + 1 copies of the tables (`check_memory` refuses a run they would not fit), and up to R − 1 more on the first
device while merging whole tables. A merge moves every table through memory a few times (tens of milliseconds for
word2vec's two 41k × 100 tables), or only the rows the blocks touched (`TouchedRows`), which `merge_every` amortises.
"""
from __future__ import annotations

import functools
import itertools
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Sequence

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxembed.errors import ConfigError
from jaxembed.models.base import Block
from jaxembed.parallel import AXIS, SHARED, ApplyUpdates, RowUpdates, make_data_parallel_step

REPLICA = "replica"


@flax.struct.dataclass
class ReplicaState:
    """replicas: R copies of the model's state, replica r on CPU device r mod d; anchor: the model's state at the
    last merge, on the first device (each replica equals it right after a merge)."""

    replicas: tuple
    anchor: Any


def replica_mesh(count: int) -> jax.sharding.Mesh:
    """1-D mesh ("replica",) of the `replica_device_count` CPU devices that carry `count` replicas; a warning when
    there are fewer CPU devices than replicas and cores."""
    cpus = jax.devices("cpu")
    if len(cpus) < min(count, os.cpu_count() or 1):
        warnings.warn(f"{count} replicas share {len(cpus)} CPU device(s), as jax started before jaxembed could ask for "
                      "one per core: they train one after the other, to the same vectors, without the speed-up "
                      "(use jaxembed before other jax code, or set jax_num_cpu_devices first)", stacklevel=2)
    return jax.sharding.Mesh(np.asarray(cpus[:replica_device_count(count)]), (REPLICA,))


def replica_device_count(count: int) -> int:
    """How many CPU devices carry `count` replicas: one per replica, as far as the CPU devices and cores allow."""
    return max(1, min(count, len(jax.devices("cpu")), os.cpu_count() or 1))


def replica_devices(mesh: jax.sharding.Mesh, count: int) -> list[jax.Device]:
    """The device of each replica: replica r on device r mod d."""
    devices = list(mesh.devices.flat)
    return [devices[r % len(devices)] for r in range(count)]


def available_memory() -> int | None:
    """Bytes the system can still give without swapping (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            return next((int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:")), None)
    except OSError:
        return None


def check_memory(state: Any, count: int) -> None:
    """Refuse `count` replicas whose copies of `state` (count more, besides the one made already) do not fit in the
    memory available, naming the setting to change, rather than swap or be killed mid-run."""
    table_bytes = sum(leaf.nbytes for leaf in jax.tree.leaves(state))
    available = available_memory()
    if available is not None and count * table_bytes > available:
        raise ConfigError(f"replicas ({count}) keep {count + 1} copies of the model's tables ({table_bytes / 1e9:.2f} GB "
                          f"each), but this machine has {available / 1e9:.2f} GB available: set replicas 1 (--replicas 1), "
                          "or make the tables smaller (dim, bucket)")


def stacked(state: Any, count: int) -> ReplicaState:
    """R copies of a fresh state, with that state as the anchor."""
    return ReplicaState(tuple(state for _ in range(count)), state)


def placed(state: ReplicaState, mesh: jax.sharding.Mesh) -> ReplicaState:
    """The state on its devices, each replica in buffers of its own (the steps donate them)."""
    devices = replica_devices(mesh, len(state.replicas))
    return ReplicaState(tuple(jax.device_put(r, d, may_alias=False) for r, d in zip(state.replicas, devices)),
                        jax.device_put(state.anchor, devices[0]))


def make_replica_step(row_updates: RowUpdates, apply_updates: ApplyUpdates, mesh: jax.sharding.Mesh,
                      layout: Sequence[str]) -> Callable[..., tuple[ReplicaState, tuple]]:
    """`(state, *blocks) -> (state, loss_sums)` for one round: replica r takes the model's single-device step
    (parallel.make_data_parallel_step on a mesh of its one device) on blocks[r]; the calls are dispatched one
    after the other and run at once, one per device. Each replica's loss sum stays on its device (the loop adds
    them when it reads them back; moving one would wait for its call). No exchange between replicas: that is
    `make_merge`."""
    devices = list(mesh.devices.flat)
    steps = {d: make_data_parallel_step(row_updates, apply_updates, jax.sharding.Mesh(np.asarray([d]), (AXIS,)), layout)
             for d in devices}

    def round_step(state: ReplicaState, *blocks: tuple) -> tuple[ReplicaState, tuple[jax.Array, ...]]:
        placement = replica_devices(mesh, len(state.replicas))
        stepped = [steps[d](replica, *arrays) for replica, arrays, d in zip(state.replicas, blocks, placement)]
        return state.replace(replicas=tuple(replica for replica, _ in stepped)), tuple(loss for _, loss in stepped)

    return round_step


def combined_change(changes: list[jax.Array], rule: str) -> jax.Array:
    """The merged change of R replicas' changes Δ_r (R × the leaf's shape; rows along the last axis, single values
    for a leaf of at most one axis). `sum`: S = Σ_r Δ_r, in replica order. `agreement` (floating-point leaves):
    S · (1 − a (1 − 1/R)) per row, with a = clip(mean over pairs r < s of cos(Δ_r, Δ_s), 0, 1): the sum where the
    changes are unrelated or only one replica made one (a = 0), their mean where they agree (a = 1)."""
    total = functools.reduce(jnp.add, changes)
    if rule == "sum" or len(changes) == 1 or not jnp.issubdtype(total.dtype, jnp.floating):
        return total
    rows = [c if c.ndim >= 2 else c[..., None] for c in changes]
    units = [r / jnp.maximum(jnp.linalg.norm(r, axis=-1, keepdims=True), jnp.finfo(r.dtype).tiny) for r in rows]
    cosines = [jnp.sum(units[a] * units[b], axis=-1) for a, b in itertools.combinations(range(len(units)), 2)]
    agreement = jnp.clip(functools.reduce(jnp.add, cosines) / len(cosines), 0.0, 1.0)
    scale = 1.0 - agreement * (1.0 - 1.0 / len(changes))
    return total * (scale[..., None] if total.ndim >= 2 else scale)


MERGE_CHUNK_ROWS = 16384
"""Rows a merge of touched rows moves at a time: 6.5 MB of float32 at dim 100, below glibc's 32 MB limit for memory
taken from the heap, so the pieces reuse memory already mapped instead of faulting in fresh pages (on a 2-core VM, a
merge of 117k rows of fastText's n-gram table took 135-162 ms as one piece, 81-117 ms in pieces)."""


def id_chunks(ids: np.ndarray, rows: int) -> list[np.ndarray]:
    """int32 row ids in pieces of MERGE_CHUNK_ROWS, the last padded with `rows` (out of range: gathers read 0 there,
    scatters drop it), so that every piece has one compiled shape; none for no ids."""
    pieces = -(-len(ids) // MERGE_CHUNK_ROWS)
    padded = np.full(pieces * MERGE_CHUNK_ROWS, rows, np.int32)
    padded[:len(ids)] = ids
    return list(padded.reshape(pieces, MERGE_CHUNK_ROWS))


class TouchedRows:
    """Which rows the blocks since the last merge may have changed, recorded on the host for the tables a model names
    them for (`Model.touched_rows`: per leaf of the state, a function giving the ids of the rows a block's arrays can
    change, or None where any row can). A merge then moves only those rows of such a table: the others are the
    anchor's in every replica. fastText's 2M-row n-gram table is where this pays: a merge there moves ~6% of its rows.
    After a run resumes between two merges, the record lacks the rounds before the resume, and the next merge moves
    every row of those tables, the same way, so that each row is computed as in the uninterrupted run, to the bit."""

    def __init__(self, touched_rows: Sequence[Callable[[tuple], np.ndarray] | None], merge_every: int, state: Any):
        leaves = jax.tree.leaves(state)
        if len(touched_rows) != len(leaves):
            raise ValueError(f"touched_rows names {len(touched_rows)} leaves, the state has {len(leaves)}")
        self.touched_rows, self.merge_every = touched_rows, merge_every
        self.masks = [None if rows is None else np.zeros(leaf.shape[0], bool) for rows, leaf in zip(touched_rows, leaves)]
        self.known = True

    def start(self, skip: int) -> None:
        """An epoch begins `skip` rounds in: the record is complete only where the last merge came right before."""
        self.known = skip % self.merge_every == 0
        for mask in self.masks:
            if mask is not None:
                mask[:] = False

    def add(self, arrays: tuple) -> None:
        """Record one block's rows (its arrays, laid out as the model's `layout`)."""
        for mask, rows in zip(self.masks, self.touched_rows):
            if mask is not None:
                mask[rows(arrays)] = True

    def take(self) -> tuple[list[np.ndarray] | None, ...]:
        """Per leaf: the rows to merge (`id_chunks`; all when the record is incomplete), or None to merge the leaf
        whole; the record restarts."""
        ids = tuple(None if mask is None else
                    id_chunks(np.flatnonzero(mask) if self.known else np.arange(len(mask)), len(mask))
                    for mask in self.masks)
        self.start(0)
        return ids


def make_merge(mesh: jax.sharding.Mesh, rule: str = "sum",
               touched: TouchedRows | None = None) -> Callable[[ReplicaState], ReplicaState]:
    """`state -> state` with the replicas' changes since the last merge combined by `rule` (`combined_change`) and
    added to the anchor, on the first device (module docstring), and every replica reset to the new anchor: the
    replicas there are overwritten in place, the others receive a copy. With `touched`, only the rows it recorded move
    for the tables it names them for: gathered from each replica, merged, and written back into every replica in
    place, MERGE_CHUNK_ROWS at a time."""
    first = mesh.devices.flat[0]
    gather = jax.jit(lambda table, ids: table.at[ids].get(mode="fill", fill_value=0))
    scatter = jax.jit(lambda table, ids, rows: table.at[ids].set(rows, mode="drop"), donate_argnums=0)

    def in_order(resident: tuple, visiting: tuple, on_first: tuple[bool, ...]) -> list:
        resident_in, visiting_in = iter(resident), iter(visiting)
        return [next(resident_in) if here else next(visiting_in) for here in on_first]

    def merged_tables(anchor: tuple, resident: tuple, visiting: tuple, on_first: tuple[bool, ...]):
        merged = jax.tree.map(lambda t, *xs: t + combined_change([x - t for x in xs], rule), anchor,
                              *in_order(resident, visiting, on_first))
        return merged, tuple(merged for _ in resident)

    def merged_rows(anchor: jax.Array, resident: tuple, visiting: tuple, ids: jax.Array, on_first: tuple[bool, ...]):
        """One table's rows `ids` merged (visiting: the other devices' replicas' gathers of them), written into the
        anchor and the replicas on the first device; returns them too, for the other devices."""
        base = anchor.at[ids].get(mode="fill", fill_value=0)
        copies = [gather(x, ids) if here else x for x, here in zip(in_order(resident, visiting, on_first), on_first)]
        rows = base + combined_change([x - base for x in copies], rule)
        return anchor.at[ids].set(rows, mode="drop"), tuple(x.at[ids].set(rows, mode="drop") for x in resident), rows

    tables_on_first = jax.jit(merged_tables, static_argnums=3, donate_argnums=(0, 1))  # in place: anchor, resident
    rows_on_first = jax.jit(merged_rows, static_argnums=4, donate_argnums=(0, 1))

    def merged(state: ReplicaState) -> ReplicaState:
        devices = replica_devices(mesh, len(state.replicas))
        on_first = tuple(d == first for d in devices)
        anchor, treedef = jax.tree.flatten(state.anchor)
        replicas = [jax.tree.leaves(r) for r in state.replicas]
        ids = touched.take() if touched else (None,) * len(anchor)

        whole = [leaf for leaf, chunks in enumerate(ids) if chunks is None]
        if whole:
            pick = lambda leaves: tuple(leaves[leaf] for leaf in whole)
            resident = tuple(pick(x) for x, here in zip(replicas, on_first) if here)
            visiting = jax.device_put(tuple(pick(x) for x, here in zip(replicas, on_first) if not here), first)
            merged_whole, copies = tables_on_first(pick(anchor), resident, visiting, on_first)
            copies = iter(copies)
            for x, d, here in zip(replicas, devices, on_first):
                for leaf, table in zip(whole, next(copies) if here else jax.device_put(merged_whole, d)):
                    x[leaf] = table
            for leaf, table in zip(whole, merged_whole):
                anchor[leaf] = table

        for leaf, chunks in enumerate(ids):
            for chunk in chunks or ():
                on = {d: jax.device_put(chunk, d) for d in {first, *devices}}
                resident = tuple(x[leaf] for x, here in zip(replicas, on_first) if here)
                visiting = jax.device_put(tuple(gather(x[leaf], on[d])
                                                for x, d, here in zip(replicas, devices, on_first) if not here), first)
                anchor[leaf], copies, rows = rows_on_first(anchor[leaf], resident, visiting, on[first], on_first)
                copies = iter(copies)
                for x, d, here in zip(replicas, devices, on_first):
                    x[leaf] = next(copies) if here else scatter(x[leaf], on[d], jax.device_put(rows, d))
        return ReplicaState(tuple(jax.tree.unflatten(treedef, x) for x in replicas), jax.tree.unflatten(treedef, anchor))

    return merged


def rounds(blocks: Callable[[int, int], Iterator[Block]], count: int, layout: Sequence[str],
           touched: TouchedRows | None = None) -> Callable[[int, int], Iterator[Block]]:
    """`Model.blocks` in rounds of R consecutive blocks, one per replica (Block.arrays: the R blocks' arrays), the
    epoch's last round filled with empty blocks (all-zero inputs, which hold no examples; SHARED inputs as they
    are); `skip` counts rounds. `touched` records each block's rows as its round is formed."""

    def empty(arrays: tuple) -> tuple:
        return tuple(x if kind == SHARED else np.zeros_like(x) for x, kind in zip(arrays, layout))

    def epoch_rounds(epoch: int, skip: int) -> Iterator[Block]:
        source = blocks(epoch, skip * count)
        if touched:
            touched.start(skip)
        while group := list(itertools.islice(source, count)):
            for block in group if touched else ():
                touched.add(block.arrays)
            arrays = [b.arrays for b in group] + [empty(group[0].arrays)] * (count - len(group))
            yield Block(tuple(arrays), sum(b.examples for b in group), max(b.done for b in group))

    return epoch_rounds

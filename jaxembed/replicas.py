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

Memory: R + 1 copies of the tables, and up to R − 1 more on the first device while merging. A merge moves every table
through memory a few times (tens of milliseconds for word2vec's two 41k × 100 tables), which `merge_every`
amortises.
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


def make_merge(mesh: jax.sharding.Mesh, rule: str = "sum") -> Callable[[ReplicaState], ReplicaState]:
    """`state -> state` with the replicas' changes since the last merge combined by `rule` (`combined_change`) and
    added to the anchor, on the first device (module docstring), and every replica reset to the new anchor: the
    replicas there are overwritten in place, the others receive a copy."""
    first = mesh.devices.flat[0]

    def merged_tables(anchor, resident: tuple, visiting: tuple, on_first: tuple[bool, ...]):
        resident_in, visiting_in = iter(resident), iter(visiting)
        in_order = [next(resident_in) if here else next(visiting_in) for here in on_first]
        merged = jax.tree.map(lambda t, *xs: t + combined_change([x - t for x in xs], rule), anchor, *in_order)
        return merged, tuple(merged for _ in resident)

    merged_on_first = jax.jit(merged_tables, static_argnums=3, donate_argnums=(0, 1))  # in place: anchor, resident

    def merged(state: ReplicaState) -> ReplicaState:
        devices = replica_devices(mesh, len(state.replicas))
        on_first = tuple(d == first for d in devices)
        resident = tuple(r for r, here in zip(state.replicas, on_first) if here)
        visiting = jax.device_put(tuple(r for r, here in zip(state.replicas, on_first) if not here), first)
        anchor, copies = merged_on_first(state.anchor, resident, visiting, on_first)
        copies = iter(copies)
        return ReplicaState(tuple(next(copies) if here else jax.device_put(anchor, d)
                                  for here, d in zip(on_first, devices)), anchor)

    return merged


def rounds(blocks: Callable[[int, int], Iterator[Block]], count: int,
           layout: Sequence[str]) -> Callable[[int, int], Iterator[Block]]:
    """`Model.blocks` in rounds of R consecutive blocks, one per replica (Block.arrays: the R blocks' arrays), the
    epoch's last round filled with empty blocks (all-zero inputs, which hold no examples; SHARED inputs as they
    are); `skip` counts rounds."""

    def empty(arrays: tuple) -> tuple:
        return tuple(x if kind == SHARED else np.zeros_like(x) for x, kind in zip(arrays, layout))

    def epoch_rounds(epoch: int, skip: int) -> Iterator[Block]:
        source = blocks(epoch, skip * count)
        while group := list(itertools.islice(source, count)):
            arrays = [b.arrays for b in group] + [empty(group[0].arrays)] * (count - len(group))
            yield Block(tuple(arrays), sum(b.examples for b in group), max(b.done for b in group))

    return epoch_rounds

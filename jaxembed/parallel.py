"""Data-parallel training over a 1-D `'data'` mesh: one step for every model, sparse update exchange.

Each micro-batch of P examples is split over the N devices of the mesh (P/N each, in order). Every
device holds the full (replicated) tables and runs, inside `jax.shard_map` (or `jax.pmap`):

    (a) updates_d, loss_d = row_updates(state, batch_d)             ids + row gradients of its shard
    (b) updates = all_gather(updates_d, tiled=True)                 [updates_0; ...; updates_{N−1}]
                                                                     (all leaves packed in one collective)
    (c) state   = apply_updates(state, updates, batch_d)             the same update on every replica

so the exchange costs O(rows touched · D) per micro-batch, never a dense V×D all-reduce, and the
replicas stay identical. With example-major updates, (b) reproduces exactly the update arrays a
single device computes for the whole micro-batch, so N devices equal 1 device up to float
rounding; on 1 device the all-gather is the identity and the step is the single-device step.

How a model plugs in (jaxembed.models): two pure functions, its static settings bound with functools.partial,

    row_updates(state, batch) -> (updates, loss_sum)
        state:   the model's state pytree (tables with their optimiser state), replicated;
        batch:   one micro-batch: its inputs as `layout` describes them (below);
        updates: any pytree of arrays whose axis 0 is example-major over the shard (e.g.
                 `RowUpdate(ids_N, grads_NxD)` per table, N = shard examples × rows per example, or
                 `FactoredRowUpdate`, whose leaves have the shard's examples on axis 0),
                 so that concatenating the shards in device order gives the global batch's updates;
        loss_sum: this shard's loss sum (the step sums it over devices).
    apply_updates(state, updates, batch) -> state
        applied on every replica to the gathered updates of the whole micro-batch (the optimiser step;
        non-linear optimisers such as Adagrad merge duplicate ids here, so every replica merges the
        same global set); it reads only the inputs that are the same on every device.

and a layout, one entry per block input:

    EXAMPLES     (M, P, ...): scanned over the M micro-batches, split over devices along the P examples;
    MICRO_BATCH  (M, ...):    scanned, whole on every device (e.g. the learning-rate position);
    SHARED       (...):       whole on every device and the same for every micro-batch (e.g. Huffman paths).

Rules: differentiate with respect to gathered rows (device-local values), never a replicated table
— inside `shard_map` the gradient of a replicated input is already summed over devices, and a
further psum or exchange would count it N times (tests/test_parallel.py shows the pitfall).

    step = make_data_parallel_step(row_updates, apply_updates, data_mesh(4), layout)
    state, loss_sum = step(state, *block_inputs)

`make_pmap_step` builds the same step with `jax.pmap` (state stacked per device: `replicate`).
`models.word2vec`, `models.glove` and `models.fasttext` are the worked examples; fastText shows the
case where an example owns a variable number of rows: each micro-batch joins one packed part per
device (data.fasttext_examples.group_parts), so every shard holds whole examples.

X: the step takes one
chunk of token ids, replicated; every device makes the same examples from it with jax.random
(`generator.chunk`), then a while loop runs the ⌈count / P⌉ micro-batches that hold examples, each
built by `generator.batch` (noise words drawn then) and split over the devices as above. The step
returns [loss_sum, examples (or pairs)], the count being known only on the device.

Very large tables (fastText's 2M bucket rows) can instead be sharded by rows: `shard_rows` places
row block d on device d, `gather_sharded_rows` reads the rows of each device's ids (masked local
reads of all devices' ids + psum_scatter) and `add_sharded_rows` applies the gathered updates to
the rows a device owns. A model calls them in its two functions for that table (in place of its
optimiser's `rows` and `update`; row SGD only, as written) and passes `state_spec` with P('data') for it.

Beyond one host: call `initialize_multihost` (jax.distributed.initialize) in every process before
any other jax call; `jax.devices()` then lists every process's devices and the same mesh code runs
unchanged, each process feeding the same global blocks.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import flax
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from jaxembed.errors import ConfigError

AXIS = "data"
EXAMPLES, MICRO_BATCH, SHARED = "examples", "micro_batch", "shared"
"""How a block input is laid out (module docstring)."""

RowUpdates = Callable[[Any, tuple], tuple[Any, jax.Array]]
ApplyUpdates = Callable[[Any, Any, tuple], Any]


class RowUpdate(NamedTuple):
    """Updates for one table: ids_N and values_NxD, the gradient of each id's row (duplicates allowed);
    terms_N: how many per-example gradients each value sums (None: one for every nonzero value), which
    the count-aware update counts (optim.sparse.sgd_rows)."""

    ids_N: jax.Array
    values_NxD: jax.Array
    terms_N: jax.Array | None = None


@flax.struct.dataclass
class FactoredRowUpdate:
    """Updates for the rows ids_PxT of one table, given as factors: row ids_PxT[p, t] receives the gradient
    Σ_c coef_PxCxT[p, c, t] · rows_PxCxD[p, c] (a logistic output row's: its coefficients times the example's hidden
    rows, losses.logistic). The optimiser forms these values a chunk of examples at a time as it adds them
    (optim.sparse), so a large micro-batch never holds all P·T·D of them, and the exchange moves the factors,
    T + C·(T + D) words an example instead of T·D. terms_PxT: as RowUpdate's (None: one per nonzero coefficient).
    chunk (static): the examples per chunk in which a chunked step made the factors (0: made whole); the optimiser
    adds them in the same chunks, so each chunk's factors pass from one loop to the next as they lie, uncopied."""

    ids_PxT: jax.Array
    coef_PxCxT: jax.Array
    rows_PxCxD: jax.Array
    terms_PxT: jax.Array | None = None
    chunk: int = flax.struct.field(pytree_node=False, default=0)


def device_count(devices: int | None) -> int:
    """The number of devices to use: `devices`, or when None all of them, but one CPU in a single process (its
    cores serve jaxembed.replicas instead); ConfigError if out of range."""
    available = jax.device_count()
    one_cpu = jax.default_backend() == "cpu" and jax.process_count() == 1
    n = (1 if one_cpu else available) if devices is None else devices
    if not 1 <= n <= available:
        raise ConfigError(f"devices must be between 1 and the {available} available {jax.default_backend()} "
                          f"device(s), got {devices}")
    return n


def data_mesh(devices: int | None = None) -> jax.sharding.Mesh:
    """1-D mesh ('data',) over the first `devices` devices (all when None)."""
    n = device_count(devices)
    return jax.make_mesh((n,), (AXIS,), axis_types=(jax.sharding.AxisType.Auto,), devices=jax.devices()[:n])


def sharded_batch_size(batch_size: int, devices: int) -> int:
    """Micro-batch size rounded up to a multiple of the device count: ⌈P/N⌉·N (each device gets ⌈P/N⌉)."""
    return -(-batch_size // devices) * devices


def gather_updates(updates: Any, axis_name: str = AXIS) -> Any:
    """Concatenate every device's updates along axis 0, in device order (the sparse exchange).

    All leaves travel in one all-gather: 32-bit leaves are bitcast to uint32 and packed into one
    vector per device (one collective per micro-batch instead of one per array). On one device
    this is the identity, written out: XLA:CPU keeps a 1-device all-gather as a runtime collective,
    which costs a third of a word2vec step.
    """
    n = jax.lax.axis_size(axis_name)
    if n == 1:
        return updates
    leaves, treedef = jax.tree.flatten(updates)
    if any(jnp.dtype(x.dtype).itemsize != 4 for x in leaves):
        return jax.tree.map(lambda x: jax.lax.all_gather(x, axis_name, tiled=True), updates)
    words = [jax.lax.bitcast_convert_type(x, jnp.uint32).reshape(-1) for x in leaves]
    packed_nxS = jax.lax.all_gather(jnp.concatenate(words), axis_name)
    offsets = np.cumsum([0] + [w.shape[0] for w in words])
    gathered = [jax.lax.bitcast_convert_type(packed_nxS[:, start:stop].reshape((n * x.shape[0],) + x.shape[1:]), x.dtype)
                for x, start, stop in zip(leaves, offsets[:-1], offsets[1:])]
    return jax.tree.unflatten(treedef, gathered)


def data_parallel_microbatch(row_updates: RowUpdates, apply_updates: ApplyUpdates, axis_name: str = AXIS):
    """`(state, batch) -> (state, this device's loss_sum)` for one micro-batch; run under shard_map or pmap."""

    def micro(state, batch):
        updates, loss_sum = row_updates(state, batch)
        return apply_updates(state, gather_updates(updates, axis_name), batch), loss_sum

    return micro


def check_layout(layout: Sequence[str]) -> None:
    unknown = set(layout) - {EXAMPLES, MICRO_BATCH, SHARED}
    if unknown:
        raise ValueError(f"layout entries must be {EXAMPLES!r}, {MICRO_BATCH!r} or {SHARED!r}, got {sorted(unknown)}")


def scan_block(row_updates: RowUpdates, apply_updates: ApplyUpdates, layout: Sequence[str], axis_name: str = AXIS):
    """`(state, *inputs) -> (state, loss_sum)`: lax.scan of the data-parallel micro-batch over the M
    micro-batches of the scanned inputs (SHARED ones are seen whole by every micro-batch), then one psum
    of the block's loss (the identity on one device)."""
    micro = data_parallel_microbatch(row_updates, apply_updates, axis_name)
    scanned = [kind != SHARED for kind in layout]

    def block(state, *inputs):
        shared = [x for x, s in zip(inputs, scanned) if not s]

        def one(state, sliced):
            parts, rest = iter(sliced), iter(shared)
            return micro(state, tuple(next(parts) if s else next(rest) for s in scanned))

        state, losses_M = jax.lax.scan(one, state, tuple(x for x, s in zip(inputs, scanned) if s))
        return state, total(jnp.sum(losses_M), axis_name)

    return block


def total(x: jax.Array, axis_name: str = AXIS) -> jax.Array:
    """psum over the devices (written out as the identity on one device)."""
    return x if jax.lax.axis_size(axis_name) == 1 else jax.lax.psum(x, axis_name)


class Generator(NamedTuple):
    """Examples made on the device from a chunk of the corpus (data.device_examples):

    chunk(*chunk_arrays) -> (examples, count, reported): the chunk's examples (any pytree), how many there are
        (⌈count / batch_size⌉ micro-batches hold them), and the count its loss sum is reported against (the
        examples, or the pairs when an example holds several);
    batch(examples, i, *chunk_arrays) -> inputs: the whole micro-batch i (`batch_size` examples), laid out
        as the model's layout without its leading M axis.
    """

    chunk: Callable
    batch: Callable
    batch_size: int


def generated_block(generator: Generator, row_updates: RowUpdates, apply_updates: ApplyUpdates, layout: Sequence[str],
                    axis_name: str = AXIS):
    """`(state, *chunk) -> (state, [loss_sum, examples])` for examples made on the device: every device makes
    the same examples from the same replicated chunk, then a while loop runs the micro-batches that hold
    examples (⌈count / P⌉ of them), each device taking its own share of every EXAMPLES input."""
    micro = data_parallel_microbatch(row_updates, apply_updates, axis_name)

    def block(state, *chunk):
        examples, count, reported = generator.chunk(*chunk)

        def body(carry):
            index, state, loss_sum = carry
            inputs = generator.batch(examples, index, *chunk)
            local = tuple(own_share(x, axis_name) if kind == EXAMPLES else x for x, kind in zip(inputs, layout))
            state, loss = micro(state, local)
            return index + 1, state, loss_sum + loss

        batches = (count + generator.batch_size - 1) // generator.batch_size
        _, state, loss_sum = jax.lax.while_loop(lambda carry: carry[0] < batches, body,
                                                (jnp.int32(0), state, jnp.zeros((), jnp.float32)))
        return state, jnp.stack([total(loss_sum, axis_name), reported.astype(jnp.float32)])

    return block


def own_share(x_Px: jax.Array, axis_name: str = AXIS) -> jax.Array:
    """This device's examples [d·P/N, (d+1)·P/N) of a replicated micro-batch input (P, ...)."""
    n = jax.lax.axis_size(axis_name)
    if n == 1:
        return x_Px
    share = x_Px.shape[0] // n
    return jax.lax.dynamic_slice_in_dim(x_Px, jax.lax.axis_index(axis_name) * share, share)


def input_spec(kind: str) -> P:
    """EXAMPLES inputs (M, P, ...) are split over their example axis; the others are replicated."""
    return P(None, AXIS) if kind == EXAMPLES else P()


class SharedInputs:
    """The SHARED inputs of a layout (word2vec's Huffman paths: 10 MB for 41k words) kept where a step reads them,
    replicated on its mesh (`sharding`). They are the same arrays block after block, made on the first device; passed
    as they are, every call would copy them to the step's other devices again. Holds one copy per input, replaced when
    a block brings another array."""

    def __init__(self, layout: Sequence[str], sharding: NamedSharding):
        self.shared = [kind == SHARED for kind in layout]
        self.sharding = sharding
        self.copies: dict[int, tuple[jax.Array, jax.Array]] = {}

    def placed(self, inputs: tuple) -> tuple:
        """`inputs` with each SHARED jax.Array replaced by its copy on the sharding."""
        return tuple(self.copy(index, x) if is_shared and isinstance(x, jax.Array) else x
                     for index, (x, is_shared) in enumerate(zip(inputs, self.shared)))

    def copy(self, index: int, x: jax.Array) -> jax.Array:
        source, placed = self.copies.get(index, (None, None))
        if source is not x:
            source, placed = x, jax.device_put(x, self.sharding)
            self.copies[index] = source, placed
        return placed


UNSPLIT_CPU_PASS = "cpu-parallel-task-assigner"
"""The XLA:CPU pass that a CPU step is compiled without: it would split each large op's outer dimension into tasks
for the intra-op thread pool (a scatter into a table counts as large by its output, the whole table, although it
writes a few hundred rows)."""


def step_compiler_options(devices: Iterable[jax.Device]) -> dict[str, str] | None:
    """XLA options for a training step on `devices`: on CPU devices, UNSPLIT_CPU_PASS disabled; else none (XLA's
    defaults).

    jaxembed keeps a CPU's cores busy with one step per core (replicas or devices), each on one thread; split ops made
    every micro-batch's gathers and scatters wait for tasks on the pool the other steps use, and one replica alone
    (CBOW's default) ran faster unsplit too. The results are the same to the bit (tests/test_parallel.py); the speed,
    experiments/README.md. A compiler option replaces the value XLA_FLAGS gives it, so the passes that XLA_FLAGS
    disables (its last --xla_disable_hlo_passes, as XLA reads them) are named beside UNSPLIT_CPU_PASS."""
    if not all(d.platform == "cpu" for d in devices):
        return None
    key = "xla_disable_hlo_passes"
    flags = os.environ.get("XLA_FLAGS", "").split()
    disabled = [flag.split("=", 1)[1].strip("'\"") for flag in flags if flag.startswith(f"--{key}=")]
    return {key: ",".join(filter(None, [*disabled[-1:], UNSPLIT_CPU_PASS]))}


def make_data_parallel_step(row_updates: RowUpdates, apply_updates: ApplyUpdates, mesh: jax.sharding.Mesh,
                            layout: Sequence[str], state_spec: Any = P(), generate: Generator | None = None):
    """Jitted `(state, *inputs) -> (state, loss_sum)` with `jax.shard_map` over `mesh`; state donated; compiled
    with `step_compiler_options` for its devices.

    layout[i]: how inputs[i] is laid out (module docstring; P must be divisible by the mesh size);
    state_spec: PartitionSpec (prefix) of the state, replicated by default.
    With `generate` (examples made on the device, `generated_block`), the inputs are one chunk's arrays,
    replicated, and the step returns (state, [loss_sum, examples]).
    check_vma is off because all_gather's result is typed device-varying although every replica
    receives the same concatenation, so the replicated tables stay replicated.
    """
    check_layout(layout)
    if generate is None:
        specs = tuple(input_spec(kind) for kind in layout)
        body = scan_block(row_updates, apply_updates, layout)
    else:  # one argument: the tuple of chunk arrays, all replicated
        specs = (P(),)
        block = generated_block(generate, row_updates, apply_updates, layout)
        body = lambda state, chunk: block(state, *chunk)
    body = jax.shard_map(body, mesh=mesh, in_specs=(state_spec, *specs), out_specs=(state_spec, P()), check_vma=False)
    named = lambda spec: NamedSharding(mesh, spec)
    shardings = (jax.tree.map(named, state_spec), *map(named, specs))
    step = jax.jit(body, donate_argnums=0, in_shardings=shardings, compiler_options=step_compiler_options(mesh.devices.flat))
    if jax.process_count() == 1:
        placed_step, shared = step, SharedInputs(layout, named(P())) if generate is None else None
        step = lambda state, *inputs: placed_step(on_sharding(state, shardings[0]),
                                                  *(inputs if shared is None else shared.placed(inputs)))
    if jax.process_count() > 1:  # jit takes only global arrays, built from the host values every process holds
        local_step = step
        step = lambda *args: local_step(*jax.tree.map(to_mesh, shardings, args,
                                                      is_leaf=lambda x: isinstance(x, NamedSharding)))
    return step if generate is None else lambda state, *chunk: step(state, chunk)


def on_sharding(tree: Any, sharding: Any) -> Any:
    """`tree` placed on `sharding` (one sharding, or a prefix tree of them), without a copy where a leaf is there
    already. A step's output state is typed by the step's mesh; a state from elsewhere (init, a checkpoint, a merge of
    replicas) on the same device but typed without the mesh would make jit trace and compile the step a second time."""
    return jax.device_put(tree, sharding)


def to_mesh(sharding: NamedSharding, tree: Any) -> Any:
    """Every leaf as a global jax.Array with `sharding`, each process filling its own devices' parts
    from the same host value (every process holds the whole block or state)."""

    def put(x):
        if isinstance(x, jax.Array) and x.sharding == sharding:
            return x
        host = np.asarray(x)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(put, tree)


def initialize_multihost(coordinator_address: str, num_processes: int, process_id: int) -> None:
    """`jax.distributed.initialize` for one process of a multi-host run (call before any other jax
    use); CPU processes exchange through gloo. Afterwards `data_mesh()` spans every process's devices."""
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                               process_id=process_id)


def serial_calls(mesh: jax.sharding.Mesh) -> bool:
    """Whether a loop must wait for each step call before the next: with several CPU devices.
    XLA:CPU runs the devices of a call on a shared thread pool; with many calls queued, devices of
    different calls can hold every thread while waiting in an all-gather for a device whose task
    cannot start, a deadlock (seen with 4 fake devices on 2 cores). GPUs and TPUs are not affected."""
    return mesh.size > 1 and mesh.devices.flat[0].platform == "cpu"


def split_examples(array_MxPx: np.ndarray, devices: int) -> np.ndarray:
    """(M, P, ...) -> (N, M, P/N, ...): device d gets examples [d·P/N, (d+1)·P/N) of every micro-batch."""
    m, p = array_MxPx.shape[:2]
    return np.moveaxis(np.reshape(array_MxPx, (m, devices, p // devices) + array_MxPx.shape[2:]), 1, 0)


def replicate(tree: Any, devices: Sequence[jax.Device]) -> Any:
    """A copy of `tree` on every device, stacked on a leading device axis (pmap's layout)."""
    sharding = NamedSharding(jax.sharding.Mesh(np.asarray(devices), (AXIS,)), P(AXIS))
    stack = lambda x: jnp.broadcast_to(x, (len(devices),) + jnp.shape(x))
    return jax.device_put(jax.tree.map(stack, tree), sharding)


def unreplicate(tree: Any) -> Any:
    """Device 0's copy of a replicated pmap tree."""
    return jax.tree.map(lambda x: x[0], tree)


def make_pmap_step(row_updates: RowUpdates, apply_updates: ApplyUpdates, devices: Sequence[jax.Device],
                   layout: Sequence[str]):
    """The same step through `jax.pmap`: `(replicated state, *inputs) -> (replicated state, loss_sum)`.

    The state carries a leading device axis (`replicate` / `unreplicate`); inputs are the same global
    blocks as for the shard_map step, EXAMPLES inputs split on the host by `split_examples`. pmap gets
    flat leaves with one in_axis each (every input is one array). In one process, compiled once per tree and
    avals with `step_compiler_options` (jax.pmap itself takes no compiler options); across processes, pmap's own
    compilation, which makes the global arrays from each process's own (XLA's defaults).
    """
    check_layout(layout)
    n, block = len(devices), scan_block(row_updates, apply_updates, layout)
    options = step_compiler_options(devices) if jax.process_count() == 1 else None

    compiled = {}

    def step(state, *inputs):
        split = [split_examples(x, n) if kind == EXAMPLES else x for x, kind in zip(inputs, layout)]
        leaves, treedef = jax.tree.flatten((state, *split))
        key = (treedef, tuple(map(jax.typeof, leaves)))
        if key not in compiled:
            state_leaves = len(jax.tree.leaves(state))
            flat_block = lambda *flat: block(*jax.tree.unflatten(treedef, flat))
            axes = (0,) * state_leaves + tuple(0 if kind == EXAMPLES else None for kind in layout)
            pmapped = jax.pmap(flat_block, axis_name=AXIS, in_axes=axes, devices=devices,
                               donate_argnums=tuple(range(state_leaves)))
            compiled[key] = pmapped if options is None else pmapped.lower(*leaves).compile(options)
        state, losses = compiled[key](*leaves)
        return state, losses[0]

    return step


def shard_rows(table_VxD: jax.Array, mesh: jax.sharding.Mesh) -> jax.Array:
    """Place row block d (V/N rows; V padded with zero rows to a multiple of N) on device d."""
    n = mesh.shape[AXIS]
    pad = -table_VxD.shape[0] % n
    padded = jnp.pad(table_VxD, ((0, pad), (0, 0)))
    return jax.device_put(padded, NamedSharding(mesh, P(AXIS, None)))


def owned_positions(block_rows: int, ids_N: jax.Array, axis_name: str = AXIS) -> tuple[jax.Array, jax.Array]:
    """(local_N, owned_N): each id's position in this device's row block, and whether the block holds it."""
    local_N = ids_N - jax.lax.axis_index(axis_name) * block_rows
    return local_N, (local_N >= 0) & (local_N < block_rows)


def gather_sharded_rows(block_LxD: jax.Array, ids_N: jax.Array, axis_name: str = AXIS) -> jax.Array:
    """Rows table[ids_N] of a row-sharded table for this device's own ids_N.

    The ids of all devices are gathered (N·n); each device reads the ones its block owns (zeros
    elsewhere), and psum_scatter sums these partial reads and hands device d its own N rows:
    rows_d = Σ_e [id ∈ block e] · block_e[id − e·L] over the ids of d. Traffic O(N·n·D), not V×D.
    """
    all_ids = jax.lax.all_gather(ids_N, axis_name, tiled=True)
    local, owned = owned_positions(block_LxD.shape[0], all_ids, axis_name)
    partial = jnp.where(owned[:, None], block_LxD[jnp.clip(local, 0, block_LxD.shape[0] - 1)], 0.0)
    return jax.lax.psum_scatter(partial, axis_name, scatter_dimension=0, tiled=True)


def add_sharded_rows(block_LxD: jax.Array, ids_N: jax.Array, updates_NxD: jax.Array, axis_name: str = AXIS) -> jax.Array:
    """table[ids] += updates restricted to this device's rows (the others are dropped); ids are global."""
    local_N, owned_N = owned_positions(block_LxD.shape[0], ids_N, axis_name)
    return block_LxD.at[jnp.where(owned_N, local_N, block_LxD.shape[0])].add(updates_NxD, mode="drop")

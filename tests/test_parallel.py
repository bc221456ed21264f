"""Data-parallel training on 4 CPU devices (conftest) against the 1-device oracle: the model's own
micro-batch function run sequentially on one device, without shard_map, pmap or collectives."""
from __future__ import annotations

import dataclasses
import functools
import logging
import os
import socket
import subprocess
import sys
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import PartitionSpec as P

from jaxembed import parallel
from jaxembed.cli import main
from jaxembed.config import GloveConfig, Word2VecConfig
from jaxembed.data.fasttext_examples import PackedBlock, group_parts
from jaxembed.data.huffman import build_huffman
from jaxembed.errors import ConfigError
from jaxembed.fit import fit
from jaxembed.models import fasttext, glove, word2vec
from jaxembed.optim import sparse
from jaxembed.optim.sparse import adagrad_rows, sgd_rows
from jaxembed.parallel import AXIS, EXAMPLES, SHARED, RowUpdate

DEVICES = 4
M, P_EXAMPLES, CALLS = 3, 8, 2


@dataclasses.dataclass(frozen=True)
class Case:
    """A model as parallel.py sees it, with test data: init() -> fresh state; blocks: CALLS tuples of step
    inputs laid out as `layout`."""

    init: Callable[[], Any]
    blocks: list[tuple]
    row_updates: Callable
    apply_updates: Callable
    layout: tuple[str, ...]


def word2vec_case(mode: str, context: int, hs: bool, negative: int) -> Case:
    """Few distinct ids (0..3 hidden, 0..4 noise), so every shard touches the same rows."""
    rng = np.random.default_rng(0)
    V, D, lr = 9, 6, 0.2
    tree = build_huffman(np.array([40, 20, 15, 10, 8, 5, 3, 2, 1]))
    offset = V - 1 if hs else 0
    syn0 = rng.normal(size=(V, D)).astype(np.float32)
    syn1 = rng.normal(size=(word2vec.output_rows(V, hs, negative), D)).astype(np.float32)
    paths = word2vec.huffman_paths(tree if hs else None)
    blocks = []
    for _ in range(CALLS):
        mask = rng.random((M, P_EXAMPLES, context)) < 0.7
        mask[:, :, 0] = True
        mask[:, -1] = False  # padding example
        blocks.append((rng.integers(0, 4, (M, P_EXAMPLES, context)).astype(np.int32), mask,
                       rng.integers(0, V, (M, P_EXAMPLES)).astype(np.int32),
                       rng.integers(0, 5, (M, P_EXAMPLES, negative)).astype(np.int32),
                       rng.random(M).astype(np.float32) * 100, *paths))
    optimizer = sgd_rows()
    row_updates = functools.partial(word2vec.row_updates, optimizer=optimizer, hs=hs, ns_offset=offset, mode=mode)
    apply_updates = functools.partial(word2vec.apply_updates, optimizer=optimizer, schedule=lambda n: lr - 1e-3 * n)
    return Case(lambda: word2vec.Word2VecState(jnp.asarray(syn0), jnp.asarray(syn1)), blocks, row_updates, apply_updates,
                word2vec.LAYOUT)


def glove_case() -> Case:
    rng = np.random.default_rng(1)
    V = 6
    config = GloveConfig(dim=5, x_max=4.0, eta=0.3)
    optimizer = adagrad_rows(initial_accumulator_value=1.0)
    blocks = []
    for _ in range(CALLS):
        x = rng.integers(0, 6, (M, P_EXAMPLES)).astype(np.float32)  # zeros are padding
        blocks.append((rng.integers(0, 3, (M, P_EXAMPLES)).astype(np.int32), rng.integers(0, V, (M, P_EXAMPLES)).astype(np.int32), x))
    row_updates = functools.partial(glove.row_updates, optimizer=optimizer, vocab_size=V, x_max=config.x_max,
                                    weight_exponent=config.weight_exponent, eta=config.eta, bias_eta=config.bias_eta,
                                    grad_clip=config.grad_clip)
    init = lambda: glove.GloveState(optimizer.init(glove.init_params(2, V, config.dim)))
    return Case(init, blocks, row_updates, functools.partial(glove.apply_updates, optimizer=optimizer), glove.LAYOUT)


def fasttext_case() -> Case:
    """Each micro-batch joins 4 packed parts (fasttext_examples.group_parts) of 2 examples, 5 bag rows and
    3 pairs; few distinct ids (rows 0..5, targets 0..4), so every shard touches the same rows."""
    rng = np.random.default_rng(2)
    V, R, D, parts, examples, rows, pairs = 7, 12, 5, DEVICES, 2, 5, 3
    optimizer = sgd_rows()
    blocks = []
    for _ in range(CALLS):
        part = PackedBlock(rng.integers(0, 6, (M * parts, rows)).astype(np.int32),
                           np.sort(rng.integers(0, examples, (M * parts, rows)), axis=1).astype(np.int32),
                           rng.random((M * parts, rows)) < 0.8,
                           rng.integers(0, 5, (M * parts, pairs, 4)).astype(np.int32),
                           np.sort(rng.integers(0, examples, (M * parts, pairs)), axis=1).astype(np.int32),
                           rng.random((M * parts, pairs)) < 0.9, (rng.random(M * parts) * 100).astype(np.float32))
        blocks.append(group_parts(part, parts, examples).arrays())
    init = lambda: fasttext.FastTextState(jnp.asarray(rng_table(3, R, D)), jnp.asarray(rng_table(4, V, D)))
    row_updates = functools.partial(fasttext.row_updates, optimizer=optimizer, num_examples=parts * examples)
    apply_updates = functools.partial(fasttext.apply_updates, optimizer=optimizer, schedule=lambda n: 0.3 - 1e-3 * n)
    return Case(init, blocks, row_updates, apply_updates, fasttext.LAYOUT)


def rng_table(seed: int, rows: int, dim: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)


CASES = {  # one entry per model; a new model adds one line
    "sgns": lambda: word2vec_case("each", 1, False, 3),
    "cbow": lambda: word2vec_case("mean", 4, False, 3),
    "sg-hs": lambda: word2vec_case("each", 4, True, 0),
    "cbow-hs": lambda: word2vec_case("mean", 4, True, 0),
    "glove": glove_case,
    "fasttext": fasttext_case,
}


def micro_batches(block: tuple, layout: tuple[str, ...]):
    """The block's micro-batches as the step sees them: scanned inputs sliced at m, shared ones whole."""
    for m in range(M):
        yield tuple(x if kind == SHARED else x[m] for x, kind in zip(block, layout))


def oracle(case: Case):
    """The model's two halves, one micro-batch after another on the default device, without shard_map,
    pmap or collectives: (final state, loss sum)."""

    @jax.jit
    def micro(state, batch):
        updates, loss = case.row_updates(state, batch)
        return case.apply_updates(state, updates, batch), loss

    state, total = case.init(), 0.0
    for block in case.blocks:
        for batch in micro_batches(block, case.layout):
            state, loss = micro(state, batch)
            total += float(loss)
    return state, total


def run_shard_map(case: Case, devices: int):
    step = parallel.make_data_parallel_step(case.row_updates, case.apply_updates, parallel.data_mesh(devices), case.layout)
    state, total = case.init(), 0.0
    for block in case.blocks:
        state, loss = step(state, *block)
        total += float(loss)
    return state, total


def run_pmap(case: Case, devices: int):
    step = parallel.make_pmap_step(case.row_updates, case.apply_updates, jax.devices()[:devices], case.layout)
    state, total = parallel.replicate(case.init(), jax.devices()[:devices]), 0.0
    for block in case.blocks:
        state, loss = step(state, *block)
        total += float(loss)
    replicas = jax.tree.leaves(state)
    for leaf in replicas:  # every replica holds the same tables
        np.testing.assert_array_equal(leaf, np.broadcast_to(leaf[0], leaf.shape))
    return parallel.unreplicate(state), total


def assert_states_close(actual, expected):
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=1e-5, atol=1e-5)


def test_four_cpu_devices_are_configured():
    assert jax.device_count() == DEVICES


@pytest.mark.parametrize("model", sorted(CASES))
@pytest.mark.parametrize("entry,devices", [("shard_map", 4), ("shard_map", 2), ("shard_map", 1), ("pmap", 4)])
def test_data_parallel_equals_one_device(model, entry, devices):
    """N devices on the same global micro-batches == the sequential 1-device steps (tables and loss)."""
    case = CASES[model]()
    expected, expected_loss = oracle(case)
    assert not np.allclose(jax.tree.leaves(expected)[0], jax.tree.leaves(case.init())[0], atol=1e-3)  # the tables moved
    state, loss = (run_shard_map if entry == "shard_map" else run_pmap)(case, devices)
    assert_states_close(state, expected)
    assert loss == pytest.approx(expected_loss, rel=1e-5)


def toy_loss(table_VxD, ids_B, targets_BxD):
    """L = Σ_b ½‖table[ids_b] − target_b‖², so ∂L/∂table[v] = Σ_{b: ids_b = v} (table[v] − target_b)."""
    return 0.5 * jnp.sum((table_VxD[ids_B] - targets_BxD) ** 2)


def toy_row_updates(table_VxD, batch, lr=0.1):
    """SGD deltas −lr·(row − target) per example, from the gathered rows."""
    ids_B, targets_BxD = batch
    rows_BxD = table_VxD[ids_B]
    return RowUpdate(ids_B, -lr * jax.grad(lambda r: 0.5 * jnp.sum((r - targets_BxD) ** 2))(rows_BxD)), toy_loss(table_VxD, ids_B, targets_BxD)


def toy_apply(table_VxD, update, batch):
    return table_VxD.at[update.ids_N].add(update.values_NxD)


def test_duplicate_ids_across_shards_are_counted_once():
    """Every shard updates row 0: the step must equal one dense optax.sgd step on the summed loss
    (summing the gathered deltas twice, or psum-ing them, would move row 0 N times too far)."""
    rng = np.random.default_rng(3)
    table = rng.normal(size=(5, 3)).astype(np.float32)
    ids_1x8 = np.array([[0, 1, 0, 2, 0, 3, 0, 4]], np.int32)  # row 0 in each of the 4 shards
    targets_1x8x3 = rng.normal(size=(1, 8, 3)).astype(np.float32)
    grads = jax.grad(toy_loss)(jnp.asarray(table), ids_1x8[0], targets_1x8x3[0])
    expected = optax.apply_updates(jnp.asarray(table), optax.sgd(0.1).update(grads, optax.sgd(0.1).init(table))[0])
    step = parallel.make_data_parallel_step(toy_row_updates, toy_apply, parallel.data_mesh(DEVICES), (EXAMPLES, EXAMPLES))
    new_table, loss = step(jnp.asarray(table), ids_1x8, targets_1x8x3)
    np.testing.assert_allclose(new_table, expected, rtol=1e-6, atol=1e-6)
    assert float(loss) == pytest.approx(float(toy_loss(table, ids_1x8[0], targets_1x8x3[0])), rel=1e-6)


def test_gradient_of_a_replicated_table_is_already_summed_in_shard_map():
    """The pitfall the sparse exchange avoids: inside shard_map, jax.grad w.r.t. a replicated input
    is already the sum over devices, so an extra psum counts it N times; grad(pmean(loss)) gives
    the mean. row_updates therefore differentiates gathered rows only."""
    rng = np.random.default_rng(4)
    table = jnp.asarray(rng.normal(size=(5, 3)), jnp.float32)
    ids_8, targets_8x3 = jnp.asarray([0, 1, 0, 2, 0, 3, 0, 4]), jnp.asarray(rng.normal(size=(8, 3)), jnp.float32)
    expected = jax.grad(toy_loss)(table, ids_8, targets_8x3)
    mesh = parallel.data_mesh(DEVICES)

    def grads_in_shard_map(f):
        return jax.jit(jax.shard_map(f, mesh=mesh, in_specs=(P(), P(AXIS), P(AXIS)), out_specs=P()))(table, ids_8, targets_8x3)

    local_grad = lambda t, i, x: jax.grad(toy_loss)(t, i, x)
    np.testing.assert_allclose(grads_in_shard_map(local_grad), expected, rtol=1e-6)
    np.testing.assert_allclose(grads_in_shard_map(lambda t, i, x: jax.lax.psum(local_grad(t, i, x), AXIS)),
                               DEVICES * expected, rtol=1e-6)  # double counted
    np.testing.assert_allclose(grads_in_shard_map(lambda t, i, x: jax.grad(lambda t: jax.lax.pmean(toy_loss(t, i, x), AXIS))(t)),
                               expected / DEVICES, rtol=1e-6)


def test_row_sharded_table_equals_replicated():
    """A table split by rows over 4 devices (V = 10 padded to 12, 3 rows each): gathering any rows and
    applying the gathered updates to owned rows gives the replicated single-device result."""
    rng = np.random.default_rng(5)
    V, D = 10, 3
    table = rng.normal(size=(V, D)).astype(np.float32)
    ids_2x8 = rng.integers(0, V, (2, 8)).astype(np.int32)
    targets_2x8x3 = rng.normal(size=(2, 8, D)).astype(np.float32)

    def sharded_row_updates(block_LxD, batch, lr=0.1):
        ids_B, targets_BxD = batch
        rows_BxD = parallel.gather_sharded_rows(block_LxD, ids_B)
        return RowUpdate(ids_B, -lr * (rows_BxD - targets_BxD)), 0.5 * jnp.sum((rows_BxD - targets_BxD) ** 2)

    apply_sharded = lambda block, update, batch: parallel.add_sharded_rows(block, update.ids_N, update.values_NxD)
    mesh = parallel.data_mesh(DEVICES)
    sharded = parallel.shard_rows(jnp.asarray(table), mesh)
    assert sharded.shape == (12, D) and {s.data.shape for s in sharded.addressable_shards} == {(3, D)}
    step = parallel.make_data_parallel_step(sharded_row_updates, apply_sharded, mesh, (EXAMPLES, EXAMPLES), state_spec=P(AXIS))
    new_sharded, loss = step(sharded, ids_2x8, targets_2x8x3)
    expected, expected_loss = jnp.asarray(table), 0.0
    for m in range(2):
        batch = (ids_2x8[m], targets_2x8x3[m])
        update, loss_m = toy_row_updates(expected, batch)
        expected, expected_loss = toy_apply(expected, update, batch), expected_loss + float(loss_m)
    np.testing.assert_allclose(np.asarray(new_sharded)[:V], expected, rtol=1e-6, atol=1e-6)
    assert not np.asarray(new_sharded)[V:].any()
    assert float(loss) == pytest.approx(expected_loss, rel=1e-6)


def test_shared_inputs_are_placed_on_the_mesh_once_and_again_only_when_they_change():
    sharding = jax.sharding.NamedSharding(parallel.data_mesh(2), P())
    paths, examples = jax.device_put(jnp.arange(6), jax.devices()[0]), np.zeros(3)
    shared = parallel.SharedInputs((EXAMPLES, SHARED), sharding)
    placed = shared.placed((examples, paths))
    assert placed[0] is examples and placed[1].sharding == sharding
    assert shared.placed((np.ones(3), paths))[1] is placed[1]
    moved = shared.placed((examples, jax.device_put(jnp.arange(6) + 1, jax.devices()[0])))[1]
    assert moved is not placed[1] and np.asarray(moved).tolist() == [1, 2, 3, 4, 5, 6]


def test_the_step_compiles_once_for_states_from_init_and_from_itself(caplog):
    """A fresh state (as from init or a checkpoint: no mesh in its type) and the step's own output take the same
    compiled step: otherwise every run would compile its step twice."""
    case = word2vec_case("each", 1, False, 3)
    step = parallel.make_data_parallel_step(case.row_updates, case.apply_updates, parallel.data_mesh(1), case.layout)
    with jax.log_compiles(), caplog.at_level(logging.WARNING):
        state = case.init()
        for block in case.blocks:
            state, _ = step(state, *block)
        step(case.init(), *case.blocks[0])
    assert sum("Compiling jit(block)" in record.getMessage() for record in caplog.records) == 1


def test_the_pmap_step_compiles_once_for_replicated_states_from_init_and_from_itself(monkeypatch):
    """make_pmap_step's compiled steps are keyed by the inputs' tree and avals: a replicated fresh state and the
    step's own output take the same one."""
    compilations, compile_lowered = [], jax.stages.Lowered.compile
    monkeypatch.setattr(jax.stages.Lowered, "compile",
                        lambda lowered, *args, **kwargs: compilations.append(1) or compile_lowered(lowered, *args, **kwargs))
    case, devices = word2vec_case("each", 1, False, 3), jax.devices()[:2]
    step = parallel.make_pmap_step(case.row_updates, case.apply_updates, devices, case.layout)
    state = parallel.replicate(case.init(), devices)
    for block in case.blocks:
        state, _ = step(state, *block)
    step(parallel.replicate(case.init(), devices), *case.blocks[0])
    assert len(compilations) == 1


SPLITS_OPS = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2,
                                 reason="XLA:CPU splits an op into tasks only where it may run on two or more CPUs")


def scatter_tasks(options: dict[str, str] | None) -> int:
    """How many ops XLA splits into tasks in a scatter of 64 rows into a 40k-row table compiled with `options`."""
    add_rows = lambda table_VxD, ids_N, rows_NxD: table_VxD.at[ids_N].add(rows_NxD)
    args = (jnp.zeros((40_000, 100)), jnp.zeros(64, jnp.int32), jnp.ones((64, 100)))
    return (jax.jit(add_rows, compiler_options=options).lower(*args).compile().as_text()
            .count("outer_dimension_partitions"))


@SPLITS_OPS
def test_cpu_step_options_compile_a_table_scatter_whole():
    """XLA's defaults split a scatter into a 40k-row table into tasks although it writes 64 rows;
    step_compiler_options(CPU devices) compiles it whole."""
    assert scatter_tasks(None) > 0
    assert scatter_tasks(parallel.step_compiler_options(jax.devices()[:1])) == 0


def test_pmap_step_is_compiled_with_the_step_options(monkeypatch):
    """jax.pmap takes no compiler options: make_pmap_step compiles through lower().compile() with
    step_compiler_options, so an option XLA does not know reaches XLA and fails there."""
    monkeypatch.setattr(parallel, "step_compiler_options", lambda devices: {"xla_not_an_option": "1"})
    case, devices = word2vec_case("each", 1, False, 3), jax.devices()[:2]
    step = parallel.make_pmap_step(case.row_updates, case.apply_updates, devices, case.layout)
    with pytest.raises(Exception, match="xla_not_an_option"):
        step(parallel.replicate(case.init(), devices), *case.blocks[0])


@SPLITS_OPS
def test_cpu_step_options_keep_the_passes_xla_flags_disable(monkeypatch):
    """A compiler option replaces XLA_FLAGS' value of the same option, so the step's options name the passes the
    flags disable (the last --xla_disable_hlo_passes, as XLA reads them) beside the task assigner, and XLA still
    compiles the table scatter whole with them."""
    cpu = jax.devices()[:1]
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    assert parallel.step_compiler_options(cpu) == {"xla_disable_hlo_passes": parallel.UNSPLIT_CPU_PASS}
    monkeypatch.setenv("XLA_FLAGS", "--xla_disable_hlo_passes=dce --xla_cpu_enable_fast_math=false "
                                    "--xla_disable_hlo_passes='algsimp,cse'")
    options = parallel.step_compiler_options(cpu)
    assert options == {"xla_disable_hlo_passes": f"algsimp,cse,{parallel.UNSPLIT_CPU_PASS}"}
    assert scatter_tasks(options) == 0


@SPLITS_OPS
@pytest.mark.parametrize("model", ["sgns", "sg-hs"])
def test_unsplit_cpu_step_trains_the_same_vectors_as_xla_defaults(small_corpus, model, monkeypatch):
    """Two replicas with tables that XLA's defaults would split (dim 64, ~1 MB): the step compiled whole gives the
    same vectors and loss, to the bit, as the step compiled with XLA's defaults."""
    config = Word2VecConfig(model=model, dim=64, epochs=1, min_count=3, seed=5, replicas=2)
    unsplit = fit(small_corpus, config, progress=False)
    monkeypatch.setattr(parallel, "step_compiler_options", lambda devices: None)
    split = fit(small_corpus, config, progress=False)
    np.testing.assert_array_equal(unsplit.vectors.vectors, split.vectors.vectors)
    assert unsplit.metrics["loss"] == split.metrics["loss"]


def test_batch_size_rounds_up_to_a_multiple_of_devices():
    assert [parallel.sharded_batch_size(b, 4) for b in (1, 4, 5, 64)] == [4, 4, 8, 64]
    assert parallel.sharded_batch_size(7, 1) == 7


@pytest.mark.parametrize("devices", [0, 5])
def test_device_count_out_of_range_is_a_config_error(devices):
    with pytest.raises(ConfigError, match="devices must be"):
        parallel.device_count(devices)


@pytest.mark.parametrize("devices,message", [("0", "devices must be >= 1"), ("5", "devices must be between 1 and the 4")])
def test_cli_rejects_device_counts_out_of_range(small_corpus, tmp_path, capsys, devices, message):
    code = main(["train", "--corpus", small_corpus, "--out", str(tmp_path / "run"), "--devices", devices, "--quiet"])
    assert code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("model,large_batch,chunk", [("sgns", False, None), ("cbow", False, None), ("sgns", True, None),
                                                    ("sg-hs", True, None), ("sgns", True, 100), ("cbow", True, 100)])
def test_trainer_on_four_devices_reproduces_one_device(small_corpus, model, large_batch, chunk, monkeypatch):
    """The whole trainer, 4 devices vs 1 on the same blocks: same vectors and loss up to float rounding; with
    large batches, the examples made on the device and the count-aware update; with `chunk`, their micro-batches taken
    `chunk` examples at a time (1,024 on one device, 256 on each of four) and output rows exchanged as factors."""
    if chunk:
        monkeypatch.setattr(word2vec, "chunk_size", lambda examples, *_: min(examples, chunk))
        monkeypatch.setattr(sparse, "chunk_size", lambda examples, *_: min(examples, chunk))
    config = Word2VecConfig(model=model, dim=16, epochs=1, min_count=3, seed=5, batch_size=64, replicas=1)
    if large_batch:
        config = config.replace(batch_size=1024, max_row_updates=8, device_examples=True)
    one = fit(small_corpus, config.replace(devices=1), progress=False)
    four = fit(small_corpus, config.replace(devices=4), progress=False)
    assert (one.metrics["devices"], four.metrics["devices"]) == (1, 4)
    np.testing.assert_allclose(four.vectors.vectors, one.vectors.vectors, rtol=1e-4, atol=1e-5)
    assert four.metrics["loss"] == pytest.approx(one.metrics["loss"], rel=1e-5)


def test_glove_trainer_on_two_devices_reproduces_one_device(small_corpus):
    config = GloveConfig(dim=8, epochs=2, min_count=3, x_max=10.0, batch_size=256)
    one = fit(small_corpus, config.replace(devices=1), progress=False)
    two = fit(small_corpus, config.replace(devices=2), progress=False)
    np.testing.assert_allclose(two.vectors.vectors, one.vectors.vectors, rtol=1e-4, atol=1e-5)


MULTIHOST_MODELS = ("sgns", "glove")
TRAINER_CONFIG = dict(dim=8, epochs=1, min_count=3, seed=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_on_loopback_reproduce_one_device(small_corpus, tmp_path):  # ~15 s on 2 cores
    """jax.distributed with 2 processes × 2 CPU devices (gloo over 127.0.0.1), the same mesh code:
    every process ends with the 1-device oracle's tables, and the trainer matches 4 local devices."""
    worker = os.path.join(os.path.dirname(__file__), "multihost_worker.py")
    corpus = tmp_path / "tiny.txt"
    with open(small_corpus) as f:
        corpus.write_text("".join(f.readlines()[:1500]))
    port = str(free_port())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(worker)), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, worker, port, str(i), str(tmp_path), str(corpus)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    single = fit(corpus, Word2VecConfig(**TRAINER_CONFIG, devices=4), progress=False).vectors.vectors
    for i in range(2):
        got = np.load(tmp_path / f"process{i}.npz")
        assert int(got["devices"]) == 4
        for model in MULTIHOST_MODELS:
            expected, _ = oracle(CASES[model]())
            for j, leaf in enumerate(jax.tree.leaves(expected)):
                np.testing.assert_allclose(got[f"{model}_{j}"], leaf, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got["trainer_vectors"], single, rtol=1e-5, atol=1e-6)

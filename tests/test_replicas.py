"""Replicas (jaxembed.replicas): each trains its blocks with the model's one-device step, and merges add their changes.

The oracle is the rule itself run by hand: two copies of the state stepped by the single-device step on alternate
blocks of the same epoch, their changes combined in numpy and added to the anchor every `merge_every` rounds and at
the epoch's end.
"""
from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxembed.config
from jaxembed import replicas
from jaxembed.config import FastTextConfig, GloveConfig, Word2VecConfig
from jaxembed.errors import ConfigError
from jaxembed.fit import fit, train_model
from jaxembed.models import fasttext, glove, word2vec
from jaxembed.parallel import data_mesh, make_data_parallel_step


def merged_by_hand(anchor, copies, rule="sum"):
    """T + Σ_r (X_r − T), leaf by leaf, in the leaf's dtype as the rule states; `agreement` (floating leaves): each
    row's sum (along the last axis; single values for fewer than 2 axes) scaled by 1 − a (1 − 1/R), a the mean
    pairwise cosine of the changes clipped to [0, 1], computed in float64."""
    def merged(t, *xs):
        t = np.asarray(t)
        changes = [np.asarray(x) - t for x in xs]
        total = sum(changes)
        if rule == "sum" or not np.issubdtype(t.dtype, np.floating):
            return t + total
        rows = [c.astype(np.float64).reshape(-1, c.shape[-1] if c.ndim >= 2 else 1) for c in changes]
        units = [r / np.maximum(np.linalg.norm(r, axis=1, keepdims=True), 1e-300) for r in rows]
        pairs = [(units[a] * units[b]).sum(axis=1) for a in range(len(units)) for b in range(a + 1, len(units))]
        scale = 1.0 - np.clip(np.mean(pairs, axis=0), 0.0, 1.0) * (1.0 - 1.0 / len(changes))
        return (t + total * scale.reshape(t.shape[:-1] + (1,) if t.ndim >= 2 else t.shape)).astype(t.dtype)

    return jax.tree.map(merged, anchor, *copies)


def emulated(plugin, corpus, config):
    """The final state of `config.replicas` replicas trained on one device, one block at a time."""
    model = plugin.build(plugin.read_corpus(corpus, config), config, 1)
    step = make_data_parallel_step(model.row_updates, model.apply_updates, data_mesh(1), model.layout)
    anchor = jax.tree.map(np.asarray, model.init())
    count, every = config.replicas, config.merge_every
    for epoch in range(config.epochs):
        copies = [anchor] * count
        blocks = list(model.blocks(epoch, 0))
        rounds = -(-len(blocks) // count)
        for index, block in enumerate(blocks):
            r = index % count
            state, _ = step(jax.tree.map(jnp.asarray, copies[r]), *block.arrays)
            copies[r] = jax.tree.map(np.asarray, state)
            finished = index // count + 1
            if r == count - 1 or index == len(blocks) - 1:
                if finished % every == 0 or finished == rounds:
                    anchor = merged_by_hand(anchor, copies, config.merge_rule)
                    copies = [anchor] * count
    return anchor


@pytest.mark.parametrize("model,rule", [("sgns", "sum"), ("sg-hs", "sum"), ("cbow", "sum")])
def test_replicas_train_as_their_rule_says(small_corpus, model, rule):
    config = Word2VecConfig(model=model, dim=8, epochs=2, min_count=3, seed=3, replicas=2, merge_every=3,
                            batches_per_call=16, merge_rule=rule).resolved()
    trained = fit(small_corpus, config, progress=False)
    expected = emulated(word2vec, small_corpus, config)
    assert trained.vectors.vectors.tobytes() == np.asarray(expected.syn0_VxD).tobytes()


def test_hierarchical_softmax_replicas_merge_by_agreement_as_the_rule_says(small_corpus):
    config = Word2VecConfig(model="sg-hs", dim=8, epochs=1, min_count=3, seed=3, replicas=2, merge_every=3,
                            batches_per_call=16).resolved()
    assert config.merge_rule == "agreement"
    trained = fit(small_corpus, config, progress=False).vectors.vectors
    expected = np.asarray(emulated(word2vec, small_corpus, config).syn0_VxD)
    summed = fit(small_corpus, config.replace(merge_rule="sum"), progress=False).vectors.vectors
    np.testing.assert_allclose(trained, expected, rtol=1e-4, atol=1e-6)  # float32 against the float64 oracle
    assert np.abs(trained - summed).max() > 100 * np.abs(trained - expected).max()


@pytest.mark.parametrize("plugin,config", [
    (fasttext, FastTextConfig(dim=8, epochs=1, min_count=3, seed=3, bucket=5000, replicas=2, merge_every=2,
                              batches_per_call=8, merge_rule="sum")),
    (glove, GloveConfig(dim=8, epochs=2, min_count=3, seed=3, x_max=10.0, replicas=2, merge_every=2, batches_per_call=8)),
])
def test_fasttext_and_glove_replicas_train_as_their_rule_says(small_corpus, plugin, config):
    config = config.resolved()
    model = plugin.build(plugin.read_corpus(small_corpus, config), config, 1)
    state, _ = train_model(model, config)
    expected = emulated(plugin, small_corpus, config)
    for got, want in zip(jax.tree.leaves(state), jax.tree.leaves(expected)):
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()


def test_two_replicas_give_the_same_bytes_on_one_device_or_two(small_corpus, monkeypatch):
    config = Word2VecConfig(dim=8, epochs=1, min_count=3, seed=4, replicas=2, merge_every=2)
    assert replicas.replica_mesh(2).size == 2  # the test process has 4 CPU devices and >= 2 cores
    two = fit(small_corpus, config, progress=False).vectors.vectors
    monkeypatch.setattr(replicas.os, "cpu_count", lambda: 1)
    assert replicas.replica_mesh(2).size == 1
    one = fit(small_corpus, config, progress=False).vectors.vectors
    assert one.tobytes() == two.tobytes()


def test_replicas_on_fewer_cpu_devices_than_asked_say_so(monkeypatch):
    first = jax.devices("cpu")[:1]
    monkeypatch.setattr(replicas.jax, "devices", lambda *backend: first)
    with pytest.warns(UserWarning, match="2 replicas share 1 CPU device"):
        assert replicas.replica_mesh(2).size == 1


def test_a_run_on_fewer_cpu_devices_than_replicas_warns_once(small_corpus, monkeypatch):
    first = jax.devices("cpu")[:1]
    monkeypatch.setattr(replicas.jax, "devices", lambda *backend: first)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit(small_corpus, Word2VecConfig(dim=8, epochs=1, min_count=3, replicas=2), progress=False)
    assert sum("replicas share 1 CPU device" in str(w.message) for w in caught) == 1
    assert result.metrics["replica_devices"] == 1


def test_replicas_that_would_not_fit_in_memory_are_refused_with_the_setting_to_change(small_corpus, monkeypatch):
    config = FastTextConfig(dim=8, epochs=1, min_count=3, bucket=5000, replicas=2)
    model = fasttext.build(fasttext.read_corpus(small_corpus, config), config.resolved(), 1)
    table_bytes = sum(leaf.nbytes for leaf in jax.tree.leaves(model.init()))
    monkeypatch.setattr(replicas, "available_memory", lambda: 2 * table_bytes - 1)
    with pytest.raises(ConfigError, match=r"replicas \(2\) keep 3 copies of the model's tables .* set replicas 1"):
        fit(small_corpus, config, progress=False)
    monkeypatch.setattr(replicas, "available_memory", lambda: 2 * table_bytes)
    assert fit(small_corpus, config, progress=False).metrics["replica_devices"] == 2


@pytest.mark.parametrize("count", [2, 3])
def test_agreement_merge_scales_each_rows_sum_by_how_far_the_changes_agree(count):
    mesh = replicas.replica_mesh(count)
    rng = np.random.default_rng(1)
    anchor = {"a": rng.normal(size=(6, 4)).astype(np.float32), "b": rng.normal(size=(5,)).astype(np.float32)}
    same, other = rng.normal(size=4).astype(np.float32), rng.normal(size=(count, 4)).astype(np.float32)
    changes_a = np.zeros((count, 6, 4), np.float32)
    changes_a[:, 0] = same  # every replica moved row 0 the same way: it moves once
    changes_a[0, 1] = other[0]  # one replica moved row 1: it gets that change
    changes_a[:, 2] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]][:count]  # unrelated (orthogonal): the sum
    changes_a[:, 3] = [[1, 0, 0, 0], [-1, 0, 0, 0], [1, 0, 0, 0]][:count]  # opposed pairs count as unrelated
    changes_a[:, 4:] = rng.normal(size=(count, 2, 4))
    anchor.update(n=np.arange(3, dtype=np.int32), s=np.float32(0.5))  # counters add; a scalar is one value
    copies = [{"a": anchor["a"] + changes_a[r], "b": anchor["b"] + rng.normal(size=5).astype(np.float32),
               "n": anchor["n"] + r + 1, "s": anchor["s"] + np.float32(0.25)} for r in range(count)]
    state = replicas.placed(replicas.ReplicaState(tuple(copies), anchor), mesh)
    merged = replicas.make_merge(mesh, "agreement")(state)
    expected = merged_by_hand(anchor, copies, "agreement")
    for key in anchor:
        np.testing.assert_allclose(np.asarray(merged.anchor[key]), expected[key], rtol=1e-6, atol=1e-6)
        for replica in merged.replicas:
            assert np.asarray(replica[key]).tobytes() == np.asarray(merged.anchor[key]).tobytes()
    moved = np.asarray(merged.anchor["a"]) - anchor["a"]
    np.testing.assert_allclose(moved[0], same, rtol=1e-5)
    np.testing.assert_allclose(moved[1], other[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(moved[2:4], changes_a[:, 2:4].sum(axis=0), atol=1e-6)
    assert merged.anchor["n"].dtype == np.int32 and list(np.asarray(merged.anchor["n"])) == [
        i + count * (count + 1) // 2 for i in range(3)]
    assert float(merged.anchor["s"]) == 0.75  # the replicas agree on the one value: it moves once


@pytest.mark.parametrize("count", [2, 4])
def test_merge_adds_every_replicas_change_to_the_anchor(count):
    mesh = replicas.replica_mesh(count)
    rng = np.random.default_rng(0)
    anchor = {"a": rng.normal(size=(5, 3)).astype(np.float32), "b": rng.normal(size=(7,)).astype(np.float32)}
    copies = [jax.tree.map(lambda x: x + rng.normal(size=x.shape).astype(np.float32), anchor) for _ in range(count)]
    state = replicas.placed(replicas.ReplicaState(tuple(copies), anchor), mesh)
    merged = replicas.make_merge(mesh)(state)
    expected = merged_by_hand(anchor, copies)
    for key in anchor:
        assert np.asarray(merged.anchor[key]).tobytes() == expected[key].tobytes()
        for replica in merged.replicas:
            assert np.asarray(replica[key]).tobytes() == expected[key].tobytes()
    assert [replica["a"].devices() for replica in merged.replicas] == [{d} for d in replicas.replica_devices(mesh, count)]


@pytest.mark.parametrize("count,rule", [(2, "sum"), (2, "agreement"), (3, "agreement")])
def test_a_merge_of_the_touched_rows_is_the_rule_and_the_same_after_a_resume(count, rule, monkeypatch):
    monkeypatch.setattr(replicas, "MERGE_CHUNK_ROWS", 32)  # the touched rows merge in several pieces
    mesh = replicas.replica_mesh(count)
    rng = np.random.default_rng(2)
    anchor = {"a": rng.normal(size=(3000, 4)).astype(np.float32), "b": rng.normal(size=(5,)).astype(np.float32)}
    blocks = [rng.choice(3000, 40) for _ in range(count * 3)]  # the rows each block changes in table "a"
    copies = [{"a": anchor["a"].copy(), "b": anchor["b"] + rng.normal(size=5).astype(np.float32)} for _ in range(count)]
    for index, rows in enumerate(blocks):
        copies[index % count]["a"][rows] += rng.normal(size=(len(rows), 4)).astype(np.float32)
    state = replicas.ReplicaState(tuple(copies), anchor)
    expected = merged_by_hand(anchor, copies, rule)

    def merged(skip):  # the record of the blocks, complete (skip 0) or not (a resume 2 rounds after a merge)
        touched = replicas.TouchedRows((lambda arrays: arrays[0], None), merge_every=3, state=anchor)
        touched.start(skip)
        for rows in blocks:
            touched.add((rows,))
        return replicas.make_merge(mesh, rule, touched)(replicas.placed(state, mesh))

    recorded, resumed = merged(0), merged(2)
    for key in anchor:
        if rule == "sum":
            assert np.asarray(recorded.anchor[key]).tobytes() == expected[key].tobytes()
        np.testing.assert_allclose(np.asarray(recorded.anchor[key]), expected[key], rtol=1e-6, atol=1e-6)
        for replica in (*recorded.replicas, resumed.anchor, *resumed.replicas):
            assert np.asarray(replica[key]).tobytes() == np.asarray(recorded.anchor[key]).tobytes()


def test_touched_rows_merge_every_row_after_a_resume_between_merges():
    touched = replicas.TouchedRows((lambda arrays: arrays[0], None), merge_every=4,
                                   state={"a": np.zeros((10, 2)), "b": np.zeros(3)})
    touched.start(8)
    touched.add((np.array([3, 1, 3]),))
    (ids,), whole = touched.take()
    assert ids.tolist() == [1, 3] + [10] * (replicas.MERGE_CHUNK_ROWS - 2) and whole is None  # 10: out of range, dropped
    touched.start(6)  # resumed two rounds after a merge: the record misses those rounds' rows, so all merge
    touched.add((np.array([2]),))
    (ids,), whole = touched.take()
    assert ids.tolist() == list(range(10)) + [10] * (replicas.MERGE_CHUNK_ROWS - 10) and whole is None
    touched.add((np.array([5]),))  # from the next merge on, it knows again
    assert touched.take()[0][0][:2].tolist() == [5, 10]
    assert touched.take()[0] == []  # no rows touched: nothing to merge


def test_skipgram_defaults_to_two_replicas_on_a_cpu_and_one_elsewhere():
    """At large batches skip-gram on pairs and fastText skip-gram keep 2 replicas, merged after every block of 524,288
    pairs."""
    sgns, sg_hs = Word2VecConfig().resolved(), Word2VecConfig(model="sg-hs").resolved()
    assert (sgns.replicas, sgns.merge_every, sgns.merge_rule) == (2, 64, "sum")
    assert (sg_hs.replicas, sg_hs.merge_every, sg_hs.merge_rule) == (2, 64, "agreement")
    assert Word2VecConfig(model="cbow").resolved().replicas == Word2VecConfig(model="cbow-hs").resolved().replicas == 1
    assert Word2VecConfig(devices=2).resolved().replicas == 1
    assert Word2VecConfig(batch_size=1023).resolved().replicas == 2
    large = [Word2VecConfig(batch_size=b).resolved() for b in (1024, 16384, 65536, 1 << 20)]
    assert [(c.replicas, c.batches_per_call, c.merge_every) for c in large] == [(2, 512, 1), (2, 32, 1), (2, 8, 1),
                                                                                (2, 1, 1)]
    assert Word2VecConfig(model="sg-hs", batch_size=16384).resolved().replicas == 1  # centre windows
    assert Word2VecConfig(batch_size=2731, shared_negatives=True).resolved().replicas == 1
    one = Word2VecConfig(batch_size=16384, replicas=1).resolved()
    assert (one.batches_per_call, one.merge_every) == (128, 64)
    assert Word2VecConfig(batch_size=16384, merge_every=4, batches_per_call=2).resolved().merge_every == 4
    assert Word2VecConfig(model="cbow", batch_size=16384, replicas=2).resolved().batches_per_call == 32
    assert Word2VecConfig(device_examples=True).resolved().replicas == 1
    fasttext_sg, fasttext_cbow = FastTextConfig().resolved(), FastTextConfig(cbow=True).resolved()
    assert (fasttext_sg.replicas, fasttext_sg.merge_every, fasttext_sg.merge_rule) == (2, 64, "agreement")
    assert fasttext_cbow.replicas == FastTextConfig(device_examples=True).resolved().replicas == 1
    fasttext_large = FastTextConfig(batch_size=16384).resolved()
    assert (fasttext_large.replicas, fasttext_large.batches_per_call, fasttext_large.merge_every) == (2, 32, 1)
    assert FastTextConfig(batch_size=16384, cbow=True).resolved().replicas == 1


@pytest.mark.parametrize("settings,message", [
    ({"replicas": 2, "devices": 2}, r"replicas \(2\) and devices \(2\) are two ways"),
    ({"replicas": 2, "device_examples": True}, r"replicas \(2\) train on examples made by the host"),
    ({"replicas": 0}, "replicas must be >= 1"),
    ({"merge_every": 0}, "merge_every must be >= 1"),
    ({"merge_rule": "mean"}, "merge_rule"),
])
def test_conflicting_replica_settings_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        Word2VecConfig(**settings)


def test_replicas_are_refused_where_a_cpu_process_does_not_carry_them(monkeypatch):
    monkeypatch.setattr(jaxembed.config, "replicas_apply", lambda: False)  # a GPU, a TPU, or several processes
    with pytest.raises(ConfigError, match=r"replicas \(2\) use the cores of a CPU in one process"):
        Word2VecConfig(replicas=2)
    assert Word2VecConfig().resolved().replicas == 1

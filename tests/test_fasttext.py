"""fastText: subword hashing, the pure loss, the packed step against the dense oracle, and the
official `fasttext` package as the oracle for models, OOV vectors and the `.bin` format."""
import functools
import os

import chex
import fasttext  # the official package: the oracle for models, OOV vectors and the .bin format
import gensim  # ships official fastText models in its test data
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxembed.config import FastTextConfig
from jaxembed.data.ngrams import SubwordSpec, char_ngrams, fnv1a_signed, subword_table
from jaxembed.data.fasttext_examples import PackShape, fasttext_examples, pack_chunk, pack_starts
from jaxembed.data.sampling import noise_table
from jaxembed.data.windows import Sampling
from jaxembed.errors import ConfigError, InputFileError
from jaxembed.io.fasttext import load_fasttext, load_fasttext_model, save_fasttext_model
from jaxembed.losses.fasttext import fasttext_grads, fasttext_loss
from jaxembed.losses.logistic import batch_logistic_loss
from jaxembed.losses.sgns import sgns_labels
from jaxembed.fit import fit
from jaxembed.models import fasttext as fasttext_model
from jaxembed.models.fasttext import LAYOUT, FastTextState
from jaxembed.optim.sparse import sgd_rows
from jaxembed.parallel import data_mesh, make_data_parallel_step


def step_parts(learning_rate: float, num_examples: int):
    """The plug-in's two halves with row SGD at a constant learning rate."""
    return (functools.partial(fasttext_model.row_updates, optimizer=sgd_rows(), num_examples=num_examples),
            functools.partial(fasttext_model.apply_updates, optimizer=sgd_rows(), schedule=lambda n: learning_rate))

GENSIM_DATA = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data")
OFFICIAL_MODELS = ["lee_fasttext_new.bin", "toy-model.bin", "crime-and-punishment.bin", "toy-model-pretrained.bin"]


def reference_fnv1a_signed(data: bytes) -> int:
    """The hash by its definition, one byte at a time: h = (h XOR uint32(int8(b))) * 16777619 mod 2^32."""
    h = 2166136261
    for b in data:
        h = ((h ^ ((b - 256 if b >= 128 else b) & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return h


def test_fnv1a_published_values_and_signed_bytes():
    assert [int(h) for h in fnv1a_signed([b"", b"a", b"foobar"])] == [0x811C9DC5, 0xE40C292C, 0xBF9CF968]
    strings = [b"<h\xc3\xa9llo>", "日本".encode(), b"\xff\x80", b"abc"]
    assert [int(h) for h in fnv1a_signed(strings)] == [reference_fnv1a_signed(s) for s in strings]
    assert reference_fnv1a_signed(b"\xe9") != (((0x811C9DC5 ^ 0xE9) * 16777619) & 0xFFFFFFFF)  # sign extension matters


def test_char_ngrams_by_hand():
    assert char_ngrams(b"ab", 1, 3) == [b"<a", b"<ab", b"a", b"ab", b"ab>", b"b", b"b>"]
    assert char_ngrams(b"ab", 3, 6) == [b"<ab", b"<ab>", b"ab>"]
    assert char_ngrams("é".encode(), 2, 2) == [b"<\xc3\xa9", b"\xc3\xa9>"]  # n counts characters, not bytes


@pytest.mark.parametrize("name", OFFICIAL_MODELS)
def test_subword_rows_equal_official(name):
    model = fasttext.load_model(os.path.join(GENSIM_DATA, name))
    ours = load_fasttext_model(os.path.join(GENSIM_DATA, name))
    table = ours.subwords()
    for i, word in enumerate(model.words):
        assert table.rows_R[table.offsets_V1[i]:table.offsets_V1[i + 1]].tolist() == model.get_subwords(word)[1].tolist()
    for word in ["héllo", "Раскольников", "zzzq", "日本語テキスト", "x"]:
        assert ours.spec.word_rows(word.encode(), None).tolist() == model.get_subwords(word)[1].tolist()


def oov_words(vocabulary: list[str], count: int) -> list[str]:
    """Misspellings and inflections of vocabulary words that are themselves out of vocabulary."""
    vocab, words = set(vocabulary), []
    for w in [w for w in vocabulary[:count] if w]:
        for variant in (w + "s", w + "ing", w[:-1] + w[-1] * 2, w[1:] + w[0], "un" + w):
            if variant not in vocab and variant not in words:
                words.append(variant)
    return words


@pytest.mark.parametrize("name", OFFICIAL_MODELS)
def test_vectors_equal_official_get_word_vector(name):
    path = os.path.join(GENSIM_DATA, name)
    model, ours = fasttext.load_model(path), load_fasttext(path)
    assert ours.words == model.words and ours.dim == model.get_dimension()
    official_iv = np.stack([model.get_word_vector(w) for w in ours.words])
    np.testing.assert_allclose(ours.vectors, official_iv, atol=1e-5, rtol=0)
    oov = oov_words(ours.words, 60)
    assert len(oov) >= 100 and not any(w in ours for w in oov)
    np.testing.assert_allclose(np.stack([ours[w] for w in oov]), np.stack([model.get_word_vector(w) for w in oov]),
                               atol=1e-5, rtol=0)


def test_oov_most_similar_and_similarity():
    vectors = load_fasttext(os.path.join(GENSIM_DATA, "lee_fasttext_new.bin"))
    neighbours = vectors.most_similar("governmentt", topn=3)
    assert len(neighbours) == 3 and all(w in vectors for w, _ in neighbours)
    query = vectors["governmentt"] / np.linalg.norm(vectors["governmentt"])
    expected = vectors.unit @ query
    assert neighbours[0][1] == pytest.approx(float(expected.max()), abs=1e-5)
    assert vectors.similarity("governmentt", "government") == pytest.approx(
        float(query @ vectors.unit[vectors.index["government"]]), abs=1e-5)


def test_supervised_model_words_without_ngrams_and_errors(tmp_path):
    vectors = load_fasttext(os.path.join(GENSIM_DATA, "pang_lee_polarity_fasttext.bin"))
    model = fasttext.load_model(os.path.join(GENSIM_DATA, "pang_lee_polarity_fasttext.bin"))
    np.testing.assert_allclose(vectors[vectors.words[5]], model.get_word_vector(vectors.words[5]), atol=1e-6)
    with pytest.raises(KeyError, match="no character n-grams"):
        vectors["qqqzzz"]
    with pytest.raises(InputFileError, match="fastText releases before 2017"):
        load_fasttext_model(os.path.join(GENSIM_DATA, "lee_fasttext.bin"))
    data = open(os.path.join(GENSIM_DATA, "toy-model.bin"), "rb").read()
    (tmp_path / "cut.bin").write_bytes(data[:len(data) - 7])
    with pytest.raises(InputFileError, match="truncated"):
        load_fasttext_model(tmp_path / "cut.bin")


def test_saved_bin_loads_in_official_fasttext(tmp_path):
    ours = load_fasttext_model(os.path.join(GENSIM_DATA, "crime-and-punishment.bin"))
    save_fasttext_model(tmp_path / "copy.bin", ours)
    assert (tmp_path / "copy.bin").read_bytes() == open(os.path.join(GENSIM_DATA, "crime-and-punishment.bin"), "rb").read()


def packed_problem(seed=0, E=3, F=11, Q=6, T=4, V=7, R=20, D=5):
    rng = np.random.default_rng(seed)
    rows = jnp.asarray(rng.integers(0, 6, F), jnp.int32)               # few ids: duplicate rows across bags
    owner = jnp.asarray(np.sort(rng.integers(0, E, F)), jnp.int32)
    mask = jnp.asarray(rng.random(F) < 0.8).at[-1].set(False)
    targets = jnp.asarray(rng.integers(0, V, (Q, T)), jnp.int32)
    pair_owner = jnp.asarray(np.sort(rng.integers(0, E, Q)), jnp.int32)
    pair_mask = jnp.asarray(rng.random(Q) < 0.85)
    state = FastTextState(jnp.asarray(rng.normal(size=(R, D)), jnp.float32), jnp.asarray(rng.normal(size=(V, D)), jnp.float32))
    return state, (rows, owner, mask, targets, pair_owner, pair_mask), E


class FastTextGradientTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_hand_gradients_equal_autodiff(self):
        for seed in range(3):
            state, (rows, owner, mask, targets, pair_owner, pair_mask), E = packed_problem(seed)
            x_FxD, out_QxTxD = state.input_RxD[rows], state.output_VxD[targets]
            labels = jnp.broadcast_to(sgns_labels(targets.shape[1] - 1), targets.shape)
            weights = jnp.broadcast_to(pair_mask.astype(jnp.float32)[:, None], targets.shape)
            m = mask.astype(jnp.float32)
            total = lambda x, o: jnp.sum(fasttext_loss(x, m, owner, o, labels, weights, pair_owner, E))
            expected = self.variant(jax.grad(total, argnums=(0, 1)))(x_FxD, out_QxTxD)
            grads = self.variant(lambda x, o: fasttext_grads(x, m, owner, o, labels, weights, pair_owner, E))
            d_rows, d_out, _, loss_Q = grads(x_FxD, out_QxTxD)
            chex.assert_trees_all_close((d_rows, d_out), expected, rtol=1e-5, atol=1e-6)
            assert float(jnp.sum(loss_Q)) == pytest.approx(float(total(x_FxD, out_QxTxD)), rel=1e-5)


def chunked(monkeypatch, examples: int):
    """Large micro-batches' path taken at `examples` bag rows or pairs a chunk (jaxembed.chunks)."""
    monkeypatch.setattr(fasttext_model, "taken_whole", lambda values: False)
    monkeypatch.setattr(fasttext_model, "chunk_size", lambda n, *_: min(n, examples))


@pytest.mark.parametrize("chunk", [None, 2, 4])
def test_microbatch_equals_dense_oracle(chunk, monkeypatch):
    """The packed row-sparse step == jax.grad w.r.t. whole tables of the loss whose bag mean passes
    the gradient back unscaled (fastText's rule) + optax.sgd; duplicate ids included. `chunk`: the step of a
    large micro-batch, its bag rows and pairs taken that many at a time (leaving some over), the output rows'
    gradients as factors."""
    if chunk:
        chunked(monkeypatch, chunk)
    state, batch, E = packed_problem(seed=3)
    rows, owner, mask, targets, pair_owner, pair_mask = batch
    lr, m = 0.1, mask.astype(jnp.float32)
    labels = jnp.broadcast_to(sgns_labels(targets.shape[1] - 1), targets.shape)
    weights = jnp.broadcast_to(pair_mask.astype(jnp.float32)[:, None], targets.shape)

    def total(tables):
        inp, out = tables
        sums = jax.ops.segment_sum(m[:, None] * inp[rows], owner, E)
        mean = sums / jnp.maximum(jax.ops.segment_sum(m, owner, E), 1.0)[:, None]
        h = sums - jax.lax.stop_gradient(sums - mean)       # value: mean; gradient: as the sum
        return jnp.sum(batch_logistic_loss(h[pair_owner], out[targets], labels, weights))

    tables = (state.input_RxD, state.output_VxD)
    updates, _ = optax.sgd(lr).update(jax.grad(total)(tables), optax.sgd(lr).init(tables))
    expected = optax.apply_updates(tables, updates)
    row_updates, apply_updates = step_parts(lr, E)
    updates, loss = row_updates(state, (*batch, 0.0))
    new_state = apply_updates(state, updates, (*batch, 0.0))
    chex.assert_trees_all_close((new_state.input_RxD, new_state.output_VxD), expected, rtol=1e-5, atol=1e-6)
    assert float(loss) == pytest.approx(float(total(tables)), rel=1e-5)


def test_chunks_count_rows_as_the_whole_micro_batch_does_for_the_large_batch_cap(monkeypatch):
    """With the count-aware cap, the chunked step scales every row as the whole step does: the factored output rows
    count their nonzero coefficients as the whole step counts its nonzero gradients."""
    state, batch, E = packed_problem(seed=4, E=4, F=15, Q=9, V=4)          # 4 output rows: each seen many times

    def step(max_row_updates):
        optimizer = sgd_rows(max_row_updates=max_row_updates)
        row_updates = functools.partial(fasttext_model.row_updates, optimizer=optimizer, num_examples=E)
        apply_updates = functools.partial(fasttext_model.apply_updates, optimizer=optimizer, schedule=lambda n: 0.1)
        updates, loss = jax.jit(row_updates)(state, (*batch, 0.0))
        return jax.jit(apply_updates)(state, updates, (*batch, 0.0)), loss

    whole, whole_loss = step(2.0)
    uncapped, _ = step(None)
    chunked(monkeypatch, 4)
    in_chunks, chunks_loss = step(2.0)
    chex.assert_trees_all_close(in_chunks, whole, rtol=1e-6, atol=1e-7)
    assert float(chunks_loss) == pytest.approx(float(whole_loss), rel=1e-6)
    assert not np.allclose(whole.output_VxD, uncapped.output_VxD)  # the cap took effect


def test_bag_rows_count_one_update_per_pair_for_the_large_batch_cap():
    """A bag row's update sums its example's pairs, so the count-aware rule counts it that many times; an
    oracle count over (example, pair) pairs gives the same numbers, and padding counts nothing."""
    _, batch, E = packed_problem(seed=3)
    rows, owner, mask, _, pair_owner, pair_mask = batch
    terms = fasttext_model.bag_row_terms(mask, owner, pair_mask, pair_owner, E)
    pairs_of = {e: sum(1 for q in range(len(pair_owner)) if pair_mask[q] and int(pair_owner[q]) == e) for e in range(E)}
    expected = [pairs_of[int(owner[f])] if mask[f] else 0 for f in range(len(rows))]
    assert np.asarray(terms).tolist() == expected and max(expected) > 1


@pytest.mark.parametrize("cbow", [False, True])
def test_packing_keeps_every_example_in_order(cbow):
    rng = np.random.default_rng(0)
    words = [bytes(rng.choice(list(b"abcdefg"), rng.integers(1, 12)).astype(np.uint8)) for _ in range(40)]
    table = subword_table(words, SubwordSpec(40, 3, 6, 97))
    ids = rng.integers(0, 40, 3000).astype(np.int32)
    ends = np.array([700, 1500, 3000])
    sampling = Sampling(np.full(40, 0.8), noise_table(np.arange(40, 0, -1), 0.5), window=5, negative=3)
    examples = fasttext_examples(ids, ends, 0, 3000, sampling, table, cbow, np.random.default_rng(1))
    shape = PackShape(16, 160 if not cbow else 1400, 16)
    packed = pack_chunk(examples, shape, offset=0)
    assert packed.rows_MxF.shape[1:] == (160 if not cbow else 1400,) and packed.targets_MxQxT.shape[1:] == (16, 4)
    # unpacking the micro-batches in order gives back the flat examples exactly
    rows = np.concatenate([r[m] for r, m in zip(packed.rows_MxF, packed.row_mask_MxF)])
    targets = np.concatenate([t[m] for t, m in zip(packed.targets_MxQxT, packed.pair_mask_MxQ)])
    np.testing.assert_array_equal(rows, examples.rows_R)
    np.testing.assert_array_equal(targets, examples.targets_QxT)
    starts = np.concatenate([[0], np.cumsum([o[m].max() + 1 for o, m in zip(packed.row_owner_MxF, packed.row_mask_MxF)])])
    owners = np.concatenate([o[m] + s for o, m, s in zip(packed.row_owner_MxF, packed.row_mask_MxF, starts)])
    np.testing.assert_array_equal(owners, examples.row_owner_R)
    assert (examples.targets_QxT[:, 1:] != examples.targets_QxT[:, :1]).all()  # noise never equals the target
    # skip-gram pairs are (centre, context) with contexts in the same sentence
    assert len(examples.positions_E) == len(np.unique(examples.positions_E))


def greedy_starts(rows_per_example, pairs_per_example, shape):
    """The oracle of pack_starts: examples added one at a time while the micro-batch stays within `shape`."""
    starts, examples, rows, pairs = [], shape.examples, shape.rows, shape.pairs
    for i, (r, p) in enumerate(zip(rows_per_example, pairs_per_example)):
        if examples + 1 > shape.examples or rows + r > shape.rows or pairs + p > shape.pairs:
            starts.append(i)
            examples, rows, pairs = 0, 0, 0
        examples, rows, pairs = examples + 1, rows + r, pairs + p
    return starts


@pytest.mark.parametrize("count", [0, 1, 7, 3000])
def test_micro_batches_are_filled_greedily(count):
    rng = np.random.default_rng(count)
    shape = PackShape(16, 60, 40)
    rows, pairs = rng.integers(1, 61, count), rng.integers(1, 11, count)
    assert pack_starts(rows, pairs, shape).tolist() == greedy_starts(rows, pairs, shape)


def test_training_is_deterministic_learns_and_round_trips(small_corpus, tmp_path):
    config = FastTextConfig(dim=16, epochs=2, bucket=5000, min_count=3, sample=1e-3, batches_per_call=16)
    first = fit(small_corpus, config, progress=False)
    second = fit(small_corpus, config, progress=False)
    np.testing.assert_array_equal(first.state.input_RxD, second.state.input_RxD)
    losses = first.metrics["epoch_losses"]
    assert losses[1] < losses[0] < 6 * np.log(2)  # below the loss of the all-zero start
    first.save(tmp_path)
    official = fasttext.load_model(str(tmp_path / "model.bin"))
    words = first.vectors.words[:200] + oov_words(first.vectors.words, 30)
    np.testing.assert_allclose(np.stack([first.vectors[w] for w in words]),
                               np.stack([official.get_word_vector(w) for w in words]), atol=1e-5, rtol=0)


def test_eos_ends_lines_and_is_a_word(tmp_path):
    corpus = tmp_path / "lines.txt"
    corpus.write_text("a b c\n" * 6 + "d e")
    result = fit(corpus, FastTextConfig(dim=4, epochs=1, min_count=5, bucket=10, minn=2, maxn=3, sample=0,
                                                   batch_size=10, window=1), progress=False)
    assert result.vectors.words == ["a", "b", "c", "</s>"] and result.metrics["corpus_words"] == 26
    # windows never cross a line end: 6 lines of 4 tokens with window 1 give 6 · 2 · 3 = 36 pairs
    assert result.metrics["examples"] == 36


def test_config_errors():
    with pytest.raises(ConfigError, match="minn"):
        FastTextConfig(minn=5, maxn=3)
    with pytest.raises(ConfigError, match="negative"):
        FastTextConfig(negative=0)
    with pytest.raises(ConfigError, match="batch_size"):
        FastTextConfig(batch_size=4, window=5)


def test_command_line_fasttext(small_corpus, tmp_path, capsys):
    from jaxembed.cli import main
    out = tmp_path / "run"
    assert main(["train", "--model", "fasttext", "--corpus", small_corpus, "--out", str(out), "--dim", "8", "--epochs", "1",
                 "--min-count", "3", "--bucket", "3000", "--minn", "2", "--maxn", "4", "--cbow", "--quiet"]) == 0
    official = fasttext.load_model(str(out / "model.bin"))
    assert official.get_dimension() == 8 and official.f.getArgs().minn == 2
    from gensim.models import KeyedVectors
    text = KeyedVectors.load_word2vec_format(str(out / "vectors.txt"))
    np.testing.assert_allclose(text["king"], official.get_word_vector("king"), atol=1e-5)
    capsys.readouterr()
    assert main(["eval", str(out / "model.bin"), "--json"]) == 0
    assert '"wordsim353"' in capsys.readouterr().out
    assert main(["train", "--model", "sgns", "--cbow", "--corpus", small_corpus, "--out", str(out)]) == 2
    assert "cbow" in capsys.readouterr().err


def test_step_donates_the_tables():
    """The bucket table is updated in place: the step consumes (donates) the state it is given."""
    state, (rows, owner, mask, targets, pair_owner, pair_mask), E = packed_problem(seed=5)
    step = make_data_parallel_step(*step_parts(0.1, E), data_mesh(1), LAYOUT)
    block = [a[None] for a in (rows, owner, mask, targets, pair_owner, pair_mask)] + [jnp.zeros(1, jnp.float32)]
    new_state, _ = step(state, *block)
    assert state.input_RxD.is_deleted() and state.output_VxD.is_deleted()
    assert not new_state.input_RxD.is_deleted()


def test_device_examples_bags_targets_and_noise():
    """The device generator's micro-batch: an example is a centre's window, its bag the centre's subword rows, its
    pairs its context words then noise words that never equal them; owners count within each device's share."""
    words = [b"the", b"cat", b"sat", b"mat", b"</s>"]
    subwords = subword_table(words, SubwordSpec(len(words), 3, 4, 50))
    table = fasttext_model.padded_subwords(subwords)
    for w in range(len(words)):
        row = table[w][table[w] >= 0]
        assert row.tolist() == subwords.rows_R[subwords.offsets_V1[w]:subwords.offsets_V1[w + 1]].tolist()
    sampling = Sampling(np.ones(len(words)), noise_table(np.array([50, 30, 10, 10, 5])), window=2, negative=4)
    arrays = tuple(map(jnp.asarray, (np.ones(len(words), np.float32), sampling.noise.threshold_V, sampling.noise.alias_V,
                                     table)))
    ids = jnp.asarray(np.r_[np.random.default_rng(0).integers(0, 4, 40), -np.ones(24)].astype(np.int32))
    sentence = jnp.asarray(np.repeat(np.arange(8), 8).astype(np.int32))
    generator = fasttext_model.device_generator(seed=3, window=2, negative=4, centres=8, devices=2)
    chunk = (ids, sentence, jnp.float32(0), jnp.int32(0), jnp.int32(0), *arrays)
    examples, count, pairs = generator.chunk(*chunk)
    assert int(count) == 40 and int(pairs) == int(np.asarray(examples.hidden_mask_MxPxC).sum())
    rows, row_owner, row_mask, targets, pair_owner, pair_mask, _ = generator.batch(examples, jnp.int32(1), *chunk)
    s, centres = table.shape[1], np.asarray(examples.outputs_MxP[1])
    contexts, real = np.asarray(examples.hidden_MxPxC[1]), np.asarray(examples.hidden_mask_MxPxC[1])
    assert np.asarray(rows).tolist() == np.where(table[centres] >= 0, table[centres], 0).reshape(-1).tolist()
    assert np.asarray(row_mask).tolist() == ((table[centres] >= 0) & real.any(axis=1)[:, None]).reshape(-1).tolist()
    assert np.asarray(row_owner).tolist() == np.repeat(np.arange(8) % 4, s).tolist()
    assert np.asarray(pair_owner).tolist() == np.repeat(np.arange(8) % 4, 4).tolist()
    assert np.asarray(pair_mask).tolist() == real.reshape(-1).tolist() and real.any()
    assert np.asarray(targets[:, 0]).tolist() == contexts.reshape(-1).tolist()
    assert not (np.asarray(targets[:, 1:]) == np.asarray(targets[:, :1])).any()


def test_device_examples_train_like_the_host_path_deterministically(small_corpus, tmp_path):
    corpus = tmp_path / "part.txt"
    with open(small_corpus) as f:
        corpus.write_text("".join(line for _, line in zip(range(3000), f)))
    config = FastTextConfig(dim=8, min_count=3, epochs=2, bucket=2000, batch_size=2048, seed=5)
    host = fit(corpus, config, progress=False)
    device = fit(corpus, config.replace(device_examples=True), progress=False)
    again = fit(corpus, config.replace(device_examples=True), progress=False)
    four = fit(corpus, config.replace(device_examples=True, devices=4), progress=False)
    assert device.metrics["device_examples"] and device.vectors.vectors.tobytes() == again.vectors.vectors.tobytes()
    assert device.metrics["examples"] == pytest.approx(host.metrics["examples"], rel=0.01)
    assert device.metrics["epoch_losses"] == pytest.approx(host.metrics["epoch_losses"], rel=0.02)
    assert (device.metrics["devices"], four.metrics["devices"]) == (1, 4)  # 4 devices pack their own parts: not the same bytes
    assert four.metrics["epoch_losses"] == pytest.approx(device.metrics["epoch_losses"], rel=0.02)
    with pytest.raises(ConfigError, match="device_examples applies to fastText skip-gram"):
        FastTextConfig(cbow=True, device_examples=True)

"""A large micro-batch a chunk at a time: the same results as taking it whole."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxembed.chunks import WHOLE_GATHER_VALUES, chunk_size, map_chunks, scan_chunks, taken_whole


def row_sums(arrays):
    """Per example: its row times its weight; and the chunk's total."""
    x_PxD, w_P = arrays
    y_PxD = x_PxD * w_P[:, None]
    return {"y": y_PxD, "ids": jnp.arange(x_PxD.shape[0])}, jnp.sum(y_PxD)


@pytest.mark.parametrize("examples,chunk", [(12, 5), (12, 4), (12, 12), (12, 20), (7, 1)])
def test_map_chunks_joins_the_chunks_in_example_order(examples, chunk):
    rng = np.random.default_rng(0)
    x, w = jnp.asarray(rng.normal(size=(examples, 3)), jnp.float32), jnp.asarray(rng.normal(size=examples), jnp.float32)
    outputs, total = jax.jit(lambda x, w: map_chunks(row_sums, (x, w), chunk))(x, w)
    np.testing.assert_allclose(outputs["y"], np.asarray(x) * np.asarray(w)[:, None], rtol=1e-6)
    np.testing.assert_array_equal(outputs["ids"], np.concatenate([np.arange(examples)[i:i + chunk] - i
                                                                  for i in range(0, examples, chunk)]))
    assert float(total) == pytest.approx(float(np.sum(np.asarray(x) * np.asarray(w)[:, None])), rel=1e-5)


@pytest.mark.parametrize("examples,chunk", [(10, 3), (9, 3), (10, 10), (4, 9)])
def test_scan_chunks_steps_through_the_chunks_in_order(examples, chunk):
    """An order-sensitive step (append to a running text) sees every chunk once, in order."""
    ids = jnp.arange(examples)
    step = lambda carry, xs: carry * 10.0 ** xs[0].shape[0] + jnp.sum(xs[0] * 10.0 ** jnp.arange(xs[0].shape[0])[::-1])
    expected = 0.0
    for start in range(0, examples, chunk):
        part = np.arange(start, min(start + chunk, examples))
        expected = expected * 10.0 ** len(part) + np.sum(part * 10.0 ** np.arange(len(part))[::-1])
    assert float(scan_chunks(step, jnp.float32(0.0), (ids,), chunk)) == pytest.approx(expected, rel=1e-6)


def test_chunk_size_fits_the_budget_and_prefers_divisors():
    assert chunk_size(64, 700, 1 << 18) == 64                    # a small micro-batch is taken whole
    assert chunk_size(16384, 700, 1 << 18) == 256                # at most 374: the divisor 256 leaves nothing over
    assert chunk_size(2731, 700, 1 << 18) == 374                 # 2731 is prime: chunks of the most, 111 left over
    assert chunk_size(1000, 10 ** 9, 1) == 1                     # never fewer than one example
    assert chunk_size(2731, 1600, 1 << 18, 1 << 23) == 2731      # 4.4M values fit `whole`: taken whole


def test_a_micro_batch_is_taken_whole_up_to_the_last_level_cache_on_a_cpu():
    assert taken_whole(WHOLE_GATHER_VALUES) and not taken_whole(WHOLE_GATHER_VALUES + 1)
    assert taken_whole(10, whole=10) and not taken_whole(11, whole=10)

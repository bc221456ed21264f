"""A large micro-batch worked through a chunk of examples at a time, on a CPU.

A micro-batch of thousands of examples gathers and forms hundreds of megabytes of rows at once, which a CPU then
streams through memory several times (gathered, multiplied, scaled, added). Taken in chunks of a few hundred
examples, each chunk's rows stay in the core's cache from gather to use; the result is the same computation, the
chunks run one after another in a lax.scan. An accelerator takes the micro-batch whole (`chunk_size` returns P).
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

GATHER_CHUNK_VALUES = 1 << 18
"""How many floats of gathered rows (examples × rows × D) a large micro-batch's step gathers at a time on a CPU (1 MB,
a core's L2 on current x86 CPUs)."""

WHOLE_GATHER_VALUES = 1 << 23
"""Micro-batches whose gathered rows make at most this many floats (32 MB, a CPU's last-level cache) are taken whole:
shared negatives' 2,731 windows (4.4M floats) ran as fast whole as in chunks, 16,384 pairs (11.5M) 1.4x faster in
chunks."""


def taken_whole(values: int, whole: int = WHOLE_GATHER_VALUES) -> bool:
    """Whether a micro-batch that gathers `values` floats is taken in one piece: on an accelerator, or when they make
    at most `whole`."""
    return jax.default_backend() != "cpu" or values <= whole


def chunk_size(examples: int, values_per_example: int, budget: int, whole: int = 0) -> int:
    """Examples per chunk of a micro-batch of `examples` on a CPU: at most `budget` values' worth (at least one
    example), preferring a divisor of `examples` of at least half that size, so that no examples are left over to
    join separately; all of them on an accelerator, or when the whole micro-batch makes at most `whole` values."""
    most = max(1, budget // max(values_per_example, 1))
    if taken_whole(examples * values_per_example, whole) or examples <= most:
        return examples
    divisor = next(d for d in range(most, 0, -1) if examples % d == 0)
    return divisor if 2 * divisor >= most else most


def split_chunks(arrays: tuple, chunk: int) -> tuple[tuple | None, tuple | None]:
    """(full, left): the arrays' first ⌊P / chunk⌋·chunk examples as (chunks, chunk, ...) arrays, and the P mod chunk
    examples left over; None where there are none."""
    examples = arrays[0].shape[0]
    full = examples // chunk
    stacked = tuple(x[:full * chunk].reshape((full, chunk) + x.shape[1:]) for x in arrays) if full else None
    left = tuple(x[full * chunk:] for x in arrays) if examples % chunk else None
    return stacked, left


def scan_chunks(step: Callable[[Any, tuple], Any], carry: Any, arrays: tuple, chunk: int) -> Any:
    """`carry` after `step(carry, chunk_arrays)` for the arrays' chunks of `chunk` examples in order (axis 0), the
    last one holding the examples left over."""
    stacked, left = split_chunks(arrays, chunk)
    if stacked is not None:
        carry = jax.lax.scan(lambda c, xs: (step(c, xs), None), carry, stacked)[0]
    return carry if left is None else step(carry, left)


def map_chunks(f: Callable[[tuple], tuple[Any, jax.Array]], arrays: tuple, chunk: int) -> tuple[Any, jax.Array]:
    """(outputs, total) of `f(chunk_arrays) -> (outputs, sum)` over the arrays' chunks of `chunk` examples: every
    output leaf (chunk's examples on axis 0) joined in example order, and the chunks' sums added."""
    stacked, left = split_chunks(arrays, chunk)
    parts = []
    if stacked is not None:
        outputs, sums = jax.lax.map(f, stacked)
        parts.append((jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), outputs), jnp.sum(sums)))
    if left is not None:
        parts.append(f(left))
    if len(parts) == 1:
        return parts[0]
    return jax.tree.map(lambda *xs: jnp.concatenate(xs), *[p[0] for p in parts]), parts[0][1] + parts[1][1]

"""Hierarchical softmax (Morin & Bengio 2005; word2vec's `-hs 1`) on padded Huffman paths.

For hidden h and the word's path of inner-node rows u_1..u_L with codes b_l ∈ {0, 1} and mask m_l:

    p(w | h) = Π_l σ((1 − 2 b_l) · h·u_l),      L = −Σ_l m_l log σ((1 − 2 b_l) · h·u_l)

which is the logistic core with labels y_l = 1 − b_l (word2vec.c: g = (1 − code − σ)·α; `hs_targets`), so

    ∂L/∂h = Σ_l m_l (σ(h·u_l) − y_l) u_l,     ∂L/∂u_l = m_l (σ(h·u_l) − y_l) h.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxembed.losses.logistic import batch_logistic_loss


def hs_loss(h_BxD: jax.Array, nodes_BxLxD: jax.Array, codes_BxL: jax.Array, mask_BxL: jax.Array) -> jax.Array:
    """(B,) −log p(w | h) along each padded path."""
    return batch_logistic_loss(h_BxD, nodes_BxLxD, 1.0 - codes_BxL, mask_BxL)


def hs_targets(output_B: jax.Array, valid_B: jax.Array, codes_VxL: jax.Array, points_VxL: jax.Array,
               mask_VxL: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(ids_BxL, labels_BxL, weights_BxL) of each output word's path: its inner nodes, labels 1 − code,
    the path mask (0 for padding examples)."""
    return points_VxL[output_B], 1.0 - codes_VxL[output_B], mask_VxL[output_B] * valid_B[:, None]


def hs_log_probs(h_D: jax.Array, inner_NxD: jax.Array, codes_VxL: jax.Array, points_VxL: jax.Array,
                 mask_VxL: jax.Array) -> jax.Array:
    """(V,) log p(w | h) for every word: Σ_l m_l log σ((1 − 2 b_l) h·u_{point_l})."""
    s_VxL = inner_NxD[points_VxL] @ h_D
    return jnp.sum(mask_VxL * jax.nn.log_sigmoid((1.0 - 2.0 * codes_VxL) * s_VxL), axis=-1)

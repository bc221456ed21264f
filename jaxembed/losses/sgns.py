"""Skip-gram with negative sampling (Mikolov et al. 2013), on gathered rows.

For input vector w (syn0 row of the context word), output vector c (syn1neg row of the centre
word) and K noise rows n_k with masks m_k (0 where a noise word equals the centre word, which
word2vec.c and gensim skip):

    L = −log σ(w·c) − Σ_k m_k log σ(−w·n_k)

    ∂L/∂w = (σ(w·c) − 1) c + Σ_k m_k σ(w·n_k) n_k,   ∂L/∂c = (σ(w·c) − 1) w,   ∂L/∂n_k = m_k σ(w·n_k) w.

It is the logistic core (`losses.logistic`) with targets [c, n_1..n_K] and labels [1, 0..0]
(`sgns_targets`): training takes the core's hand-derived gradients on those targets.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxembed.losses.logistic import batch_logistic_loss


def sgns_labels(negative: int) -> jax.Array:
    """(K+1,) labels: the true output first, then K noise words."""
    return jnp.zeros(negative + 1, jnp.float32).at[0].set(1.0)


def sgns_targets(output_B: jax.Array, negatives_BxK: jax.Array, valid_B: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(ids_BxT, labels_BxT, weights_BxT), T = K+1: the output word then its noise words, labels 1, 0, ..., 0;
    weight 0 for padding examples and for noise words equal to the output."""
    targets_BxT = jnp.concatenate([output_B[:, None], negatives_BxK], axis=1)
    keep_BxT = jnp.concatenate([jnp.ones_like(output_B[:, None], bool), negatives_BxK != output_B[:, None]], axis=1)
    weights_BxT = (keep_BxT & valid_B[:, None]).astype(jnp.float32)
    return targets_BxT, jnp.broadcast_to(sgns_labels(negatives_BxK.shape[1]), weights_BxT.shape), weights_BxT


def sgns_loss(w_BxD: jax.Array, c_BxD: jax.Array, neg_BxKxD: jax.Array, neg_mask_BxK: jax.Array) -> jax.Array:
    """(B,) per-pair SGNS losses (the equation in the module docstring)."""
    out_BxTxD = jnp.concatenate([c_BxD[:, None, :], neg_BxKxD], axis=1)
    weights_BxT = jnp.concatenate([jnp.ones_like(neg_mask_BxK[:, :1]), neg_mask_BxK], axis=1)
    labels_BxT = jnp.broadcast_to(sgns_labels(neg_BxKxD.shape[1]), weights_BxT.shape)
    return batch_logistic_loss(w_BxD, out_BxTxD, labels_BxT, weights_BxT)

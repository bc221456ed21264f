"""Continuous bag of words (Mikolov et al. 2013): predict the centre word from its context rows.

For context rows x_1..x_C with mask m_c (n = Σ_c m_c ≥ 1), the hidden vector is their mean
(word2vec's default) or sum:

    h = (1/n) Σ_c m_c x_c        (mean)          h = Σ_c m_c x_c        (sum)

and the loss is the logistic loss of h against the output rows (negative sampling: centre + K
noise words, as in `sgns`; hierarchical softmax: the centre's Huffman path, see `hsoftmax`).
With ∂L/∂h from the logistic core, the exact gradient for each context row is

    ∂L/∂x_c = (m_c / n) ∂L/∂h    (mean)          ∂L/∂x_c = m_c ∂L/∂h    (sum).

word2vec.c and gensim (cbow_mean=1) update every context row by −α·∂L/∂h, i.e. n times the exact
gradient of the mean; the training step follows them (see `context_row_updates`).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxembed.losses.logistic import batch_logistic_loss, logistic_grads
from jaxembed.losses.sgns import sgns_labels


def context_counts(ctx_mask_BxC: jax.Array) -> jax.Array:
    """(B,) number of real context words, at least 1 (an all-padding row then gives h = 0)."""
    return jnp.maximum(jnp.sum(ctx_mask_BxC, axis=-1), 1.0)


def cbow_hidden(ctx_BxCxD: jax.Array, ctx_mask_BxC: jax.Array, mean: bool = True) -> jax.Array:
    """(B, D) hidden vectors: masked mean (or sum) of the context rows."""
    total_BxD = jnp.einsum("bc,bcd->bd", ctx_mask_BxC, ctx_BxCxD)
    return total_BxD / context_counts(ctx_mask_BxC)[:, None] if mean else total_BxD


def ns_targets_rows(c_BxD: jax.Array, neg_BxKxD: jax.Array, neg_mask_BxK: jax.Array):
    """Output rows (B, K+1, D), labels (B, K+1) and weights (B, K+1) for negative sampling."""
    out_BxTxD = jnp.concatenate([c_BxD[:, None, :], neg_BxKxD], axis=1)
    weights_BxT = jnp.concatenate([jnp.ones_like(neg_mask_BxK[:, :1]), neg_mask_BxK], axis=1)
    return out_BxTxD, jnp.broadcast_to(sgns_labels(neg_BxKxD.shape[1]), weights_BxT.shape), weights_BxT


def cbow_loss(ctx_BxCxD, ctx_mask_BxC, c_BxD, neg_BxKxD, neg_mask_BxK, mean: bool = True) -> jax.Array:
    """(B,) CBOW negative-sampling losses."""
    out_BxTxD, labels_BxT, weights_BxT = ns_targets_rows(c_BxD, neg_BxKxD, neg_mask_BxK)
    return batch_logistic_loss(cbow_hidden(ctx_BxCxD, ctx_mask_BxC, mean), out_BxTxD, labels_BxT, weights_BxT)


def cbow_grads(ctx_BxCxD, ctx_mask_BxC, c_BxD, neg_BxKxD, neg_mask_BxK, mean: bool = True):
    """Hand-derived exact (∂L/∂ctx_BxCxD, ∂L/∂c_BxD, ∂L/∂neg_BxKxD) of Σ_b L_b (module docstring)."""
    out_BxTxD, labels_BxT, weights_BxT = ns_targets_rows(c_BxD, neg_BxKxD, neg_mask_BxK)
    dh_BxD, dout_BxTxD, _ = logistic_grads(cbow_hidden(ctx_BxCxD, ctx_mask_BxC, mean), out_BxTxD, labels_BxT, weights_BxT)
    scale_BxC = ctx_mask_BxC / context_counts(ctx_mask_BxC)[:, None] if mean else ctx_mask_BxC
    return scale_BxC[:, :, None] * dh_BxD[:, None, :], dout_BxTxD[:, 0], dout_BxTxD[:, 1:]


def context_row_updates(dh_BxD: jax.Array, ctx_mask_BxC: jax.Array) -> jax.Array:
    """(B, C, D) word2vec's per-context-row gradient signal: m_c · ∂L/∂h for every context row
    (for the mean this is n × the exact gradient, as word2vec.c and gensim apply it)."""
    return ctx_mask_BxC[:, :, None] * dh_BxD[:, None, :]

"""Continuous bag of words (Mikolov et al. 2013): predict the centre word from its context rows.

For context rows x_1..x_C with mask m_c (n = Σ_c m_c ≥ 1), the hidden vector is their mean
(word2vec's default) or sum:

    h = (1/n) Σ_c m_c x_c        (mean)          h = Σ_c m_c x_c        (sum)

and the loss is the logistic loss of h against the output rows (negative sampling: centre + K
noise words, as in `sgns`; hierarchical softmax: the centre's Huffman path, see `hsoftmax`).
With ∂L/∂h from the logistic core, the exact gradient for each context row is

    ∂L/∂x_c = (m_c / n) ∂L/∂h    (mean)          ∂L/∂x_c = m_c ∂L/∂h    (sum).

word2vec.c and gensim (cbow_mean=1) update every context row by −α·∂L/∂h, i.e. n times the exact
gradient of the mean; training follows them (`context_row_updates`).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxembed.losses.sgns import sgns_loss


def context_counts(ctx_mask_BxC: jax.Array) -> jax.Array:
    """(B,) number of real context words, at least 1 (an all-padding row then gives h = 0)."""
    return jnp.maximum(jnp.sum(ctx_mask_BxC, axis=-1), 1.0)


def cbow_hidden(ctx_BxCxD: jax.Array, ctx_mask_BxC: jax.Array, mean: bool = True) -> jax.Array:
    """(B, D) hidden vectors: masked mean (or sum) of the context rows."""
    total_BxD = jnp.einsum("bc,bcd->bd", ctx_mask_BxC, ctx_BxCxD)
    return total_BxD / context_counts(ctx_mask_BxC)[:, None] if mean else total_BxD


def cbow_loss(ctx_BxCxD, ctx_mask_BxC, c_BxD, neg_BxKxD, neg_mask_BxK, mean: bool = True) -> jax.Array:
    """(B,) CBOW negative-sampling losses: SGNS's loss of the hidden vector."""
    return sgns_loss(cbow_hidden(ctx_BxCxD, ctx_mask_BxC, mean), c_BxD, neg_BxKxD, neg_mask_BxK)


def context_row_updates(dh_BxD: jax.Array, ctx_mask_BxC: jax.Array) -> jax.Array:
    """(B, C, D) word2vec's per-context-row gradient signal: m_c · ∂L/∂h for every context row
    (for the mean this is n × the exact gradient, as word2vec.c and gensim apply it)."""
    return ctx_mask_BxC[:, :, None] * dh_BxD[:, None, :]

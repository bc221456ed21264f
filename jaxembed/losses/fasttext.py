"""fastText (Bojanowski et al. 2017): the hidden vector is the mean of a bag of subword rows.

A packed micro-batch holds E examples. Example e owns the input rows x_f with owner(f) = e and mask
m_f (skip-gram: the centre word's row and its n-gram rows; CBOW: those of every context word),
n_e = Σ_{owner(f)=e} m_f, and

    h_e = (1/n_e) Σ_{owner(f)=e} m_f x_f.

Each of Q pairs q (owner(q) = e) scores h_e against its T output rows with the logistic core
(`losses.logistic`: target label 1, noise words 0, pair weight w_q). With g_q = ∂L/∂h_{owner(q)}
from that core, the exact gradients are

    ∂L/∂h_e = Σ_{owner(q)=e} g_q,      ∂L/∂x_f = (m_f / n_e) ∂L/∂h_{owner(f)}.

fastText's update (Model::update for skip-gram and CBOW) adds −lr·∂L/∂h_e to every row of the
bag, i.e. n_e times the exact gradient of the mean (`bag_row_updates`); only its supervised
mode divides by n_e. The training step follows fastText.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxembed.losses.logistic import batch_logistic_loss, logistic_grads


def bag_sizes(row_mask_F: jax.Array, row_owner_F: jax.Array, num_examples: int) -> jax.Array:
    """(E,) n_e, at least 1 (an empty example then has h = 0)."""
    return jnp.maximum(jax.ops.segment_sum(row_mask_F, row_owner_F, num_examples), 1.0)


def bag_means(rows_FxD: jax.Array, row_mask_F: jax.Array, row_owner_F: jax.Array, num_examples: int) -> jax.Array:
    """(E, D) h_e: the masked mean of each example's rows."""
    sums_ExD = jax.ops.segment_sum(row_mask_F[:, None] * rows_FxD, row_owner_F, num_examples)
    return sums_ExD / bag_sizes(row_mask_F, row_owner_F, num_examples)[:, None]


def fasttext_loss(rows_FxD, row_mask_F, row_owner_F, out_QxTxD, labels_QxT, weights_QxT, pair_owner_Q,
                  num_examples: int) -> jax.Array:
    """(Q,) per-pair logistic losses of the bag means against their output rows."""
    h_ExD = bag_means(rows_FxD, row_mask_F, row_owner_F, num_examples)
    return batch_logistic_loss(h_ExD[pair_owner_Q], out_QxTxD, labels_QxT, weights_QxT)


def fasttext_grads(rows_FxD, row_mask_F, row_owner_F, out_QxTxD, labels_QxT, weights_QxT, pair_owner_Q,
                   num_examples: int):
    """Hand-derived exact (∂L/∂rows_FxD, ∂L/∂out_QxTxD, ∂L/∂h_ExD, loss_Q) of Σ_q L_q (module docstring)."""
    h_ExD = bag_means(rows_FxD, row_mask_F, row_owner_F, num_examples)
    dh_QxD, dout_QxTxD, loss_Q = logistic_grads(h_ExD[pair_owner_Q], out_QxTxD, labels_QxT, weights_QxT)
    dh_ExD = jax.ops.segment_sum(dh_QxD, pair_owner_Q, num_examples)
    scale_F = row_mask_F / bag_sizes(row_mask_F, row_owner_F, num_examples)[row_owner_F]
    return scale_F[:, None] * dh_ExD[row_owner_F], dout_QxTxD, dh_ExD, loss_Q


def bag_row_updates(dh_ExD: jax.Array, row_mask_F: jax.Array, row_owner_F: jax.Array) -> jax.Array:
    """(F, D) fastText's gradient signal per bag row: m_f · ∂L/∂h_{owner(f)} (n_e × the exact gradient)."""
    return row_mask_F[:, None] * dh_ExD[row_owner_F]

"""The epoch loop every model trains in: one jitted call per block, with the reliability around it.

- Losses are read back at most `MAX_CALLS_IN_FLIGHT` calls behind dispatch (bounding queued work
  and memory, with no extra device sync on the hot path) and checked for NaN/inf there: a
  non-finite loss stops training with `TrainingDiverged`, leaving the last good checkpoint.
- Checkpoints (`checkpoint.Checkpointer`) are written between blocks when due and on SIGINT/SIGTERM,
  which only set a flag while training (`interrupts.Interrupts.deferring`), so a block is never cut in
  half; a second signal interrupts at once.
- A run starts from a `Position`: the first `position.block` blocks of `position.epoch` are skipped.
"""
from __future__ import annotations

import collections
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from jaxembed.checkpoint import Checkpointer, Position
from jaxembed.errors import TrainingDiverged, TrainingInterrupted
from jaxembed.interrupts import Interrupts, handling_interrupts
from jaxembed.models.base import Block
from jaxembed.parallel import serial_calls

MAX_CALLS_IN_FLIGHT = 32


def calls_in_flight(mesh: jax.sharding.Mesh) -> int:
    """How many step calls the loop may leave queued: none when `parallel.serial_calls`, else MAX_CALLS_IN_FLIGHT."""
    return 0 if serial_calls(mesh) else MAX_CALLS_IN_FLIGHT


@dataclasses.dataclass(frozen=True)
class EpochLoop:
    """One run's training loop.

    step(state, *block.arrays) -> (state, loss_sum): the jitted call; blocks(epoch, skip): the epoch's
    blocks after the first `skip` (models.base.Block: each says how many examples its loss covers and
    where the run is after it, in `unit`s, of `units_per_epoch` per epoch); calls_in_flight: how many
    calls may stay queued before the loop waits. merge(state) -> state, when given, runs after every
    `merge_every` blocks of an epoch and after its last one (jaxembed.replicas), before any checkpoint there.
    """

    step: Callable[..., tuple[Any, Any]]
    blocks: Callable[[int, int], Iterator[Block]]
    epochs: int
    units_per_epoch: int
    unit: str
    desc: str
    calls_in_flight: int = MAX_CALLS_IN_FLIGHT
    merge: Callable[[Any], Any] | None = None
    merge_every: int = 1


class LossReader:
    """Loss sums of dispatched calls, read back in order at most `limit` calls behind, checked finite,
    and added to the position."""

    def __init__(self, position: Position, checkpointer: Checkpointer | None, limit: int = MAX_CALLS_IN_FLIGHT):
        self.position, self.checkpointer, self.limit = position, checkpointer, limit
        self.pending: collections.deque = collections.deque()
        self.recent: float | None = None  # the latest block's loss per example, once one is read back

    def push(self, loss_sum: Any, count: int, epoch: int, block: int) -> None:
        self.pending.append((loss_sum, count, epoch, block))
        while len(self.pending) > self.limit:
            self.read_oldest()

    def drain(self) -> None:
        while self.pending:
            self.read_oldest()

    def read_oldest(self) -> None:
        loss_sum, count, epoch, block = self.pending.popleft()
        if count is None:  # the step counted its examples: [loss_sum, examples]
            loss_sum, count = np.asarray(loss_sum).tolist()
            count = int(count)
        value = sum(map(float, loss_sum)) if isinstance(loss_sum, tuple) else float(loss_sum)  # replicas: one each
        if not math.isfinite(value):
            raise TrainingDiverged(f"training diverged: the loss of epoch {epoch + 1}, block {block + 1} is {value} "
                                   f"(learning rate too high?); {kept_checkpoint(self.checkpointer)}")
        self.position.loss_sum += value
        self.position.examples += count
        self.recent = value / max(count, 1)


def run_epochs(loop: EpochLoop, state: Any, position: Position, checkpointer: Checkpointer | None,
               show_progress: bool) -> tuple[Any, Position]:
    """Train from `position` to the end of `loop.epochs`; returns the final state and position.

    Raises TrainingDiverged on NaN/inf loss or parameters, TrainingInterrupted (after saving a
    checkpoint, when checkpointing) on SIGINT/SIGTERM.
    """
    done = position.epoch * loop.units_per_epoch
    bar = tqdm(total=loop.units_per_epoch * loop.epochs, initial=done, unit=loop.unit, unit_scale=True,
               disable=not show_progress, desc=loop.desc, dynamic_ncols=True, mininterval=0.5)
    losses = LossReader(position, checkpointer, loop.calls_in_flight)
    with handling_interrupts() as interrupts, interrupts.deferring(), bar:
        while position.epoch < loop.epochs:
            epoch, epoch_start = position.epoch, time.perf_counter()
            for index, block in enumerate(loop.blocks(epoch, position.block), start=position.block):
                state, loss_sum = loop.step(state, *block.arrays)
                losses.push(loss_sum, block.examples, epoch, index)
                position.block = index + 1
                if loop.merge is not None and position.block % loop.merge_every == 0:
                    state = loop.merge(state)
                if block.done > done:
                    bar.update(block.done - done)
                    done = block.done
                if index % 50 == 0:
                    bar.set_postfix({"epoch": epoch + 1} if losses.recent is None else
                                    {"epoch": epoch + 1, "loss": f"{losses.recent:.4f}"})
                if interrupts.requested or (checkpointer and checkpointer.due()):
                    losses.drain()
                    stop_or_save(state, position, checkpointer, interrupts)
            if loop.merge is not None and position.block % loop.merge_every:
                state = loop.merge(state)
            losses.drain()
            position.finish_epoch(time.perf_counter() - epoch_start)
            bar.update(position.epoch * loop.units_per_epoch - done)
            done = position.epoch * loop.units_per_epoch
        if not all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(state)):  # on device: no host copy
            raise TrainingDiverged(f"training diverged: the final parameters hold NaN or inf; {kept_checkpoint(checkpointer)}")
    return state, position


def kept_checkpoint(checkpointer: Checkpointer | None) -> str:
    """What a failure leaves on disk, for error messages."""
    return checkpointer.kept() if checkpointer else "no checkpoint was being written"


def stop_or_save(state: Any, position: Position, checkpointer: Checkpointer | None, interrupts: Interrupts) -> None:
    """Write a checkpoint (when checkpointing); on an interrupt, then stop with TrainingInterrupted."""
    if checkpointer:
        checkpointer.save(state, position)
    if interrupts.requested:
        where = (f"checkpoint of epoch {position.epoch + 1}, block {position.block} saved in {checkpointer.directory!r}; "
                 f"continue with: jaxembed train --resume {checkpointer.directory}") if checkpointer else "no checkpoint written"
        raise TrainingInterrupted(f"interrupted by {interrupts.name}: {where}")

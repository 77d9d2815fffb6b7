"""A learner's walk over logged rows in replay (ope/replay.py) as one compiled function per policy, for the
K-armed kernel policies (arms.py, policies.py) and the linear ones (linear.py), with no adapter around them.

Replay's rule (Li, Chu, Langford & Wang 2011): the learner picks an action for each logged row in turn; a row
counts when its pick is the logged action and rejection sampling's coin accepts it, and then the learner learns
from it. A row's pick draws from a stream of its own, derived from the learner's stream and the row's place in
the log (rng.split), and a pick that does not count leaves no trace: whatever the choose kernel wrote into the
state on such a row (a kept index, a note) is put back. That is what the general walk in ope/replay.py does with
NumPy over stretches of rows, state broadcast and copied; here one row at a time, in compiled code, with the
same picks and the same learning, so the same figures. The walks release the GIL: replay runs its learners'
walks of a chunk in threads.

Each walk returns the number of rows kept (their indices into `kept`) and adds to `tallies` (4,): the rows picked
for, the picks equal to the logged action, the acceptance probabilities of those, and the picks of actions the
log never shows.

The walks hand the policy's kernels the repetition's index (0) as an int, as the races do: the constant 0
is a type of its own to numba, with which every choose and learn kernel replay walks was compiled once more."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, linear, rng
from banditmap.sim.kernels.arms import bind


def choose(*args: Any) -> int:  # pragma: no cover - replaced in each binding by the policy's own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each binding by the policy's own learn
    raise NotImplementedError


@jit
def counts_row(pick: int, i: int, actions: np.ndarray, coins: np.ndarray, accept: np.ndarray, supported: np.ndarray,
               tallies: np.ndarray) -> bool:
    """Row i's pick added to the tallies (see the module's docstring); whether the row counts: the pick is the
    logged action and rejection sampling's coin keeps the row."""
    tallies[0] += 1.0
    if not supported[pick]:
        tallies[3] += 1.0
    if pick != actions[i]:
        return False
    tallies[1] += 1.0
    tallies[2] += accept[i]
    return bool(coins[i])


def walk_arms_template(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                       scratch: np.ndarray, draws: np.ndarray, t: int, horizon: int, first: int,
                       actions: np.ndarray, rewards: np.ndarray, coins: np.ndarray, accept: np.ndarray,
                       supported: np.ndarray, keeps_writes: bool, kept: np.ndarray,
                       tallies: np.ndarray) -> tuple[int, int]:
    """A K-armed kernel policy's walk (state of one repetition, row 0), rows [first, first + n) of the log; with
    `keeps_writes` (a choose kernel that writes into its state), the state's rows are put back after each pick
    that does not count. Returns the rows kept and the decision count t after them."""
    K, W = counts.shape[1], scratch.shape[1]
    row = np.int64(0)  # typed as the races' repetition index (the module's docstring says why)
    saved = np.empty(3 * K + W)
    row_draws = np.empty(1, np.uint64)
    start = rng.mix(draws[0])
    n_kept = 0
    for i in range(actions.shape[0]):
        row_draws[0] = rng.mix(start + np.uint64(first + i + 1) * rng.GOLDEN)
        if keeps_writes:
            for k in range(K):
                saved[k], saved[K + k], saved[2 * K + k] = counts[0, k], sums[0, k], means[0, k]
            for j in range(W):
                saved[3 * K + j] = scratch[0, j]
        pick = choose(params, counts, sums, means, scratch, row_draws, row, t, horizon)
        if counts_row(pick, i, actions, coins, accept, supported, tallies):
            draws[0] = row_draws[0]
            t += 1
            learn(params, counts, sums, means, scratch, draws, row, pick, rewards[i])
            kept[n_kept] = i
            n_kept += 1
            start = rng.mix(draws[0])
            continue
        if keeps_writes:
            for k in range(K):
                counts[0, k], sums[0, k], means[0, k] = saved[k], saved[K + k], saved[2 * K + k]
            for j in range(W):
                scratch[0, j] = saved[3 * K + j]
    return n_kept, t


def walk_linear_template(params: np.ndarray, inverse: np.ndarray, target: np.ndarray, theta: np.ndarray,
                         scratch: np.ndarray, draws: np.ndarray, first: int, contexts: np.ndarray,
                         actions: np.ndarray, rewards: np.ndarray, coins: np.ndarray, accept: np.ndarray,
                         supported: np.ndarray, kept: np.ndarray, tallies: np.ndarray) -> int:
    """A linear kernel policy's walk (state of one repetition, row 0), rows [first, first + n) of the log with
    their contexts (n, d). The linear choose kernels read the regressions and may write only their scratch row
    (conservative LinUCB's sums of contexts), which is put back after each pick that does not count. Returns the
    rows kept."""
    W = scratch.shape[1]
    row = np.int64(0)  # typed as the races' repetition index (the module's docstring says why)
    saved = np.empty(W)
    row_draws = np.empty(1, np.uint64)
    start = rng.mix(draws[0])
    n_kept = 0
    for i in range(actions.shape[0]):
        row_draws[0] = rng.mix(start + np.uint64(first + i + 1) * rng.GOLDEN)
        for j in range(W):
            saved[j] = scratch[0, j]
        x = contexts[i]
        pick = choose(params, inverse, target, theta, scratch, row_draws, row, x)
        if counts_row(pick, i, actions, coins, accept, supported, tallies):
            draws[0] = row_draws[0]
            learn(params, inverse, target, theta, scratch, draws, row, pick, x, rewards[i])
            kept[n_kept] = i
            n_kept += 1
            start = rng.mix(draws[0])
            continue
        for j in range(W):
            scratch[0, j] = saved[j]
    return n_kept


@functools.cache
def walk_arms(choose_name: str, learn_name: str) -> Any:
    """The compiled walk of the K-armed kernel policy with these kernels (arms.kernel names them)."""
    return bind(walk_arms_template, arms.named("walk_arms", choose_name, learn_name), nogil=True,
                namespace=globals(), choose=arms.kernel(choose_name), learn=arms.kernel(learn_name))


@functools.cache
def walk_linear(choose_name: str, learn_name: str) -> Any:
    """The compiled walk of the linear kernel policy with these kernels (linear.kernel names them)."""
    return bind(walk_linear_template, arms.named("walk_linear", choose_name, learn_name), nogil=True,
                namespace=globals(), choose=linear.kernel(choose_name), learn=linear.kernel(learn_name))

"""The compiled race on multi-objective K-armed problems: the world (arms with a vector of D mean rewards, Pareto
regret) and the loop over every round of every repetition, in machine code and run by threads over blocks of
repetitions, as arms.py does for one reward per decision.

The world (Drugan & Nowe 2013): arm k of repetition r has means mu[r, k] (D,), uniform in [0.1, 0.9], drawn arm by
arm, objective by objective, from the world's stream; a decision observes a reward per objective, Bernoulli or the
mean plus Gaussian noise (sd 0.1), D draws whatever the arm, so the draws stay common to every policy. Regret is
the Pareto regret: the smallest lift eps that leaves the chosen arm's means plus eps dominated by no arm, zero on
the Pareto front; a round's value is the chosen arm's mean over the objectives.

A policy is a pair of compiled functions with arms.py's signature, except that `learn` is handed the reward vector
(D,) of the decision: `learn(params, counts, sums, means, scratch, draws, r, arm, observed)`; a policy that notes
something on its decision (scratch wider than K + 1) has it travel with late feedback, as in arms.race. The
scalarization template of kernels/wrappers.py gives any K-armed kernel policy that form."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from banditmap.sim.kernels import arms, jit, rng
from banditmap.sim.kernels.arms import bind

LOW, HIGH = 0.1, 0.9  # the range of the arms' means
LATER = 1 << 62  # an arrival round after any race's last


# --- the world ----------------------------------------------------------------------------------------------------

@jit
def draw_arms(mu: np.ndarray, env: np.ndarray, r: int) -> None:
    """Repetition r's means (K, D): uniform in [LOW, HIGH], arm by arm, objective by objective."""
    for k in range(mu.shape[1]):
        for d in range(mu.shape[2]):
            mu[r, k, d] = LOW + (HIGH - LOW) * rng.uniform(env, r)


@jit
def pareto_gaps(mu: np.ndarray, gaps: np.ndarray, r: int) -> None:
    """gaps[r, a] (K,): max over arms b of min over objectives of mu_b,d - mu_a,d, at least 0: the lift arm a needs
    in every objective before no arm dominates it (Drugan & Nowe 2013's Pareto regret of playing a)."""
    K, D = mu.shape[1], mu.shape[2]
    for a in range(K):
        gap = 0.0
        for b in range(K):
            lift = np.inf
            for d in range(D):
                lift = min(lift, mu[r, b, d] - mu[r, a, d])
            gap = max(gap, lift)
        gaps[r, a] = gap


@jit
def value_of(mu: np.ndarray, r: int, arm: int) -> float:
    """A round's value: the chosen arm's mean over the objectives (summed in objective order)."""
    total = 0.0
    for d in range(mu.shape[2]):
        total += mu[r, arm, d]
    mean: float = total / mu.shape[2]
    return mean


@jit
def draw_rewards(mu: np.ndarray, env: np.ndarray, r: int, arm: int, reward: int, observed: np.ndarray) -> None:
    """The decision's rewards (D,): per objective, Bernoulli with its mean, or the mean plus N(0, 0.1^2) noise."""
    for d in range(mu.shape[2]):
        mean = mu[r, arm, d]
        if reward == arms.BINARY:
            observed[d] = 1.0 if rng.uniform(env, r) < mean else 0.0
        else:
            observed[d] = mean + 0.1 * rng.normal(env, r)


@jit
def draw_worlds(mu: np.ndarray, gaps: np.ndarray, env: np.ndarray) -> None:
    """Every repetition's means (R, K, D) and each arm's Pareto gap (R, K)."""
    for r in range(mu.shape[0]):
        draw_arms(mu, env, r)
        pareto_gaps(mu, gaps, r)


@jit
def world_step(mu: np.ndarray, env: np.ndarray, actions: np.ndarray, reward: int, value: np.ndarray,
               observed: np.ndarray) -> None:
    """A round for every repetition: the value of each chosen arm (R,) and the rewards drawn for it (R, D)."""
    for r in range(mu.shape[0]):
        value[r] = value_of(mu, r, actions[r])
        draw_rewards(mu, env, r, actions[r], reward, observed[r])


# --- the race -------------------------------------------------------------------------------------------------------

def choose(*args: Any) -> int:  # pragma: no cover - replaced in each policy's race by its own choose
    raise NotImplementedError


def learn(*args: Any) -> None:  # pragma: no cover - replaced in each policy's race by its own learn
    raise NotImplementedError


def deliver(*args: Any) -> tuple[int, int]:  # pragma: no cover - replaced in each race by its learn's delivery
    raise NotImplementedError


def race(params: np.ndarray, env: np.ndarray, delays: np.ndarray, draws: np.ndarray, K: int, D: int,
         start: np.ndarray, T: int, reward: int, feedback: int, mean_delay: float, batch: int, points: np.ndarray,
         curve: np.ndarray, final: np.ndarray, tail: np.ndarray, optimal: np.ndarray) -> None:
    """One policy's whole race over R = len(env) repetitions of K arms with D objectives: env, delays and draws are
    the streams (R,) of the world, the feedback delays and the policy (advanced in place), `start` the policy's
    scratch row (W,) before round 0. Fills the Pareto regret curve at `points` (1-based rounds) (R, P), the final
    regret, the mean value over the last 10% of rounds and the share of rounds on the Pareto front (R,) each. Every
    step draws from the streams in the order of the step-by-step loop (`draw_worlds`, the policy's decision,
    `world_step`, the delay), so both give the same numbers."""
    R = env.shape[0]
    mu = np.empty((R, K, D))
    gaps = np.empty((R, K))
    counts, sums, means = np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K))
    scratch = np.empty((R, start.shape[0]))
    noted = start.shape[0] > K + 1  # the policy's note on a decision travels with its observation
    tail_start = T - max(1, T // 10)
    for r in range(R):
        scratch[r] = start
        draw_arms(mu, env, r)
        pareto_gaps(mu, gaps, r)
        observed = np.empty(D)
        queue_at = np.empty(16, np.int64)  # feedback not yet delivered: arrival round, arm, rewards, note
        queue_arm = np.empty(16, np.int64)
        queue_observed = np.empty((16, D))
        queue_note = np.empty(16)
        queued = 0
        soonest = LATER  # the earliest arrival round queued
        books = np.zeros(arms.BOOKS)
        column = 0
        for t in range(T):
            arm = choose(params, counts, sums, means, scratch, draws, r, t, T)
            value = value_of(mu, r, arm)
            arms.account(books, value, value + gaps[r, arm], 0.0, t, tail_start, False, 0.0)
            draw_rewards(mu, env, r, arm, reward, observed)
            column = arms.checkpoint(books, points, curve, r, t, column)
            if feedback == arms.IMMEDIATE:
                learn(params, counts, sums, means, scratch, draws, r, arm, observed)
                continue
            if queued == queue_at.shape[0]:
                queue_at, queue_arm, queue_note = arms.grow(queue_at), arms.grow(queue_arm), arms.grow(queue_note)
                queue_observed = np.concatenate((queue_observed, np.empty_like(queue_observed)))
            queue_at[queued] = arms.arrival(feedback, delays, r, t, mean_delay, batch)
            queue_arm[queued] = arm
            queue_observed[queued] = observed
            queue_note[queued] = scratch[r, K + 1] if noted else 0.0
            soonest = min(soonest, queue_at[queued])
            queued += 1
            if soonest <= t + 1:
                queued, soonest = deliver(params, counts, sums, means, scratch, draws, r, t + 1, noted, queue_at,
                                          queue_arm, queue_observed, queue_note, queued)
        final[r] = books[0]
        optimal[r] = books[1] / T
        tail[r] = books[2] / (T - tail_start)


def deliver_template(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray,
                     scratch: np.ndarray, draws: np.ndarray, r: int, now: int, noted: bool, queue_at: np.ndarray,
                     queue_arm: np.ndarray, queue_observed: np.ndarray, queue_note: np.ndarray,
                     queued: int) -> tuple[int, int]:
    """Learn every queued observation visible at round `now`, in the order it was queued (its note put back first),
    keeping the others in order, in one pass (the step-by-step loop delivers the same ones in the same order).
    Returns the entries left and the earliest arrival round among them (LATER: none)."""
    K = counts.shape[1]
    kept = 0
    soonest = LATER
    for i in range(queued):
        if queue_at[i] <= now:
            if noted:
                scratch[r, K + 1] = queue_note[i]
            learn(params, counts, sums, means, scratch, draws, r, queue_arm[i], queue_observed[i])
            continue
        if kept != i:
            queue_at[kept], queue_arm[kept], queue_note[kept] = queue_at[i], queue_arm[i], queue_note[i]
            queue_observed[kept] = queue_observed[i]
        soonest = min(soonest, queue_at[kept])
        kept += 1
    return kept, soonest


def kernel(name: str) -> Any:
    """A kernel by name: here (learning that ignores the rewards), or a K-armed policy's or adapter's (arms.kernel:
    the scalar template of kernels/wrappers.py around a base's kernels)."""
    return globals()[name] if name in ("learn_nothing",) else arms.kernel(name)


@jit
def learn_nothing(params: np.ndarray, counts: np.ndarray, sums: np.ndarray, means: np.ndarray, scratch: np.ndarray,
                  draws: np.ndarray, r: int, arm: int, observed: np.ndarray) -> None:
    """A policy that learns nothing from a reward vector (the uniform baseline)."""
    return None


@functools.cache
def make_race(choose_name: str, learn_name: str) -> Any:
    """A multi-objective policy's whole race as one compiled function (compiled once, then cached on disk), for any
    block of repetitions (compiled.by_repetitions runs blocks in threads)."""
    learner = kernel(learn_name)
    deliver = bind(deliver_template, arms.named("multi_deliver", learn_name), namespace=globals(), learn=learner)
    return bind(race, arms.named("multi_race", choose_name, learn_name), nogil=True, namespace=globals(),
                choose=kernel(choose_name), learn=learner, deliver=deliver)

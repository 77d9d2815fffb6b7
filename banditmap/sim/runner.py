"""Runs policies on an environment: one loop over rounds, arrays over repetitions, seeded streams, feedback
that arrives at once, late or in batches, and exact regret curves."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from banditmap.sim import compiled
from banditmap.sim.kernels import arms as kernel_arms
from banditmap.sim.kernels import rng as kernel_rng
from banditmap.sim.environments import Environment, make_environment
from banditmap.sim.policies import Feedback, Policy
from banditmap.sim.problem import SAFETY_ALPHA, Problem

Progress = Callable[[str, int, int], None]
CHECKPOINTS = 200


@dataclass(frozen=True)
class RunSpec:
    """One candidate to race: its id, display name and configured policy, and its hyperparameters as shown
    (a composition's as `component.name`; None: the policy's own fields)."""

    id: str
    name: str
    policy: Policy[Any]
    params: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Run:
    """What one algorithm did over all repetitions."""

    id: str
    name: str
    rounds: tuple[int, ...]  # the rounds at which the curves are sampled (1-based)
    regret: np.ndarray  # (R, P) cumulative regret at those rounds
    final_regret: np.ndarray  # (R,)
    last_reward: np.ndarray  # (R,) mean expected reward per round over the last 10% of rounds
    optimal: np.ndarray  # (R,) share of rounds with a best action
    seconds: float
    identified: np.ndarray | None  # (R,) bool: best arm named at the end (best-arm identification)
    simple_regret: np.ndarray | None  # (R,)
    below_baseline: np.ndarray | None = None  # (R,) share of rounds with running reward under (1 - alpha) x baseline's


def streams(seed: int, algorithm_id: str) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Environment, delay and policy generators. The first two depend on the seed only, so every algorithm
    meets the same instance and draws; the policy's depends on the seed and its id, so adding an algorithm
    never changes another's numbers."""
    env = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0])))
    delays = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 1])))
    policy = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 2, zlib.crc32(algorithm_id.encode())])))
    return env, delays, policy


def checkpoints(rounds: int) -> np.ndarray:
    points = np.unique(np.linspace(1, rounds, min(rounds, CHECKPOINTS)).round().astype(int))
    return points


class Pending:
    """Observations not yet delivered to the policy, with the round at which each becomes visible."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray | None, ...]] = []

    FIELDS = 7  # arrival, reps, actions, observed, contexts, aux, costs

    def add(self, arrival: np.ndarray, reps: np.ndarray, actions: Any, observed: Any, contexts: Any, aux: Any,
            costs: Any) -> None:
        self.parts.append((arrival, reps, actions, observed, contexts, aux, costs))

    def due(self, now: int) -> Feedback | None:
        """Pop everything visible at round `now` as one Feedback."""
        if not self.parts:
            return None
        merged = tuple(np.concatenate([p[i] for p in self.parts]) if self.parts[0][i] is not None else None
                       for i in range(self.FIELDS))
        arrival = merged[0]
        assert arrival is not None
        ready: np.ndarray = arrival <= now
        if not ready.any():
            self.parts = [merged]
            return None
        keep = ~ready
        self.parts = [tuple(None if a is None else a[keep] for a in merged)] if keep.any() else []
        _, reps, actions, observed, contexts, aux, costs = (None if a is None else a[ready] for a in merged)
        assert reps is not None and actions is not None and observed is not None
        return Feedback(reps, actions, observed, contexts, aux, costs=costs)


def run(spec: RunSpec, problem: Problem, seed: int, progress: Progress | None = None,
        environment: Callable[[Problem, np.random.Generator], Environment] = make_environment) -> Run:
    """Race one policy; `environment` builds the instance (the problem's synthetic one unless a test gives its own).
    A policy with a compiled kernel, on a problem its kernel covers, races in machine code (sim/compiled.py)."""
    if environment is make_environment and compiled.covers(spec.policy, problem):
        return run_compiled(spec, problem, seed, progress)
    env_rng, delay_rng, policy_rng = streams(seed, spec.id)
    delays = kernel_rng.states_from(delay_rng, problem.reps)
    env = environment(problem, env_rng)
    policy = spec.policy
    state = policy.init(problem, policy_rng)
    R, T = problem.reps, problem.rounds
    reps = np.arange(R)
    points = checkpoints(T)
    marks = np.zeros(T + 1, dtype=bool)
    marks[points] = True
    curve = np.zeros((R, len(points)))
    cumulative = np.zeros(R)
    optimal = np.zeros(R)
    tail_start = T - max(1, T // 10)
    tail = np.zeros(R)
    pending = Pending()
    safety = problem.constraint == "safety"
    earned, baseline_earned, below = np.zeros(R), np.zeros(R), np.zeros(R)
    watched = False  # whether the environment reported a baseline to compare with
    column = 0
    step_report = max(1, T // 100)
    started = time.perf_counter()
    for t in range(T):
        context = env.context(t)
        state.aux = None
        action = policy.select(state, context)
        state.t += 1
        outcome = env.step(t, action, context)
        cumulative += outcome.best - outcome.value
        optimal += outcome.optimal
        if t >= tail_start:
            tail += outcome.value
        if safety and outcome.baseline is not None:
            watched = True
            earned += outcome.value
            baseline_earned += outcome.baseline
            below += earned < (1 - SAFETY_ALPHA) * baseline_earned
        if marks[t + 1]:
            curve[:, column] = cumulative
            column += 1
        if problem.delay == "immediate":
            policy.update(state, Feedback(reps, action, outcome.observation, context, state.aux, unique=True,
                                          costs=outcome.cost))
        else:
            deliver(problem, t, delays, pending, reps, action, outcome.observation, context, state.aux,
                    outcome.cost, compiled.censoring(policy, problem))
            due = pending.due(t + 1)
            if due is not None:
                policy.update(state, due)
        if progress is not None and (t + 1) % step_report == 0:
            progress(spec.id, t + 1, T)
    seconds = time.perf_counter() - started
    identified = simple = None
    if problem.objective == "best_arm" and problem.kind == "arms":
        guess = policy.recommend(state)
        means = env.expected(context)  # type: ignore[attr-defined]  # an Arms world, or a test's stand-in
        best = means.max(axis=1)
        simple = best - means[reps, guess]
        identified = simple <= 1e-12
    return Run(spec.id, spec.name, tuple(int(p) for p in points), curve, cumulative.copy(), tail / (T - tail_start),
               optimal / T, seconds, identified, simple, below / T if watched else None)


def deliver(problem: Problem, t: int, delays: np.ndarray, pending: Pending, reps: np.ndarray,
            action: np.ndarray, observed: np.ndarray, context: np.ndarray | None, aux: np.ndarray | None,
            costs: np.ndarray | None, censoring: int = 0) -> None:
    """Queue this round's observations with the round at which the policy may see them; `delays` are the kernel
    streams (R,) of the feedback delays (the compiled race draws the same ones). Where conversions may never come
    (`censoring`, compiled.censoring), what each play reports and when is kernels/arms.py's `censor`, and a play
    that reports nothing is not queued."""
    if problem.delay == "delayed":
        # geometric delays with the problem's mean: most rewards come soon, some much later
        arrival = kernel_arms.delays_of(delays, t, float(problem.mean_delay))
    elif problem.delay == "batched":
        arrival = np.full(problem.reps, (t // problem.batch_size + 1) * problem.batch_size)
    else:
        raise AssertionError("immediate feedback is delivered directly")
    if censoring:
        observed = np.asarray(observed, dtype=np.float64).copy()
        kernel_arms.censor_all(arrival, t, observed, censoring)
        kept = arrival >= 0
        if not kept.all():
            arrival, reps, action, observed = arrival[kept], reps[kept], action[kept], observed[kept]
            context, aux, costs = (None if a is None else a[kept] for a in (context, aux, costs))
    pending.add(arrival, reps, action, observed, context, aux, costs)


def run_compiled(spec: RunSpec, problem: Problem, seed: int, progress: Progress | None = None) -> Run:
    """The compiled race of one policy, as a Run like the NumPy loop's; on a best-arm problem, the arm the policy
    names at the end is asked of its `recommend` on a state holding the race's final statistics."""
    points = checkpoints(problem.rounds)
    result = compiled.run_compiled(spec.policy, problem, streams(seed, spec.id), points)
    if progress is not None:
        progress(spec.id, problem.rounds, problem.rounds)
    identified = simple = None
    if problem.objective == "best_arm" and problem.kind == "arms":  # as the loop: the arm named, on K arms only
        assert result.mu is not None
        guess = spec.policy.recommend(final_state(spec, problem, seed, result))
        best = result.mu.max(axis=1)
        simple = best - result.mu[np.arange(problem.reps), guess]
        identified = simple <= 1e-12
    return Run(spec.id, spec.name, tuple(int(p) for p in points), result.curve, result.final, result.tail,
               result.optimal, result.seconds, identified, simple, result.below)


def final_state(spec: RunSpec, problem: Problem, seed: int, result: compiled.CompiledRun) -> Any:
    """The policy's state (a wrapper's around its base's) with the base's statistics and scratch as the compiled
    race left them; its generator (for ties) derives from the seed and the policy's id, as the race's do."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 3, zlib.crc32(spec.id.encode())])))
    state = spec.policy.init(problem, rng)
    base = state
    while hasattr(base, "inner"):
        base = base.inner
    assert result.counts is not None and result.sums is not None and result.means is not None
    assert result.scratch is not None
    base.counts[:], base.sums[:], base.means[:] = result.counts, result.sums, result.means
    base.scratch[:] = result.scratch[:, :base.scratch.shape[1]]
    return state

"""Which races run compiled, and running them: a policy whose decisions are compiled kernels (policies/mab.py's
Kernel), on a problem the whole-race kernel covers, races every round of every repetition in machine code;
anything else goes through the step-by-step loop of runner.py, which calls the same kernels one round at a time and
gives the same numbers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from banditmap.sim.problem import SAFETY_ALPHA, Problem


@dataclass(frozen=True)
class KernelForm:
    """A policy as the whole-race kernel runs it: the names of its choose and learn kernels, its hyperparameters
    and its scratch row before the first round."""

    choose: str
    learn: str
    params: np.ndarray
    start: np.ndarray


def kernel_form(policy: object, problem: Problem) -> KernelForm | None:
    """A counting policy whose decisions are kernels (policies/mab.py's Kernel), or such a policy wrapped by
    adapters that each have compiled templates (sim/kernels/wrappers.py), as kernels; else None."""
    from banditmap.sim.adapters.base import Wrapper
    from banditmap.sim.policies.mab import Kernel
    if isinstance(policy, Kernel):
        return KernelForm(policy.choose, policy.learn, policy.params(), policy.start(problem))
    if not isinstance(policy, Wrapper) or policy.kernels is None:
        return None
    inner = kernel_form(policy.base, problem)
    if inner is None:
        return None
    from banditmap.sim.kernels.wrappers import composite_name
    start = inner.start if inner.start.shape[0] > problem.n_arms + 1 else np.append(inner.start, 0.0)
    return KernelForm(composite_name(f"{policy.kernels}_choose", inner.choose, inner.learn),
                      composite_name(f"{policy.kernels}_learn", inner.choose, inner.learn),
                      np.concatenate([inner.params, policy.params()]),
                      np.concatenate([start, policy.region(problem)]))


def covers(policy: object, problem: Problem) -> bool:
    """Whether the compiled race runs this policy on this problem: a policy whose decisions are kernels, or such
    a policy wrapped by adapters with compiled templates, on a problem whose world is the kernels' and whose
    regret is cumulative (best-arm identification needs what only the loop has), with any reward, dynamics,
    feedback and the safety constraint or none: a counting policy on K arms, a linear policy on the linear
    contextual world."""
    from banditmap.sim.policies.contextual import LinearKernel
    if problem.objective != "cumulative" or problem.constraint not in ("none", "safety"):
        return False
    if problem.kind == "arms":
        return kernel_form(policy, problem) is not None
    return problem.kind == "contextual" and problem.model == "linear" and isinstance(policy, LinearKernel)


def run_compiled(policy: Any, problem: Problem, streams: tuple[np.random.Generator, ...],
                 points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, float]:
    """(curve (R, P), final regret (R,), mean reward over the last 10% of rounds (R,), share of optimal rounds
    (R,), share of rounds below the baseline (R,) on safety problems, seconds) of one policy's compiled race.
    `streams` are the race's generators of the environment, the delays and the policy (runner.streams); each
    gives one kernel stream per repetition, as it does in the step-by-step loop."""
    from banditmap.sim.kernels import arms, linear, rng
    R, K, T = problem.reps, problem.n_arms, problem.rounds
    if problem.kind == "contextual":  # the linear race takes the features and the ridge's l2 after K
        shape: tuple[Any, ...] = (K, problem.n_features, float(policy.l2))
        race = linear.make_race(policy.choose, "learn_ridge")
        params = policy.params()
    else:
        form = kernel_form(policy, problem)
        assert form is not None, "covers() said the compiled race runs it"
        shape = (K, form.start)
        race = arms.make_race(form.choose, form.learn)
        params = form.params
    env, delays, draws = (rng.states_from(generator, R) for generator in streams)
    curve, final, tail, optimal, below = (np.zeros((R, len(points))), np.zeros(R), np.zeros(R), np.zeros(R),
                                          np.zeros(R))
    settings = (arms.REWARDS[problem.reward], arms.DYNAMICS[problem.dynamics], arms.FEEDBACK[problem.delay],
                float(problem.mean_delay), max(problem.batch_size, 1), problem.constraint == "safety", SAFETY_ALPHA)
    race(params, env[:1].copy(), delays[:1].copy(), draws[:1].copy(), *shape, 1, *settings,
         points[:1].astype(np.int64), np.zeros((1, 1)), np.zeros(1), np.zeros(1), np.zeros(1),
         np.zeros(1))  # compiles, or loads the compiled race, outside the timing
    started = time.perf_counter()
    race(params, env, delays, draws, *shape, T, *settings, points.astype(np.int64), curve, final, tail,
         optimal, below)
    seconds = time.perf_counter() - started
    return curve, final, tail, optimal, below if problem.constraint == "safety" else None, seconds

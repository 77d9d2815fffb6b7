"""Which races run compiled, and running them: a policy whose decisions are compiled kernels (policies/mab.py's
Kernel), on a problem the whole-race kernel covers, races every round of every repetition in machine code;
anything else goes through the step-by-step loop of runner.py, which calls the same kernels one round at a time and
gives the same numbers."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from banditmap.sim.problem import SAFETY_ALPHA, Problem, item_revenues

Blocks = Callable[[slice], np.ndarray]  # a block of repetitions' streams


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
    if not isinstance(policy, Wrapper) or (policy.kernels is None and not policy.decides_as_base):
        return None
    inner = kernel_form(policy.base, problem)
    if policy.kernels is None or inner is None:  # a wrapper deciding as its base decides as its base's kernels
        return inner
    from banditmap.sim.kernels.wrappers import composed_row, composite_name
    return KernelForm(composite_name(f"{policy.kernels}_choose", inner.choose, inner.learn),
                      composite_name(f"{policy.kernels}_learn", inner.choose, inner.learn),
                      np.concatenate([inner.params, policy.params()]),
                      composed_row(inner.start, problem.n_arms, policy.region(problem)))


def dueling_form(policy: object, problem: Problem) -> KernelForm | None:
    """A dueling policy whose decisions are kernels (policies/dueling.py), or the sparring adapter around a
    K-armed policy with a kernel form (the sparring template of sim/kernels/dueling.py around its kernels; under
    delayed feedback only around a base that notes nothing on its decisions, as the race carries no notes), as
    kernels; else None."""
    from banditmap.sim.adapters.instances import Sparring
    from banditmap.sim.policies.dueling import DuelingPolicy
    if isinstance(policy, DuelingPolicy):
        return KernelForm(policy.choose, policy.learn, policy.params(), policy.start(problem))
    if not isinstance(policy, Sparring):
        return None
    inner = kernel_form(policy.base, Sparring.partners_problem(problem))
    K = problem.n_arms
    if inner is None or (inner.start.shape[0] > K + 1 and problem.delay != "immediate"):
        return None
    from banditmap.sim.kernels.dueling import sparring_row
    from banditmap.sim.kernels.wrappers import composite_name
    return KernelForm(composite_name("sparring_choose", inner.choose, inner.learn),
                      composite_name("sparring_learn", inner.choose, inner.learn), inner.params,
                      sparring_row(inner.start, K))


def covers(policy: object, problem: Problem) -> bool:
    """Whether the compiled race runs this policy on this problem: a policy whose decisions are kernels, or such a
    policy wrapped by adapters with compiled templates, on a problem whose world is the kernels', with any reward,
    dynamics, feedback and the safety constraint or none: a counting policy on K arms (its regret cumulative or,
    with the arm it names at the end, simple), a linear kernel policy (policies/contextual.py) or D-LinUCB and
    SW-LinUCB on the linear or non-linear contextual world (cumulative regret), a pricing policy on the pricing
    world (which has no constraint to keep), a list policy (policies/lists.py) on the cascade or slate world it is
    made for, with any feedback, a dueling policy on a dueling problem (whose world has no reward kind, dynamics or
    constraint of its own: with any feedback), an epoch policy on the MNL assortment world (cumulative regret; that
    world neither moves nor has a baseline)."""
    from banditmap.sim.policies.assortment import EpochPolicy
    from banditmap.sim.policies.contextual import LinearKernel
    from banditmap.sim.policies.forgetting import MovingLinUCB
    from banditmap.sim.policies.lists import ListKernel
    from banditmap.sim.policies.pricing import PriceKernel
    if problem.kind == "pricing":
        return isinstance(policy, PriceKernel)
    if problem.kind == "dueling":
        return dueling_form(policy, problem) is not None
    if problem.kind in ("cascade", "slate"):  # their worlds ignore dynamics, reward kinds and constraints
        return isinstance(policy, ListKernel) and problem.kind in policy.kinds
    if problem.constraint not in ("none", "safety"):
        return False
    if problem.kind == "arms":
        return problem.objective in ("cumulative", "best_arm") and kernel_form(policy, problem) is not None
    if problem.kind == "assortment":
        return problem.objective == "cumulative" and isinstance(policy, EpochPolicy)
    return (problem.kind == "contextual" and problem.objective == "cumulative"
            and (isinstance(policy, (LinearKernel, MovingLinUCB)) or kernel_form(policy, problem) is not None))


@dataclass(frozen=True)
class CompiledRun:
    """What one policy's compiled race gives: the regret curve (R, P), final regret, the mean reward over the
    last 10% of rounds and the share of optimal rounds (R,) each, the share of rounds below the baseline (R,) on
    safety problems, its seconds, and on K arms the policy's statistics (counts, sums, means (R, K), scratch
    (R, W)) and the arms' expected rewards (R, K) after the last round."""

    curve: np.ndarray
    final: np.ndarray
    tail: np.ndarray
    optimal: np.ndarray
    below: np.ndarray | None
    seconds: float
    counts: np.ndarray | None = None
    sums: np.ndarray | None = None
    means: np.ndarray | None = None
    scratch: np.ndarray | None = None
    mu: np.ndarray | None = None


def threads() -> int:
    """Threads a race runs in: numba's thread count (the cores, or NUMBA_NUM_THREADS)."""
    from numba import get_num_threads
    return max(1, int(get_num_threads()))


def by_repetitions(run: Callable[[slice], None], R: int) -> None:
    """`run` over contiguous blocks of the R repetitions, one block per thread. A race kernel releases the GIL
    (arms.bind's nogil), so the blocks run at once; each repetition draws from its own streams, so the numbers are
    those of one call over all. (Threads over a plain kernel, rather than numba's parallel loop in each policy's
    race: that compiles each race about 3.6 times faster, measured on the UCB1 race under the same load.)"""
    blocks = min(R, threads())
    if blocks <= 1:
        run(slice(0, R))
        return
    edges = np.linspace(0, R, blocks + 1)
    with ThreadPoolExecutor(blocks) as pool:
        for done in [pool.submit(run, slice(int(a), int(b))) for a, b in zip(edges[:-1], edges[1:])]:
            done.result()


def race_in_blocks(race: Any, lead: tuple[Any, ...], streams: tuple[np.ndarray, np.ndarray, Blocks], mid: tuple[Any, ...],
                   T: int, settings: tuple[Any, ...], points: np.ndarray, outputs: tuple[np.ndarray, ...]) -> float:
    """One race called as race(*lead, env, delays, draws, *mid, rounds, *settings, points, *outputs), the streams
    and outputs (R, ...) each taken a block of repetitions at a time (`draws` gives the policy's streams of a
    block): first on one repetition, on copies of the streams into arrays thrown away (it compiles, or loads the
    compiled race, outside the timing), then over all repetitions in threads (by_repetitions). Its seconds."""
    env, delays, draws = streams
    race(*lead, env[:1].copy(), delays[:1].copy(), draws(slice(0, 1)).copy(), *mid, 1, *settings,
         points[:1].astype(np.int64), *(np.zeros_like(a[:1]) for a in outputs))
    at = points.astype(np.int64)

    def block(rows: slice) -> None:
        race(*lead, env[rows], delays[rows], draws(rows), *mid, T, *settings, at, *(a[rows] for a in outputs))

    started = time.perf_counter()
    by_repetitions(block, env.shape[0])
    return time.perf_counter() - started


def own(draws: np.ndarray) -> Blocks:
    """The policy's streams of a block: its repetitions' own."""
    return lambda rows: draws[rows]


def run_compiled(policy: Any, problem: Problem, streams: tuple[np.random.Generator, ...],
                 points: np.ndarray) -> CompiledRun:
    """One policy's compiled race. `streams` are the race's generators of the environment, the delays and the
    policy (runner.streams); each gives one kernel stream per repetition, as it does in the step-by-step loop."""
    from banditmap.sim.environments import CompiledContextual
    from banditmap.sim.kernels import arms, assortment, linear, moving, rng
    from banditmap.sim.policies.contextual import LinearKernel
    from banditmap.sim.policies.forgetting import MovingLinUCB
    R, K, T = problem.reps, problem.n_arms, problem.rounds
    env, delays, draws = (rng.states_from(generator, R) for generator in streams)
    if problem.kind == "pricing":
        return run_pricing(policy, problem, (env, delays, draws), points)
    curve, final, tail, optimal, below = (np.zeros((R, len(points))), np.zeros(R), np.zeros(R), np.zeros(R),
                                          np.zeros(R))
    if problem.kind in ("cascade", "slate"):
        return run_list_race(policy, problem, (env, delays, draws), points, (curve, final, tail, optimal))
    if problem.kind == "dueling":
        return run_dueling(policy, problem, (env, delays, draws), points, (curve, final, tail, optimal))
    delivery = (arms.FEEDBACK[problem.delay], float(problem.mean_delay), max(problem.batch_size, 1))
    settings: tuple[Any, ...] = (arms.REWARDS[problem.reward], arms.DYNAMICS[problem.dynamics], *delivery,
                                 problem.constraint == "safety", SAFETY_ALPHA)
    kept: tuple[np.ndarray, ...] = ()
    shape: tuple[Any, ...]
    form: KernelForm | None = None
    if problem.kind == "assortment":  # the epoch race takes the offer's size and the revenues: no moves, no safety
        shape = (K, problem.slate_size, np.tile(item_revenues(problem), (R, 1)))  # rows alike: any block reads them
        settings = delivery
        race = assortment.make_race(policy.choose, policy.learn)
        params = policy.params()
    elif problem.kind == "contextual":  # the linear race takes the features, the world's hidden units and l2
        hidden = CompiledContextual.HIDDEN if problem.model == "nonlinear" else 0
        if isinstance(policy, MovingLinUCB):  # D-LinUCB, SW-LinUCB: their own state, and a window (0: none)
            window = min(int(getattr(policy, "window", 0)), T)
            shape = (K, problem.n_features, hidden, float(policy.lambda_reg), window)
            race = moving.make_race(policy.kernels)
        elif isinstance(policy, LinearKernel):
            shape = (K, problem.n_features, hidden, float(policy.ridge()))
            race = linear.make_race(policy.choose, policy.learn)
        else:  # a counting policy, which plays without reading the contexts (e.g. the uniform baseline)
            form = kernel_form(policy, problem)
            assert form is not None, "covers() said the compiled race runs it"
            shape = (K, problem.n_features, hidden, form.start)
            race = linear.make_counting_race(form.choose, form.learn)
        params = policy.params() if form is None else form.params
    else:
        form = kernel_form(policy, problem)
        assert form is not None, "covers() said the compiled race runs it"
        shape = (K, form.start)
        race = arms.make_race(form.choose, form.learn)
        params = form.params
        kept = (np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, form.start.shape[0])),
                np.zeros((R, K)))
    seconds = race_in_blocks(race, (params,), (env, delays, own(draws)), shape, T, settings, points,
                             (curve, final, tail, optimal, below, *kept))
    watched = problem.constraint == "safety" and problem.kind != "assortment"  # the MNL world has no baseline
    return CompiledRun(curve, final, tail, optimal, below if watched else None, seconds, *kept)


def run_pricing(policy: Any, problem: Problem, streams: tuple[np.ndarray, ...], points: np.ndarray) -> CompiledRun:
    """A pricing policy's compiled race (sim/kernels/pricing.py), from the kernel streams (R,) of the market, the
    delays and the policy; its statistics after the last round are not kept (a pricing race names no best arm)."""
    from banditmap.sim.kernels import arms, pricing
    R, T = problem.reps, problem.rounds
    env, delays, draws = streams
    race = pricing.make_race(policy.choose, policy.learn)
    params, prices = policy.params(), policy.prices()
    start, start_cov = policy.start(prices)
    settings = (arms.FEEDBACK[problem.delay], float(problem.mean_delay), max(problem.batch_size, 1))
    curve, final, tail, optimal = np.zeros((R, len(points))), np.zeros(R), np.zeros(R), np.zeros(R)

    books = np.zeros((R,) + start.shape), np.zeros((R,) + start_cov.shape)
    seconds = race_in_blocks(race, (params, prices, start, start_cov), (env, delays, own(draws)), (), T, settings,
                             points, (curve, final, tail, optimal, *books))
    return CompiledRun(curve, final, tail, optimal, None, seconds)


def run_list_race(policy: Any, problem: Problem, states: tuple[np.ndarray, np.ndarray, np.ndarray],
                  points: np.ndarray, out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> CompiledRun:
    """A list policy's compiled race on the cascade or slate world (sim/kernels/lists.py), from the streams' states
    (R,) each, into the curve, final regret, tail and optimal share `out`."""
    from banditmap.sim.kernels import arms, lists
    race = lists.make_race(policy.choose, policy.learn)
    shape = (problem.n_arms, problem.slate_size, policy.start(problem), policy.columns(problem),
             lists.WORLDS[problem.kind])
    settings = (arms.FEEDBACK[problem.delay], float(problem.mean_delay), max(problem.batch_size, 1))
    env, delays, draws = states
    seconds = race_in_blocks(race, (policy.params(),), (env, delays, own(draws)), shape, problem.rounds, settings,
                             points, out)
    curve, final, tail, optimal = out
    return CompiledRun(curve, final, tail, optimal, None, seconds)


def run_dueling(policy: Any, problem: Problem, states: tuple[np.ndarray, np.ndarray, np.ndarray], points: np.ndarray,
                books: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> CompiledRun:
    """A dueling policy's compiled race (sim/kernels/dueling.py) from the streams' starting states (R,) each of
    the world, the delays and the policy, filling the regret curve, final regret, tail and optimal share."""
    from banditmap.sim.kernels import arms, dueling
    form = dueling_form(policy, problem)
    assert form is not None, "covers() said the compiled race runs it"
    R, K, T = problem.reps, problem.n_arms, problem.rounds
    env, delays, draws = states
    sparring = "<" in form.choose  # a stream for each instance, the right one's derived from the left's
    curve, final, tail, optimal = books
    race = dueling.make_race(form.choose, form.learn)
    settings = (arms.FEEDBACK[problem.delay], float(problem.mean_delay), max(problem.batch_size, 1))
    kept = (np.zeros((R, K, K)), np.zeros((R, form.start.shape[0])), np.zeros((R, K)))

    def policy_streams(rows: slice) -> np.ndarray:
        """The policy's streams of a block of repetitions: the block's own, then (sparring) their partners'."""
        return dueling.partner_streams(draws[rows]) if sparring else draws[rows]

    seconds = race_in_blocks(race, (form.params,), (env, delays, policy_streams), (K, form.start), T, settings,
                             points, (curve, final, tail, optimal, *kept))
    return CompiledRun(curve, final, tail, optimal, None, seconds, scratch=kept[1])

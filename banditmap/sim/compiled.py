"""Which races run compiled, and running them: a policy whose decisions are compiled kernels (policies/mab.py's
Kernel), on a problem the whole-race kernel covers, races every round of every repetition in machine code;
anything else goes through the step-by-step loop of runner.py, which calls the same kernels one round at a time and
gives the same numbers."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
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


def one_note(form: KernelForm, problem: Problem) -> KernelForm | None:
    """The kernels, for a race that carries a decision's note with late feedback in one column (kernels/multi.py's,
    kernels/linear.py's counting race), when it can run them: feedback at once, or a note of at most one column
    (kernels/arms.py's note_columns); else None."""
    from banditmap.sim.kernels.arms import note_columns
    return form if problem.delay == "immediate" or note_columns(form.start, problem.n_arms) <= 1 else None


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


def budget_form(policy: object, problem: Problem) -> KernelForm | None:
    """A budget policy (policies/budget.py), or a K-armed policy whose decisions are kernels (policies/mab.py's
    Kernel, not wrapped: e.g. the uniform baseline), as the budget race runs it (sim/kernels/budget.py); else
    None."""
    from banditmap.sim.policies.budget import BudgetPolicy
    from banditmap.sim.policies.mab import Kernel
    if isinstance(policy, (BudgetPolicy, Kernel)):
        return KernelForm(policy.choose, policy.learn, policy.params(), policy.start(problem))
    return None


def pages_form(policy: object, problem: Problem) -> KernelForm | None:
    """A K-armed policy with a kernel form viewed through PagesAsArms (adapters/views.py) on a combination problem,
    as kernels on the problem of one arm per page; the pages' uniform baseline (every component's value at random:
    every page equally likely) as the uniform K-armed kernels on those pages, when they are few enough to be arms
    (views.MAX_PAGES); else None."""
    from banditmap.sim.adapters.views import MAX_PAGES, PagesAsArms, as_arms, pages
    from banditmap.sim.policies.combination import UniformCombination
    from banditmap.sim.policies.mab import UniformRandom
    if isinstance(policy, UniformCombination) and pages(problem) <= MAX_PAGES:
        return kernel_form(UniformRandom(), as_arms(problem))
    return kernel_form(policy.base, as_arms(problem)) if isinstance(policy, PagesAsArms) else None


def offers_slates(policy: object) -> bool:
    """Whether a policy is a slate policy whose decisions are kernels (policies/lists.py) viewed through
    AssortmentAsSlate (adapters/views.py), which races on the MNL world (sim/kernels/assortment.py's slate_race)."""
    from banditmap.sim.adapters.views import AssortmentAsSlate
    from banditmap.sim.policies.lists import ListKernel
    return (isinstance(policy, AssortmentAsSlate) and isinstance(policy.base, ListKernel)
            and "slate" in policy.base.kinds)


def ranked_form(policy: object, problem: Problem) -> KernelForm | None:
    """The ranked-bandits adapter around a K-armed policy with a kernel form, on the cascade with immediate
    feedback (the list race carries no notes with late feedback, and each position's pick and the base's note
    must be learnt with the decision that made them), as kernels (the ranked template of sim/kernels/wrappers.py
    around its kernels); else None."""
    from banditmap.sim.adapters.instances import RankedBandits
    if not isinstance(policy, RankedBandits) or problem.kind != "cascade" or problem.delay != "immediate":
        return None
    inner = kernel_form(policy.base, RankedBandits.positions_problem(problem))
    if inner is None:
        return None
    from banditmap.sim.kernels.wrappers import composite_name, ranked_row
    return KernelForm(composite_name("ranked_choose", inner.choose, inner.learn),
                      composite_name("ranked_learn", inner.choose, inner.learn), inner.params,
                      ranked_row(inner.start, problem.slate_size))


def multi_form(policy: object, problem: Problem) -> KernelForm | None:
    """On a multi-objective problem, the scalarization adapter with one weight vector around a K-armed policy with
    a kernel form (the scalar template of sim/kernels/wrappers.py around its kernels), or the uniform baseline
    (which learns nothing from reward vectors), as kernels of sim/kernels/multi.py's race; else None (several weight
    vectors go through the step-by-step loop)."""
    from banditmap.sim.adapters.instances import Scalarization
    from banditmap.sim.policies.mab import UniformRandom
    if problem.kind != "multi":
        return None
    if isinstance(policy, UniformRandom):
        return KernelForm(policy.choose, "learn_nothing", policy.params(), policy.start(problem))
    if not isinstance(policy, Scalarization) or policy.vectors != 1:
        return None
    inner = kernel_form(policy.base, Scalarization.instances_problem(problem, 1))
    if inner is None or one_note(inner, problem) is None:
        return None
    from banditmap.sim.kernels.wrappers import composite_name
    weights = policy.weight_vectors(problem)[0]
    return KernelForm(composite_name("scalar_choose", inner.choose, inner.learn),
                      composite_name("scalar_learn", inner.choose, inner.learn),
                      np.concatenate([inner.params, weights, [float(weights.shape[0])]]), inner.start)


@dataclass(frozen=True)
class LinearForm:
    """A policy as a contextual race runs it on its regressions: the race's module (kernels/linear.py for linear
    kernel policies, kernels/moving.py for D-LinUCB and SW-LinUCB), the regularisation and window (0: none) of the
    base's regressions, and its kernels."""

    moving: bool
    l2: float
    window: int
    kernels: KernelForm


def linear_form(policy: object, problem: Problem) -> LinearForm | None:
    """A linear kernel policy (policies/contextual.py), D-LinUCB or SW-LinUCB (policies/forgetting.py), or one of
    them with confidence bounds wrapped by the conservative adapter (its template in sim/kernels/wrappers.py
    around the base's bounds and learning), as the contextual races run it; else None."""
    from banditmap.sim.adapters.safety import Conservative
    from banditmap.sim.policies.contextual import LinearKernel
    from banditmap.sim.policies.forgetting import MovingLinUCB
    if isinstance(policy, MovingLinUCB):
        window = min(int(getattr(policy, "window", 0)), problem.rounds)
        kernels = KernelForm(f"choose_{policy.kernels}", f"learn_{policy.kernels}", policy.params(), np.zeros(0))
        return LinearForm(True, float(policy.lambda_reg), window, kernels)
    if isinstance(policy, LinearKernel):
        kernels = KernelForm(policy.choose, policy.learn, policy.params(), policy.start(problem))
        return LinearForm(False, float(policy.ridge()), 0, kernels)
    inner = linear_form(policy.base, problem) if isinstance(policy, Conservative) else None
    if inner is None or inner.kernels.choose not in ("choose_linucb", "choose_dlinucb", "choose_swlinucb"):
        return None  # the bases whose bounds kernel gives their choice (the largest upper bound)
    from banditmap.sim.kernels.wrappers import composite_name, conservative_region
    assert isinstance(policy, Conservative)
    base, template = inner.kernels, "conservative_moving" if inner.moving else "conservative_linear"
    kernels = KernelForm(composite_name(f"{template}_choose", base.choose, base.learn),
                         composite_name(f"{template}_learn", base.choose, base.learn),
                         np.concatenate([base.params, policy.params()]),
                         np.concatenate([base.start, conservative_region(problem.n_arms, not inner.moving)]))
    return replace(inner, kernels=kernels)


def covers(policy: object, problem: Problem) -> bool:
    """Whether the compiled race runs this policy on this problem: a policy whose decisions are kernels, or such
    a policy wrapped by adapters with compiled templates, on a problem whose world is the kernels', with any
    reward, dynamics, feedback and the safety constraint or none: a counting policy on K arms (its regret
    cumulative or, with the arm it names at the end, simple), a linear kernel policy (policies/contextual.py),
    D-LinUCB, SW-LinUCB, LinUCB, D-LinUCB or SW-LinUCB wrapped by the conservative adapter (linear_form), or a
    counting policy on the linear or non-linear contextual world (cumulative regret; under late feedback, one whose
    note on a decision takes one column at most, `one_note`, as also around scalarization), a
    pricing policy on the pricing world (which has no constraint to keep), a list policy (policies/lists.py) on the
    cascade or slate world it is made for, with any feedback (ranked bandits around a counting kernel policy on the
    cascade with immediate feedback), a dueling policy on a dueling problem (whose world has no reward kind,
    dynamics or constraint of its own: with any feedback), scalarization with one weight vector around a counting
    kernel policy, or the uniform baseline, on a multi-objective problem (cumulative regret, any feedback), an
    epoch policy, or a slate policy offering its slates (offers_slates), on the MNL assortment world (cumulative
    regret; that world neither moves nor has a baseline), a K-armed policy with a kernel form viewed through
    PagesAsArms, or multivariate Thompson sampling, on the combination world (which neither moves nor has a
    baseline: its regret is cumulative whatever the objective, as in the loop), a budget policy or a plain K-armed
    kernel policy on the budget world with feedback at once."""
    from banditmap.sim.policies.assortment import EpochPolicy
    from banditmap.sim.policies.lists import ListKernel
    from banditmap.sim.policies.pricing import PriceKernel
    if problem.kind == "pricing":
        return isinstance(policy, PriceKernel)
    if problem.kind == "budget":
        return problem.delay == "immediate" and budget_form(policy, problem) is not None
    if problem.kind == "dueling":
        return dueling_form(policy, problem) is not None
    if problem.kind == "multi":  # its world has no dynamics or constraint of its own
        return problem.objective == "cumulative" and multi_form(policy, problem) is not None
    if problem.kind in ("cascade", "slate"):  # their worlds ignore dynamics, reward kinds and constraints
        listed = isinstance(policy, ListKernel) and problem.kind in policy.kinds
        return listed or ranked_form(policy, problem) is not None
    if problem.constraint not in ("none", "safety"):
        return False
    if problem.kind == "combination":
        from banditmap.sim.policies.combination import MultivariateThompson
        return isinstance(policy, MultivariateThompson) or pages_form(policy, problem) is not None
    if problem.kind == "arms":
        return problem.objective in ("cumulative", "best_arm") and kernel_form(policy, problem) is not None
    if problem.kind == "assortment":
        return problem.objective == "cumulative" and (isinstance(policy, EpochPolicy) or offers_slates(policy))
    if problem.kind != "contextual" or problem.objective != "cumulative":
        return False
    if linear_form(policy, problem) is not None:
        return True
    counting = kernel_form(policy, problem)
    return counting is not None and one_note(counting, problem) is not None


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


def censoring(policy: object, problem: Problem) -> int:
    """How a policy learns of its plays where conversions may never come (kernels/arms.py `censor`): 0 where every
    reward arrives, -1 for a policy built for it (conversions as they come), else the problem's attribution window."""
    if not problem.censored:
        return 0
    return -1 if getattr(policy, "takes_conversions", False) else problem.window


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
                   T: int, settings: tuple[Any, ...], points: np.ndarray, outputs: tuple[np.ndarray, ...],
                   given: tuple[np.ndarray, ...] = ()) -> float:
    """One race called as race(*lead, env, delays, draws, *given, *mid, rounds, *settings, points, *outputs), the
    streams, inputs `given` (read only) and outputs (R, ...) each taken a block of repetitions at a time (`draws`
    gives the policy's streams of a block): first on one repetition, on copies of the streams into arrays thrown
    away (it compiles, or loads the compiled race, outside the timing), then over all repetitions in threads
    (by_repetitions). Its seconds."""
    from banditmap.sim import ahead
    env, delays, draws = streams
    race(*lead, env[:1].copy(), delays[:1].copy(), draws(slice(0, 1)).copy(), *(a[:1] for a in given), *mid, 1,
         *settings, points[:1].astype(np.int64), *(np.zeros_like(a[:1]) for a in outputs))
    if ahead.only_compiling():  # a helper compiling races ahead (sim/ahead.py) stops here
        raise ahead.Compiled
    at = points.astype(np.int64)

    def block(rows: slice) -> None:
        race(*lead, env[rows], delays[rows], draws(rows), *(a[rows] for a in given), *mid, T, *settings, at,
             *(a[rows] for a in outputs))

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
    R, K, T = problem.reps, problem.n_arms, problem.rounds
    env, delays, draws = (rng.states_from(generator, R) for generator in streams)
    if problem.kind == "pricing":
        return run_pricing(policy, problem, (env, delays, draws), points)
    if problem.kind == "budget":
        return run_budget(policy, problem, (env, delays, draws), points)
    curve, final, tail, optimal, below = (np.zeros((R, len(points))), np.zeros(R), np.zeros(R), np.zeros(R),
                                          np.zeros(R))
    if problem.kind in ("cascade", "slate"):
        return run_list_race(policy, problem, (env, delays, draws), points, (curve, final, tail, optimal))
    if problem.kind == "dueling":
        return run_dueling(policy, problem, (env, delays, draws), points, (curve, final, tail, optimal))
    if problem.kind == "combination" and pages_form(policy, problem) is None:
        return run_mvt(policy, problem, (env, delays, draws), points, (curve, final, tail, optimal, below))
    if problem.kind == "combination":
        return run_pages(policy, problem, (env, delays, draws), points, (curve, final, tail, optimal, below))
    if problem.kind == "assortment" and offers_slates(policy):
        return run_slate_offers(policy, problem, (env, delays, draws), points, (curve, final, tail, optimal, below))
    if problem.kind == "multi":
        return run_multi(policy, problem, (env, delays, draws), points, (curve, final, tail, optimal))
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
        regressions = linear_form(policy, problem)
        if regressions is not None and regressions.moving:  # D-LinUCB, SW-LinUCB: their own state and a window
            form = regressions.kernels
            shape = (K, problem.n_features, hidden, regressions.l2, regressions.window, form.start)
            race = moving.make_race(form.choose, form.learn)
        elif regressions is not None:
            form = regressions.kernels
            shape = (K, problem.n_features, hidden, regressions.l2, form.start)
            race = linear.make_race(form.choose, form.learn)
        else:  # a counting policy, which plays without reading the contexts (e.g. the uniform baseline)
            form = kernel_form(policy, problem)
            assert form is not None, "covers() said the compiled race runs it"
            shape = (K, problem.n_features, hidden, form.start)
            race = linear.make_counting_race(form.choose, form.learn)
        params = form.params
    else:
        form = kernel_form(policy, problem)
        assert form is not None, "covers() said the compiled race runs it"
        shape = (K, form.start)
        settings = (*settings[:5], censoring(policy, problem), *settings[5:])  # the K-armed race may censor
        race = arms.make_race(form.choose, form.learn)
        params = form.params
        kept = (np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, form.start.shape[0])),
                np.zeros((R, K)))
    given: tuple[np.ndarray, ...] = ()
    recording = 0.0
    if problem.kind == "contextual":  # the world every candidate meets, recorded once for all of them
        started = time.perf_counter()
        given = contextual_world(problem, env)
        recording = time.perf_counter() - started  # the first candidate's share: the others find it recorded
    seconds = recording + race_in_blocks(race, (params,), (env, delays, own(draws)), shape, T, settings, points,
                                         (curve, final, tail, optimal, below, *kept), given)
    watched = problem.constraint == "safety" and problem.kind != "assortment"  # the MNL world has no baseline
    return CompiledRun(curve, final, tail, optimal, below if watched else None, seconds, *kept)


WORLD_BYTES = 1 << 28  # the largest recorded contextual world (256 MiB): a larger one is drawn in each race


def contextual_world(problem: Problem, env: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The contextual world every policy of a race meets from the streams' states env (R,), as the contextual races
    read it (kernels/linear.py's record_world: per round the context, every arm's expected reward and the best
    (R, T, d + K + 1), the stream's state before the reward's draw (R, T)), recorded once for the policies raced
    one after another here (recorded_world keeps the last), so that each race's world costs a read; or nothing
    recorded (no rounds: each race draws it), for a world that answers the plays (adversarial), one larger than
    WORLD_BYTES, or in a helper compiling races ahead (which compiles the recording on one round)."""
    from banditmap.sim import ahead
    from banditmap.sim.environments import CompiledContextual
    from banditmap.sim.kernels import arms, linear
    R, K, T, d = problem.reps, problem.n_arms, problem.rounds, problem.n_features
    H = CompiledContextual.HIDDEN if problem.model == "nonlinear" else 0
    kinds = (arms.REWARDS[problem.reward], arms.DYNAMICS[problem.dynamics])
    compiling = ahead.only_compiling()
    if compiling:
        linear.record_world(env[:1].copy(), K, d, H, 1, *kinds, np.empty((1, 1, d + K + 1)),
                            np.empty((1, 1), np.uint64))
    if problem.dynamics == "adversarial" or R * T * (d + K + 2) * 8 > WORLD_BYTES or compiling:
        return np.empty((R, 0, 0)), np.empty((R, 0), np.uint64)
    return recorded_world(K, d, H, T, *kinds, env.tobytes())


@functools.lru_cache(maxsize=1)
def recorded_world(K: int, d: int, H: int, T: int, reward: int, dynamics: int,
                   states: bytes) -> tuple[np.ndarray, np.ndarray]:
    """contextual_world's record from the streams' states (as bytes: a key), made in threads over blocks of
    repetitions (each repetition draws from its own stream); the last one kept, which the races only read."""
    from banditmap.sim.kernels import linear
    env = np.frombuffer(states, np.uint64).copy()
    R = env.shape[0]
    world, saved = np.empty((R, T, d + K + 1)), np.empty((R, T), np.uint64)
    by_repetitions(lambda rows: linear.record_world(env[rows], K, d, H, T, reward, dynamics, world[rows],
                                                    saved[rows]), R)
    return world, saved


def run_pages(policy: Any, problem: Problem, states: tuple[np.ndarray, np.ndarray, np.ndarray], points: np.ndarray,
              books: tuple[np.ndarray, ...]) -> CompiledRun:
    """A K-armed policy viewed through PagesAsArms raced on the combination world (sim/kernels/combination.py):
    the pages' expected rewards (R, V ** D) drawn first from the world's streams, then the K-armed race with each
    page one arm, filling the curve, final regret, tail and optimal share (`below` is left: no baseline)."""
    from banditmap.sim.kernels import arms, combination
    form = pages_form(policy, problem)
    assert form is not None, "covers() said the compiled race runs it"
    R, V, D = problem.reps, problem.n_arms, problem.slate_size
    K = V ** D
    env, delays, draws = states
    reward = combination.reward_kind(problem.reward)
    weights = np.empty((R, combination.features(D, V)))
    combination.draw_worlds(weights, env, V, reward, np.empty((R, D), np.int64))
    mu = np.empty((R, K))
    combination.page_values(weights, V, D, reward, mu)
    settings = (reward, arms.STATIONARY, arms.FEEDBACK[problem.delay], float(problem.mean_delay),
                max(problem.batch_size, 1), 0, False, SAFETY_ALPHA)  # no censoring: a page's reward is not one
    kept = (np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, K)), np.zeros((R, form.start.shape[0])), mu)
    race = combination.make_race(form.choose, form.learn)
    seconds = race_in_blocks(race, (form.params,), (env, delays, own(draws)), (K, form.start), problem.rounds,
                             settings, points, (*books, *kept))
    curve, final, tail, optimal, _ = books
    return CompiledRun(curve, final, tail, optimal, None, seconds)


def run_mvt(policy: Any, problem: Problem, states: tuple[np.ndarray, np.ndarray, np.ndarray], points: np.ndarray,
            books: tuple[np.ndarray, ...]) -> CompiledRun:
    """Multivariate Thompson sampling's compiled race on the combination world (sim/kernels/combination.py's
    mvt_race), filling the curve, final regret, tail and optimal share (`below` is left: no baseline)."""
    from banditmap.sim.kernels import arms, combination
    from banditmap.sim.policies.combination import table
    V, D = problem.n_arms, problem.slate_size
    shape = (V, D, table(V, D))
    settings = (combination.reward_kind(problem.reward), arms.FEEDBACK[problem.delay], float(problem.mean_delay),
                max(problem.batch_size, 1))
    env, delays, draws = states
    seconds = race_in_blocks(combination.mvt_race, (policy.params(),), (env, delays, own(draws)), shape,
                             problem.rounds, settings, points, books)
    curve, final, tail, optimal, _ = books
    return CompiledRun(curve, final, tail, optimal, None, seconds)


def run_slate_offers(policy: Any, problem: Problem, states: tuple[np.ndarray, np.ndarray, np.ndarray],
                     points: np.ndarray, books: tuple[np.ndarray, ...]) -> CompiledRun:
    """A slate policy viewed through AssortmentAsSlate raced on the MNL world (sim/kernels/assortment.py's
    slate_race), filling the curve, final regret, tail and optimal share (`below` is left: no baseline)."""
    from banditmap.sim.kernels import arms, assortment
    base, R = policy.base, problem.reps
    slates = replace(problem, kind="slate")  # the problem the base is given
    race = assortment.make_slate_race(base.choose, base.learn)
    shape = (problem.n_arms, problem.slate_size, np.tile(item_revenues(problem), (R, 1)), base.start(slates),
             base.columns(slates))
    settings = (arms.FEEDBACK[problem.delay], float(problem.mean_delay), max(problem.batch_size, 1))
    env, delays, draws = states
    seconds = race_in_blocks(race, (base.params(),), (env, delays, own(draws)), shape, problem.rounds, settings,
                             points, books)
    curve, final, tail, optimal, _ = books
    return CompiledRun(curve, final, tail, optimal, None, seconds)


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


def run_budget(policy: Any, problem: Problem, streams: tuple[np.ndarray, ...], points: np.ndarray) -> CompiledRun:
    """A policy's compiled race on the budget world (sim/kernels/budget.py), from the kernel streams (R,) of the
    world, the delays (not drawn from: feedback comes at once) and the policy."""
    from banditmap.sim.kernels import arms, budget
    form = budget_form(policy, problem)
    assert form is not None, "covers() said the compiled race runs it"
    R = problem.reps
    env, delays, draws = streams
    race = budget.make_race(form.choose, form.learn)
    settings = (arms.REWARDS[problem.reward], float(problem.budget_rate), float(problem.budget))
    curve, final, tail, optimal = np.zeros((R, len(points))), np.zeros(R), np.zeros(R), np.zeros(R)
    seconds = race_in_blocks(race, (form.params,), (env, delays, own(draws)), (problem.n_arms, form.start),
                             problem.rounds, settings, points, (curve, final, tail, optimal))
    return CompiledRun(curve, final, tail, optimal, None, seconds)


def run_list_race(policy: Any, problem: Problem, states: tuple[np.ndarray, np.ndarray, np.ndarray],
                  points: np.ndarray, out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> CompiledRun:
    """A list policy's compiled race on the cascade or slate world (sim/kernels/lists.py), or ranked bandits around a
    K-armed kernel policy's, from the streams' states (R,) each, into the curve, final regret, tail and optimal
    share `out`."""
    from banditmap.sim.kernels import arms, lists, wrappers
    env, delays, draws = states
    K, k = problem.n_arms, problem.slate_size
    form = ranked_form(policy, problem)
    streams: Blocks
    if form is None:
        form = KernelForm(policy.choose, policy.learn, policy.params(), policy.start(problem))
        columns, streams = policy.columns(problem), own(draws)
    else:  # statistics per position; the streams of each position's instance after the block's own
        columns, streams = k * K, lambda rows: wrappers.position_streams(draws[rows], k)
    race = lists.make_race(form.choose, form.learn)
    shape = (K, k, form.start, columns, lists.WORLDS[problem.kind])
    settings = (arms.FEEDBACK[problem.delay], float(problem.mean_delay), max(problem.batch_size, 1))
    seconds = race_in_blocks(race, (form.params,), (env, delays, streams), shape, problem.rounds, settings,
                             points, out)
    curve, final, tail, optimal = out
    return CompiledRun(curve, final, tail, optimal, None, seconds)


def run_multi(policy: Any, problem: Problem, states: tuple[np.ndarray, np.ndarray, np.ndarray], points: np.ndarray,
              out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> CompiledRun:
    """A multi-objective policy's compiled race on the world (sim/kernels/multi.py), from the streams' states
    (R,) each, into the Pareto regret curve, final regret, tail and share of rounds on the front `out`."""
    from banditmap.sim.kernels import arms, multi
    form = multi_form(policy, problem)
    assert form is not None, "covers() said the compiled race runs it"
    env, delays, draws = states
    race = multi.make_race(form.choose, form.learn)
    shape = (problem.n_arms, max(problem.objectives, 1), form.start)
    settings = (arms.REWARDS[problem.reward], arms.FEEDBACK[problem.delay], float(problem.mean_delay),
                max(problem.batch_size, 1))
    seconds = race_in_blocks(race, (form.params,), (env, delays, own(draws)), shape, problem.rounds, settings,
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

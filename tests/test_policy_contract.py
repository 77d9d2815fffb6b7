"""The contract every simulated policy meets, and every adapter around every registered base offering what the
adapter requires (as scikit-learn's check_estimator does for estimators): valid actions, seeded determinism,
independent repetitions, hyperparameter domains, state shapes and purity, learning against uniform play and
exploit(). The cases come from the registries, so a new policy or adapter is checked without writing a test."""

from __future__ import annotations

import copy
import functools
import random
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Iterator

import numpy as np
import pytest

from banditmap.catalog.loading import load_catalog
from banditmap.errors import BanditmapError
from banditmap.sim import environments as envs
from banditmap.sim import oracles
from banditmap.sim.adapters import ADAPTERS, build_wrapper, chain_kinds
from banditmap.sim.policies import REGISTRY, Feedback, Policy, State, build
from banditmap.sim.policies.base import Domain, domains
from banditmap.sim.problem import KINDS, Problem, problem_from_answers
from banditmap.sim.runner import Run, RunSpec, run

CATALOG = load_catalog()
ROUNDS, REPS, SEED = 40, 4, 1  # every check's run, unless it says otherwise

ANSWERS: dict[str, dict[str, Any]] = {  # one small problem of every kind the simulator knows
    "arms": {"n_actions": 4},
    "contextual": {"context": "linear", "n_features": 3, "n_actions": 4},
    "budget": {"constraints": "budget", "n_actions": 4},
    "multi": {"multi_objective": "yes", "n_actions": 4},
    "cascade": {"action_structure": "ranking", "action_space": "many", "n_actions": 8, "slate_size": 3},
    "slate": {"action_structure": "slate", "action_space": "many", "n_actions": 8, "slate_size": 3},
    "pricing": {"action_space": "continuous"},
    "dueling": {"feedback": "pairwise", "n_actions": 4},
    "assortment": {"action_structure": "assortment", "n_actions": 6, "slate_size": 3},
    "combination": {"action_structure": "combination", "n_actions": 625, "slate_size": 4},  # 4 x 5: hill climbs
}


def problem(kind: str, rounds: int = ROUNDS, reps: int = REPS, **answers: Any) -> Problem:
    """The small problem of a kind; delayed feedback comes 5 rounds late on average (geometric delays), so that
    an update holds several observations of one repetition and none of another."""
    return replace(problem_from_answers({**ANSWERS[kind], **answers}, rounds=rounds, reps=reps), mean_delay=5)


# --- what is checked: every registered policy, and every adapter around every base it can wrap ------------------

def adapter_bases(simulator: str) -> list[str]:
    """The registered bases a wrapper runs around: those offering what it needs and, when the catalog names the
    wrapper, what some catalog adapter using it requires."""
    cls = ADAPTERS[simulator]
    entries = [set(a.requires) - {"policy"} for a in CATALOG.adapters if a.simulator == simulator]
    return [base for base, offered in sorted(REGISTRY.items())
            if cls.needs <= offered.offers and (not entries or any(e <= offered.offers for e in entries))
            and chain_kinds(offered, [cls])]


SUBJECTS = sorted(REGISTRY) + [f"{base}+{adapter}" for adapter in sorted(ADAPTERS) for base in adapter_bases(adapter)]


def make(subject: str, **params: Any) -> Policy:
    """The policy `base` or `base+adapter`, its own hyperparameters (the adapter's, for a composition) set."""
    base, _, adapter = subject.partition("+")
    return ADAPTERS[adapter](REGISTRY[base](), **params) if adapter else REGISTRY[base](**params)


def kinds(subject: str) -> list[str]:
    return sorted(make(subject).kinds)


CASES = [(s, k) for s in SUBJECTS for k in kinds(s)]
IDS = [f"{s}-{k}" for s, k in CASES]
BASELINES = {kind: simulator for simulator in sorted(REGISTRY) if simulator.startswith("uniform-random")
             for kind in REGISTRY[simulator].kinds}


def test_every_kind_has_a_problem_and_a_baseline_and_every_adapter_a_base() -> None:
    assert set(ANSWERS) == set(KINDS) == set(BASELINES) and all(problem(k).kind == k for k in KINDS)
    assert all(set(kinds(s)) <= set(KINDS) for s in SUBJECTS)
    assert {s.partition("+")[2] for s in SUBJECTS} - {""} == set(ADAPTERS)


def check_actions(p: Problem, action: Any, where: str) -> None:
    """An action of the problem's kind for every repetition: its shape, dtype and range."""
    action = np.asarray(action)
    items = (2,) if p.kind == "dueling" else (p.slate_size,) if p.kind in ("cascade", "slate", "assortment",
                                                                           "combination") else ()
    assert action.shape == (p.reps,) + items, f"{where}: shape {action.shape}, expected {(p.reps,) + items}"
    if p.kind == "pricing":
        assert np.issubdtype(action.dtype, np.floating), f"{where}: prices of dtype {action.dtype}"
        assert ((action >= envs.Pricing.LOW) & (action <= envs.Pricing.HIGH)).all(), f"{where}: {action}"
        return
    assert np.issubdtype(action.dtype, np.integer), f"{where}: dtype {action.dtype}"
    low = -1 if p.kind == "assortment" else 0  # -1: an empty slot of an assortment
    high = p.n_arms + (p.kind == "budget")  # budget problems: index K is the null action
    assert action.min() >= low and action.max() < high, f"{where}: outside [{low}, {high}): {action.tolist()}"
    if p.kind in ("cascade", "slate", "assortment"):
        for row in action.tolist():
            shown = [i for i in row if i >= 0]
            assert len(set(shown)) == len(shown), f"{where}: an item twice in {row}"


class Watched(envs.Environment):
    """An environment checking and recording every action the policy plays."""

    def __init__(self, p: Problem, inner: envs.Environment) -> None:
        self.problem, self.inner, self.actions = p, inner, list[np.ndarray]()

    def context(self, t: int) -> np.ndarray | None:
        return self.inner.context(t)

    def step(self, t: int, action: np.ndarray, context: np.ndarray | None) -> envs.Outcome:
        check_actions(self.problem, action, f"round {t}")
        self.actions.append(np.array(action, copy=True))
        return self.inner.step(t, action, context)

    def __getattr__(self, name: str) -> Any:  # expected(), for best-arm identification
        return getattr(self.inner, name)


# --- state ----------------------------------------------------------------------------------------------------

SHARED = {("Probit", "pairs"), ("Probit", "table"), ("VectorStats", "weights"),
          ("Weighted", "weights"), ("Priced", "prices")}  # arrays of the problem, not of each repetition


def arrays(state: State, path: str = "") -> Iterator[tuple[str, State, np.ndarray]]:
    """Every array of a state and of its nested states (a wrapper's base), with its dotted path and owner."""
    for name, value in vars(state).items():
        if isinstance(value, State):
            yield from arrays(value, f"{path}{name}.")
        elif isinstance(value, np.ndarray) and (type(state).__name__, name) not in SHARED:
            yield path + name, state, value


def check_state(state: State, R: int, where: str) -> None:
    """One row per repetition (a wrapper holding n instances of its base gives it n x R), all finite."""
    assert state.R == R, where
    for path, owner, value in arrays(state):
        assert owner.R % R == 0 and value.ndim and value.shape[0] == owner.R, \
            f"{where}: {path} has shape {value.shape} in a state of {owner.R} repetitions, expected one row each"
        if np.issubdtype(value.dtype, np.floating):
            assert np.isfinite(value).all(), f"{where}: {path} holds NaN or inf"


class Steady:
    """A stand-in for the policy's generator: every element of a call gets the same variate, drawn from the round
    and the call's place among the round's calls of that method, so what a repetition draws depends neither on
    how many repetitions there are nor on how many variates they use (beta draws: Wilson-Hilferty gammas)."""

    def __init__(self, seed: int) -> None:
        self.seed, self.round, self.calls = seed, 0, Counter[str]()

    def next_round(self) -> None:
        self.round, self.calls = self.round + 1, Counter()

    def _uniforms(self, method: str, size: Any, n: int = 1) -> np.ndarray:
        """n uniforms in (0, 1], each broadcast to the size asked for."""
        key = [self.seed, self.round, zlib.crc32(method.encode()), self.calls[method]]
        self.calls[method] += 1
        u = 1.0 - np.random.Generator(np.random.PCG64(key)).random(n)
        return np.broadcast_to(u, np.broadcast_shapes(size or ()) + (n,)).copy()

    def random(self, size: Any = None) -> Any:
        return 1.0 - self._uniforms("random", size)[..., 0]

    def standard_normal(self, size: Any = None, method: str = "normal") -> Any:
        u = self._uniforms(method, size, 2)
        return np.sqrt(-2 * np.log(u[..., 0])) * np.cos(2 * np.pi * u[..., 1])

    def integers(self, low: int, high: int, size: Any = None, dtype: Any = np.int64, endpoint: bool = False) -> Any:
        """The starting states of compiled policies' per-repetition streams (kernels.rng.states_from): the same
        state for every repetition, as every other variate here."""
        u = self._uniforms("integers", size)[..., 0]
        return (low + np.floor(u * (high - low + (1 if endpoint else 0) - 1024))).astype(dtype)

    def beta(self, a: Any, b: Any, size: Any = None) -> Any:
        shape = np.broadcast_shapes(np.shape(a), np.shape(b), size or ())
        x, y = (np.maximum(k * (1 - 1 / (9 * k) + self.standard_normal(shape, "beta") / np.sqrt(9 * k)) ** 3, 1e-12)
                for k in (np.broadcast_to(a, shape), np.broadcast_to(b, shape)))
        return np.clip(x / (x + y), 1e-12, 1 - 1e-12)


class Spy:
    """The policy under test, watched: its state checked after init and after every update, the state and
    feedback before the first update of all repetitions in the second half kept, its generator replaced when a
    check asks."""

    def __init__(self, policy: Policy, generator: Steady | None = None) -> None:
        self.policy, self.generator, self.kinds = policy, generator, policy.kinds
        self.state: State = None  # type: ignore[assignment]  # from init on
        self.context: np.ndarray | None = None
        self.before: tuple[State, Feedback] | None = None

    def init(self, p: Problem, rng: np.random.Generator) -> State:
        self.state = self.policy.init(p, rng if self.generator is None else self.generator)  # type: ignore[arg-type]
        assert self.state.t == 0 and self.state.horizon == p.rounds
        check_state(self.state, p.reps, "after init")
        return self.state

    def select(self, state: State, context: np.ndarray | None) -> np.ndarray:
        if self.generator is not None:
            self.generator.next_round()
        self.context = context
        return self.policy.select(state, context)

    def update(self, state: State, feedback: Feedback) -> None:
        if self.before is None and 2 * state.t >= state.horizon and len(np.unique(feedback.reps)) == state.R:
            self.before = copy.deepcopy(state), copy.deepcopy(feedback)
        self.policy.update(state, feedback)
        check_state(state, state.R, f"after the update of round {state.t}")

    def recommend(self, state: State) -> np.ndarray:
        return self.policy.recommend(state)


@dataclass
class Trace:
    problem: Problem
    spy: Spy
    actions: list[np.ndarray]
    result: Run


World = Callable[[Problem, np.random.Generator], envs.Environment]


def race(policy: Policy, p: Problem, seed: int = SEED, stream: str = "contract",
         world: World = envs.make_environment, generator: Steady | None = None) -> Trace:
    """One run through the runner, NumPy's warnings as errors; its curves must be finite."""
    spy, made = Spy(policy, generator), list[Watched]()

    def environment(q: Problem, rng: np.random.Generator) -> envs.Environment:
        made.append(Watched(q, world(q, rng)))
        return made[0]

    with warnings.catch_warnings(), np.errstate(divide="warn", over="warn", invalid="warn"):
        warnings.simplefilter("error")
        result = run(RunSpec(stream, stream, spy), p, seed, environment=environment)  # type: ignore[arg-type]
    assert np.isfinite(result.regret).all() and np.isfinite(result.final_regret).all()
    return Trace(p, spy, made[0].actions, result)


@functools.lru_cache(maxsize=None)
def trace(subject: str, kind: str, delay: str = "immediate", stream: str = "contract") -> Trace:
    return race(make(subject), problem(kind, feedback_delay=delay), SEED, stream)


# --- 1. valid actions, 5. state ------------------------------------------------------------------------------

@pytest.mark.parametrize("subject, kind", CASES, ids=IDS)
def test_every_action_is_in_the_action_set_and_the_state_stays_finite(subject: str, kind: str) -> None:
    """Every round, every repetition, with immediate and with delayed feedback (several observations of one
    repetition in one update, or none); the state keeps one row per repetition and no NaN or inf (Spy)."""
    for delay in ("immediate", "delayed"):
        assert len(trace(subject, kind, delay).actions) == ROUNDS


@pytest.mark.parametrize("subject, kind", CASES, ids=IDS)
def test_an_update_leaves_the_repetitions_it_is_not_about_alone(subject: str, kind: str) -> None:
    """An update half-way through the run, replayed on a copy of the state with the observations of repetitions
    1 and 3 only: no row of repetitions 0 and 2 changes (in a wrapper's base, none of their instances' rows)."""
    assert trace(subject, kind).spy.before is not None
    before, feedback = trace(subject, kind).spy.before  # type: ignore[misc]
    after, odd = copy.deepcopy(before), np.flatnonzero(feedback.reps % 2 == 1)
    pick = (lambda a: None if a is None else a[odd])
    make(subject).update(after, Feedback(feedback.reps[odd], feedback.actions[odd], feedback.observed[odd],
                                         pick(feedback.contexts), pick(feedback.aux), True, pick(feedback.costs)))
    changed = {path: value for path, _, value in arrays(after)}
    for path, owner, value in arrays(before):
        kept = [i * REPS + r for i in range(owner.R // REPS) for r in (0, 2)]  # instance i of repetition r
        assert changed[path].shape == value.shape, path
        assert np.array_equal(changed[path][kept], value[kept], equal_nan=True), f"{path} changed"


# --- 2. seeded determinism ------------------------------------------------------------------------------------

# policies that draw from their generator only to break exact ties (the random jitter of arm statistics, or
# argmax_random and top_k): without ties they are deterministic, so another stream may change nothing
TIE_BREAKERS = {"ucb1", "kl-ucb", "moss", "robust-ucb", "successive-elimination", "delayed-ucb",
                "delayed-conversions-ucb", "sw-ucb", "discounted-ucb", "linucb", "conservative-ucb",
                "conservative-linucb", "cascade-ucb", "cascade-klucb", "cucb", "ranked-ucb", "discretized-ucb-pricing",
                "mnl-ucb", "bwk-primal-dual", "lucb", "d-linucb", "sw-linucb", "pbm-ucb"}


@pytest.mark.parametrize("subject, kind", CASES, ids=IDS)
def test_a_seed_makes_the_same_run_and_the_policy_stream_matters(subject: str, kind: str) -> None:
    """Seed 1 twice gives the same actions and regret, whatever NumPy's and Python's global generators hold;
    another policy stream in the same world (seed 1, another candidate id: runner.streams) gives other actions
    for a randomised policy (all but the tie breakers, around which adapters draw nothing of their own)."""
    first, saved = trace(subject, kind), (np.random.get_state(), random.getstate())
    try:
        np.random.seed(12345)
        random.seed(12345)
        again = race(make(subject), first.problem)
    finally:
        np.random.set_state(saved[0])
        random.setstate(saved[1])
    assert all(np.array_equal(a, b) for a, b in zip(first.actions, again.actions, strict=True))
    assert np.array_equal(first.result.regret, again.result.regret)
    assert np.array_equal(first.result.final_regret, again.result.final_regret)
    if subject.partition("+")[0] not in TIE_BREAKERS:
        other = trace(subject, kind, stream="another candidate")
        assert not all(np.array_equal(a, b) for a, b in zip(first.actions, other.actions)), \
            "another policy stream gives the very same actions: the policy ignores its generator"


# --- 3. independence of repetitions ---------------------------------------------------------------------------

class Worlds(envs.Environment):
    """Each repetition in a world of its own, made and drawn from its own generator (named in `worlds`), so that
    the other repetitions' worlds can change while one repetition's stays the same, draw for draw."""

    def __init__(self, worlds: tuple[int, ...], p: Problem, rng: np.random.Generator) -> None:
        self.parts = [envs.make_environment(replace(p, reps=1), np.random.default_rng([7, w])) for w in worlds]

    def context(self, t: int) -> np.ndarray | None:
        contexts = [e.context(t) for e in self.parts]
        return None if contexts[0] is None else np.concatenate(contexts)  # type: ignore[arg-type]

    def step(self, t: int, action: np.ndarray, context: np.ndarray | None) -> envs.Outcome:
        outs = [e.step(t, action[r:r + 1], None if context is None else context[r:r + 1])
                for r, e in enumerate(self.parts)]
        joined = ([getattr(o, f.name) for o in outs] for f in fields(envs.Outcome))
        return envs.Outcome(*(None if v[0] is None else np.concatenate(v) for v in joined))  # type: ignore[arg-type]


def marked(known: dict[str, Any]) -> list[Any]:
    """The cases, those of the subjects named in `known` with its mark (a known failure and why)."""
    return [pytest.param(s, k, marks=known[s]) if s in known else (s, k) for s, k in CASES]


# adapters whose number of draws in a round depends on every repetition, which no stand-in generator can undo
CONDITIONAL_DRAWS = {"ranked-bandits": "ranked bandits draws replacement items only in rounds where some "
                                       "repetition's list repeats an item, so the other repetitions decide which "
                                       "variates the first one gets (with replacements drawn every round it passes)"}
SHARED_COUNT = pytest.mark.xfail(strict=True, reason=(
    "the delay queue asks its base for every repetition while any repetition takes a reward from its queue; what "
    "an extra question writes in a repetition's rows is put back, but the decision count is one for all, and "
    "delayed-conversions UCB keys its window of recent plays and its bonus on it"))


@pytest.mark.parametrize("subject, kind", marked({"delayed-conversions-ucb+delay-queue": SHARED_COUNT}), ids=IDS)
def test_a_repetition_does_not_depend_on_the_others(subject: str, kind: str) -> None:
    """The runner draws every repetition's variates from one policy stream per run (runner.streams), so a
    repetition's draws shift with how many repetitions there are and how many variates they use: repetitions
    stay statistically independent but are not comparable draw for draw. With the generator replaced by one
    whose variates do not move (Steady), repetition 0 must play and lose the same alone as beside repetitions
    in worlds 1 to 3 (immediate feedback), and beside worlds 1 to 3 as beside worlds 11 to 13 (delayed feedback,
    so that updates mix repetitions)."""
    if subject.partition("+")[2] in CONDITIONAL_DRAWS:
        pytest.skip(CONDITIONAL_DRAWS[subject.partition("+")[2]])
    for delay, pair in (("immediate", ((0,), (0, 1, 2, 3))), ("delayed", ((0, 1, 2, 3), (0, 11, 12, 13)))):
        first, second = (race(make(subject), problem(kind, reps=len(w), feedback_delay=delay), generator=Steady(SEED),
                              world=functools.partial(Worlds, w)) for w in pair)
        for t, (a, b) in enumerate(zip(first.actions, second.actions, strict=True)):
            assert np.array_equal(a[0], b[0]), f"{delay}, round {t}: repetition 0 played {a[0]} and {b[0]}"
        assert first.result.regret[0].tolist() == second.result.regret[0].tolist(), delay


# --- 4. hyperparameters ---------------------------------------------------------------------------------------

def own_domains(subject: str) -> dict[str, Domain]:
    return domains(type(make(subject)))


def ends(domain: Domain) -> list[float]:
    """The two ends of a domain; an open end is approached to the nearest number inside."""
    low = np.nextafter(domain.low, np.inf) if domain.low_open else domain.low
    high = np.nextafter(domain.high, -np.inf) if domain.high_open else domain.high
    return [float(np.ceil(low)), float(np.floor(high))] if domain.whole else [float(low), float(high)]


def outside(domain: Domain) -> list[Any]:
    """Values a domain refuses: past each end (the end itself when open), a fraction for whole numbers, and
    values that are not finite numbers."""
    return [domain.low if domain.low_open else domain.low - max(1.0, abs(domain.low)),
            domain.high if domain.high_open else domain.high + max(1.0, abs(domain.high)),
            float("nan"), float("inf"), -float("inf"), True, "many"] + ([domain.low + 0.5] if domain.whole else [])


HYPERPARAMETERS = [(s, name) for s in SUBJECTS for name in own_domains(s)]
OWNERS = sorted({(type(make(s)), name): (s, name) for s, name in HYPERPARAMETERS}.values())  # one per class


@pytest.mark.parametrize("cls", sorted({*REGISTRY.values(), *ADAPTERS.values()}, key=str), ids=lambda c: c.__name__)
def test_every_hyperparameter_has_a_domain_holding_its_default(cls: type[Policy]) -> None:
    for f in fields(cls):
        if not f.metadata.get("wraps"):
            assert isinstance(f.metadata.get("domain"), Domain), f"{cls.__name__}.{f.name} has no domain"
            assert f.default in f.metadata["domain"], f"{cls.__name__}.{f.name}: default outside its domain"


@pytest.mark.parametrize("subject, name", HYPERPARAMETERS, ids=[f"{s}-{n}" for s, n in HYPERPARAMETERS])
def test_both_ends_of_every_domain_run_without_warnings(subject: str, name: str) -> None:
    """A run at each end, every action valid, the state finite, exploit() valid at the end."""
    domain = own_domains(subject)[name]
    for value in ends(domain):
        assert value in domain
        policy = make(subject, **{name: int(value) if domain.whole else value})
        done = race(policy, problem(kinds(subject)[0]))
        check_actions(done.problem, policy.exploit(done.spy.state, done.spy.context), f"exploit, {name}={value}")


@pytest.mark.parametrize("subject, name", OWNERS, ids=[f"{s}-{n}" for s, n in OWNERS])
def test_values_outside_a_domain_are_refused_naming_the_hyperparameter(subject: str, name: str) -> None:
    """Refused by the class itself (field Class.name) and by the builders from text (field where.name)."""
    base, _, adapter = subject.partition("+")
    for value in outside(own_domains(subject)[name]):
        if not isinstance(value, str):
            with pytest.raises(BanditmapError) as made:
                make(subject, **{name: value})
            assert made.value.field == f"{type(make(subject)).__name__}.{name}", made.value
        with pytest.raises(BanditmapError) as built:
            if adapter:
                build_wrapper(adapter, build(base, {}, base), {name: str(value)}, adapter)
            else:
                build(base, {name: str(value)}, base)
        assert built.value.field == f"{adapter or base}.{name}" and "expected" in built.value.message, built.value


# --- 6. learning ----------------------------------------------------------------------------------------------

def easy(p: Problem, rng: np.random.Generator) -> envs.Environment:
    """The problem's environment made easy: one clearly best action (arm 1, so that arm 0, the default a
    conservative policy falls back on, is decent but not best), the others far behind."""
    env: Any = envs.make_environment(p, rng)
    R, K, k = p.reps, p.n_arms, p.slate_size
    means = np.r_[0.6, 0.9, np.full(K - 2, 0.1)]
    logits = np.log(means / (1 - means))
    rows = (lambda values: np.broadcast_to(values, (R,) + np.shape(values)).copy())
    if p.kind == "arms":
        env.set_logits(rows(logits))
    if p.kind == "budget":
        env.set_arms(rows(means), rows(np.r_[0.5, 0.2, np.full(K - 2, 0.9)]))
    elif p.kind == "contextual":  # the intercept only: arm 1 best in every context
        env.theta = np.zeros((R, K, p.n_features))
        env.theta[:, :, 0] = (logits + 1.5) / 1.5 * np.sqrt(p.n_features)
    elif p.kind == "multi":  # arm 1 dominates
        env.vectors = rows(np.stack([means, means], axis=1))
        env.pareto_gap = envs.pareto_gaps(env.vectors)
    elif p.kind in ("cascade", "slate"):
        env.w = rows(np.r_[0.02, 0.7, 0.02, 0.6, 0.02, 0.5, np.full(K - 6, 0.02)])
        top = np.sort(env.w, axis=1)[:, ::-1][:, :k]
        env.best_value = top.sum(axis=1) if p.kind == "slate" else 1 - np.prod(1 - top, axis=1)
    elif p.kind == "pricing":
        env.slope, env.pivot = np.full((R, 1), 12.0), np.full((R, 1), 0.6)
        fine = np.linspace(env.LOW, env.HIGH, 2001)[None, :]
        env.best = (fine * env.buy(fine)).max(axis=1)
    elif p.kind == "dueling":
        env.u = rows(np.r_[0.5, 1.0, np.zeros(K - 2)])
        env.best = env.u.max(axis=1)
    elif p.kind == "assortment":
        env.v = rows(np.r_[0.9, 0.05, 0.9, 0.05, 0.9, np.full(K - 5, 0.05)])
        env.best_set, env.best = oracles.best_assortment(env.v, env.revenue, k)
    elif p.kind == "combination":  # value 1 of every component is best, no interactions
        env.weights = np.zeros_like(env.weights)
        env.weights[:, :env.D * env.V] = np.tile(np.r_[-1.0, 1.5, np.full(env.V - 2, -1.5)], env.D)
        env.best = env.expected(np.ones((R, env.D), dtype=np.int64))
    return env


def identifies(subject: str) -> bool:
    """Whether the subject's base is for best-arm identification: every catalog entry it simulates prefers (or
    only handles) that objective."""
    objectives: list[Any] = [(a.prefers or {}).get("objective") or a.handles.get("objective", "any")
                             for a in CATALOG.algorithms if a.simulator == subject.partition("+")[0]]
    return bool(objectives) and all(o != "any" and "cumulative" not in o for o in objectives)


FEW_PAGES = {"n_actions": 9, "slate_size": 2}  # 2 components x 3 values: pages few enough to be learnt as arms


@functools.lru_cache(maxsize=None)
def learning(subject: str, kind: str, few_pages: bool = False) -> Run:
    """A subject's run on the easy problem of a kind; with few_pages, the combination problem of 9 pages (a
    policy viewing each of 625 pages as one arm cannot try them all in 300 rounds, nor can it learn there)."""
    p = problem(kind, 300, 8, objective="best_arm" if identifies(subject) else "cumulative",
                **(FEW_PAGES if few_pages else {}))
    return race(make(subject), p, 3, world=easy).result


def second_half(result: Run) -> float:
    curve = result.regret.mean(axis=0)
    return float(curve[-1] - curve[int(np.searchsorted(result.rounds, result.rounds[-1] // 2))])


MOST_PLAYED = pytest.mark.xfail(strict=False, reason=(  # by chance it may: not strict
    "the most played arm names the best one for a regret minimiser (Bubeck, Munos and Stoltz 2009); a best-arm "
    "identifier spreads its plays over the arms in contention on purpose (successive elimination plays the "
    "survivors in turn, top-two sampling its leader and its challenger about equally), so the catalog's "
    "best-arm-from-counts names the best arm around it by chance"))
SAFE_DEFAULT = pytest.mark.xfail(strict=False, reason=(
    "conservative UCB plays today's default action until its confidence bounds guarantee the baseline's budget; "
    "with each of the 9 pages as one arm (pages-as-arms), 300 rounds do not give it that confidence, so it keeps "
    "the default page, which the easy problem makes a bad one"))
@pytest.mark.parametrize("subject, kind", marked({
    **{s: MOST_PLAYED for s in SUBJECTS if identifies(s) and s.endswith("+best-arm-from-counts")},
    "conservative-ucb+pages-as-arms": SAFE_DEFAULT}), ids=IDS)
def test_on_an_easy_problem_a_policy_beats_uniform_play(subject: str, kind: str) -> None:
    """Over the second half of 300 rounds (8 repetitions, seed 3) of the easy problem, less regret than uniform
    play (a policy viewing pages as arms on 9 pages); a policy for best-arm identification instead names the best
    arm in most repetitions."""
    if subject.partition("+")[0] in BASELINES.values():
        pytest.skip("uniform play is the reference itself")
    if identifies(subject) and kind != "arms":
        pytest.skip(f"for best-arm identification, whose point is not regret; the runner names a best arm on "
                    f"K-armed problems only, not on {kind} problems")
    few_pages = "pages-as-arms" in subject.split("+")
    result = learning(subject, kind, few_pages)
    if identifies(subject):
        assert result.identified is not None and result.identified.mean() > 0.5, result.identified
    else:
        uniform = learning(BASELINES[kind], kind, few_pages)
        assert second_half(result) < second_half(uniform), (second_half(result), second_half(uniform))


# --- 7. exploit -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("subject, kind", CASES, ids=IDS)
def test_exploit_plays_valid_actions(subject: str, kind: str) -> None:
    """The policy with exploration off (replay's final policy), from the state at the end of the run."""
    done = trace(subject, kind)
    check_actions(done.problem, make(subject).exploit(copy.deepcopy(done.spy.state), done.spy.context), "exploit")

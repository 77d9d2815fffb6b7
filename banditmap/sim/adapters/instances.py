"""Adapters that keep several instances of the base: one per position of a ranking (ranked bandits, Radlinski,
Kleinberg and Joachims 2008), two sparring partners for duels (Ailon, Karnin and Joachims 2014), one per weight
vector over several metrics (Drugan and Nowe 2013), or a fresh one per batch of rounds (Rexp3, Besbes, Gur and
Zeevi 2014). The instances share one base state of n x R repetitions (instance i of repetition r is i * R + r)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from banditmap.sim.adapters.base import Inner, Wrapped, Wrapper, register_adapter, stacked
from banditmap.sim.policies.base import SHARE, Array, Feedback, State, hyperparameter, random_arms, whole
from banditmap.sim.policies.mab import KernelStats
from banditmap.sim.problem import Problem


def instance_aux(inner: State, copies: int, R: int) -> Array | None:
    """What the base noted for each instance's decision, (R, copies, ...), or None."""
    if inner.aux is None:
        return None
    aux = np.asarray(inner.aux, dtype=float)
    return np.moveaxis(aux.reshape((copies, R) + aux.shape[1:]), 0, 1)


def pack(own: Array, noted: Array | None) -> Array:
    """The wrapper's own note (R, c) and the base's notes (R, c, ...) as one float array (R, c, 1 + m), to travel
    with the feedback."""
    rest = np.zeros(own.shape + (0,)) if noted is None else noted.reshape(own.shape + (-1,))
    return np.concatenate([own[..., None].astype(float), rest], axis=-1)


def unpack(aux: Array, shape: tuple[int, ...] | None) -> tuple[Array, Array | None]:
    """`pack` undone for N observations: the wrapper's notes (N, c) and the base's (N * c, *shape), or None."""
    own = aux[..., 0]
    if shape is None:
        return own, None
    return own, np.moveaxis(aux[..., 1:], 1, 0).reshape((-1,) + shape)


def noted_shape(inner: State) -> tuple[int, ...] | None:
    """The shape of what the base notes per decision, past the repetitions axis."""
    return None if inner.aux is None else np.asarray(inner.aux).shape[1:]


@dataclass(kw_only=True)
class Positions(Wrapped[Inner]):
    draws: Array  # (R,) uint64: each repetition's stream of the replacements of picks already shown above
    noted: tuple[int, ...] | None = None  # the shape of what the base notes per decision


def counting_state(state: State) -> State:
    """The innermost state under wrappers' states: the base policy's own."""
    while isinstance(state, Wrapped):
        state = state.inner
    return state


@register_adapter("ranked-bandits")
@dataclass(frozen=True)
class RankedBandits(Wrapper[Positions[Inner], Inner]):
    """Ranked bandits: the instance for position i picks an item for that slot; an item already shown higher up is
    replaced by a random item not yet in the list. After the user scans the list, the instance of the clicked
    position gets reward 1 if the item shown there was its own pick, and every other instance gets 0 (the first
    click is what the paper rewards; a replaced pick earns 0). The list maximises the chance of at least one
    click, reaching (1 - 1/e) of the best list for adversarial bases. Around a base with compiled kernels it races
    compiled on the cascade (sim/kernels/wrappers.py's ranked template): here each position's instance draws from
    the stream that race gives it, derived from the repetition's (position_streams), so both agree."""

    @classmethod
    def lift(cls, base_kinds: frozenset[str]) -> frozenset[str]:
        return frozenset({"cascade"}) if "arms" in base_kinds else frozenset()

    @staticmethod
    def positions_problem(problem: Problem) -> Problem:
        """The K-armed problem the k instances of the base play, held as k x R repetitions (position first)."""
        return stacked(problem, problem.slate_size, kind="arms", slate_size=1)

    def init(self, problem: Problem, rng: np.random.Generator) -> Positions[Inner]:
        from banditmap.sim.kernels.rng import states_from
        from banditmap.sim.kernels.wrappers import position_streams
        R, k = problem.reps, problem.slate_size
        draws = states_from(rng, R)  # first, as the compiled race draws the policy's streams
        inner = self.base.init(self.positions_problem(problem), rng)
        counting = counting_state(inner)
        if isinstance(counting, KernelStats):  # the compiled race's streams of each position's instance
            counting.draws[:] = position_streams(draws, k)[R:]
        return Positions(rng, R, problem.n_arms, k, problem.rounds, inner=inner, draws=draws)

    def select(self, s: Positions[Inner], context: Array | None) -> Array:
        wanted = self.ask(s, None).reshape(s.k, s.R).T  # (R, k)
        shown = self.distinct(s, wanted)
        s.noted = noted_shape(s.inner)
        s.aux = pack(wanted, instance_aux(s.inner, s.k, s.R))
        return shown

    def exploit(self, s: Positions[Inner], context: Array | None) -> Array:
        """Every position's instance with exploration off, as a list of distinct items (R, k)."""
        return self.distinct(s, self.base.exploit(s.inner, None).reshape(s.k, s.R).T)

    def distinct(self, s: Positions[Inner], wanted: Array) -> Array:
        """The list of the positions' picks (R, k), an item already shown higher up replaced by uniform draws of
        any item from the repetition's stream until one is not (wrappers.distinct_item)."""
        from banditmap.sim.kernels.wrappers import distinct_lists
        shown: Array = distinct_lists(np.ascontiguousarray(wanted, dtype=np.int64), s.K, s.draws)
        return shown

    def update(self, s: Positions[Inner], feedback: Feedback) -> None:
        assert feedback.aux is not None
        k = feedback.actions.shape[1]
        own, noted = unpack(feedback.aux, s.noted)
        wanted = own.astype(np.int64)
        clicked = np.arange(k)[None, :] == feedback.observed.astype(np.int64)[:, None]
        rewards = (clicked & (feedback.actions == wanted)).astype(float)
        reps = np.arange(k)[:, None] * s.R + feedback.reps[None, :]  # each position's instance, position first
        self.base.update(s.inner, Feedback(reps.ravel(), wanted.T.ravel(), rewards.T.ravel(), None, noted,
                                           unique=feedback.unique))

    def recommend(self, state: Positions[Inner]) -> Array:
        raise NotImplementedError


@register_adapter("sparring")
@dataclass(frozen=True)
class Sparring(Wrapper[Wrapped[Inner], Inner]):
    """Sparring: a left and a right instance of the base each choose an option; the pair is compared, the left
    instance gets reward 1 when its option wins and the right one 1 when its option wins. The paper conjectures,
    and reports experiments showing, that both converge on the Condorcet winner. Around a base with compiled
    kernels it races compiled (sim/kernels/dueling.py's sparring template): here the base's right instances draw
    from the streams that race gives them, derived from the left instances' (partner_streams), so both agree."""

    @classmethod
    def lift(cls, base_kinds: frozenset[str]) -> frozenset[str]:
        return frozenset({"dueling"}) if "arms" in base_kinds else frozenset()

    @staticmethod
    def partners_problem(problem: Problem) -> Problem:
        """The K-armed problem the two instances of the base play, held as 2R repetitions (left ones first)."""
        return stacked(problem, 2, kind="arms", slate_size=1)

    def init(self, problem: Problem, rng: np.random.Generator) -> Wrapped[Inner]:
        inner = self.base.init(self.partners_problem(problem), rng)
        counting = counting_state(inner)
        if isinstance(counting, KernelStats):  # the compiled race's streams: the right instance's from the left's
            from banditmap.sim.kernels.dueling import partner_streams
            counting.draws[:] = partner_streams(counting.draws[:problem.reps])
        return Wrapped(rng, problem.reps, problem.n_arms, 2, problem.rounds, inner=inner)

    def select(self, state: Wrapped[Inner], context: Array | None) -> Array:
        picks = self.ask(state, None).reshape(2, state.R).T  # (R, 2): left, right
        state.aux = instance_aux(state.inner, 2, state.R)
        return picks

    def exploit(self, state: Wrapped[Inner], context: Array | None) -> Array:
        """Both partners with exploration off (R, 2)."""
        return self.base.exploit(state.inner, None).reshape(2, state.R).T

    def update(self, state: Wrapped[Inner], feedback: Feedback) -> None:
        won = feedback.observed  # 1 when the first (left) option won
        reps = np.concatenate([feedback.reps, feedback.reps + state.R])
        aux = None if feedback.aux is None else np.concatenate([feedback.aux[:, 0], feedback.aux[:, 1]])  # left first
        self.base.update(state.inner, Feedback(reps, feedback.actions.T.ravel(), np.concatenate([won, 1 - won]),
                                               None, aux, unique=feedback.unique))

    def recommend(self, state: Wrapped[Inner]) -> Array:
        raise NotImplementedError


@dataclass(kw_only=True)
class Weighted(Wrapped[Inner]):
    weights: Array  # (W, D) one weight vector per instance
    noted: tuple[int, ...] | None = None  # the shape of what the base notes per decision


@register_adapter("scalarization")
@dataclass(frozen=True)
class Scalarization(Wrapper[Weighted[Inner], Inner]):
    """Linear scalarisation (Drugan and Nowe 2013): the base learns from w . r, the weighted sum of the metrics.
    With one weight vector, (weight, then 1 - weight shared by the other metrics); with `vectors` > 1, the first
    metric's weight spreads evenly over [0, 1], one base instance per vector, and each decision is made by an
    instance drawn at random, which spreads play over the Pareto front. With one vector, around a base with
    compiled kernels, it races compiled (sim/kernels/wrappers.py's scalar template in sim/kernels/multi.py's race),
    the weighted sum computed by the same kernel here."""

    weight: float = hyperparameter(0.5, SHARE)
    vectors: int = hyperparameter(1, whole(1, 16, "each vector is a base instance per repetition"))

    @classmethod
    def lift(cls, base_kinds: frozenset[str]) -> frozenset[str]:
        return frozenset({"multi"}) if "arms" in base_kinds else frozenset()

    @staticmethod
    def instances_problem(problem: Problem, copies: int) -> Problem:
        """The K-armed problem the instances of the base play, one per weight vector, held as copies x R
        repetitions."""
        return stacked(problem, copies, kind="arms", objectives=1)

    def weight_vectors(self, problem: Problem) -> Array:
        """The weight vectors (W, D), one per instance."""
        D, W = max(problem.objectives, 1), self.vectors
        first = np.array([self.weight]) if W == 1 else np.linspace(0.0, 1.0, W)
        rest = (1 - first[:, None]) / max(D - 1, 1) * np.ones((W, D - 1))
        weights: Array = np.concatenate([first[:, None], rest], axis=1) if D > 1 else np.ones((W, 1))
        return weights

    def init(self, problem: Problem, rng: np.random.Generator) -> Weighted[Inner]:
        inner = self.base.init(self.instances_problem(problem, self.vectors), rng)
        return Weighted(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds, inner=inner,
                        weights=self.weight_vectors(problem))

    def select(self, s: Weighted[Inner], context: Array | None) -> Array:
        W = len(s.weights)
        picks = self.ask(s, None).reshape(W, s.R).T  # (R, W)
        drawn = self.draw(s)
        rows = np.arange(s.R)
        noted = instance_aux(s.inner, W, s.R)
        s.noted = noted_shape(s.inner)
        s.aux = pack(drawn[:, None], None if noted is None else noted[rows, drawn][:, None])
        choice: Array = picks[rows, drawn]
        return choice

    def exploit(self, s: Weighted[Inner], context: Array | None) -> Array:
        """The instance of a weight vector drawn as in `select`, with exploration off."""
        picks = self.base.exploit(s.inner, None).reshape(len(s.weights), s.R).T  # (R, W)
        choice: Array = picks[np.arange(s.R), self.draw(s)]
        return choice

    def draw(self, s: Weighted[Inner]) -> Array:
        """The weight vector each repetition decides with (R,)."""
        W = len(s.weights)
        return random_arms(s.rng, W, s.R) if W > 1 else np.zeros(s.R, dtype=np.int64)

    def update(self, s: Weighted[Inner], feedback: Feedback) -> None:
        from banditmap.sim.kernels.wrappers import weighted_sums
        assert feedback.aux is not None
        own, noted = unpack(feedback.aux, s.noted)
        drawn = own[:, 0].astype(np.int64)
        observed = np.ascontiguousarray(feedback.observed, dtype=np.float64).reshape(len(feedback.reps), -1)
        rewards = weighted_sums(np.ascontiguousarray(s.weights[drawn][:, :observed.shape[1]]), observed)
        self.base.update(s.inner, Feedback(drawn * s.R + feedback.reps, feedback.actions, rewards, None, noted,
                                           unique=feedback.unique))

    def recommend(self, state: Weighted[Inner]) -> Array:
        raise NotImplementedError


@dataclass(kw_only=True)
class Restarted(Wrapped[Inner]):
    problem: Problem  # what the base is started on again


@register_adapter("restarts")
@dataclass(frozen=True)
class Restarts(Wrapper[Restarted[Inner], Inner]):
    """Rexp3 (Besbes, Gur and Zeevi 2014): the base starts afresh every `batch` rounds, so within a batch it
    competes with the best arm of that batch; the batch length trades relearning against drift."""

    batch: int = hyperparameter(1000, whole(1, 10_000_000))

    def init(self, problem: Problem, rng: np.random.Generator) -> Restarted[Inner]:
        return Restarted(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds,
                         inner=self.base.init(problem, rng), problem=problem)

    def select(self, s: Restarted[Inner], context: Array | None) -> Array:
        if s.t and s.t % self.batch == 0:
            s.inner = self.base.init(s.problem, s.rng)  # feedback still on its way is given to the new instance
        return super().select(s, context)

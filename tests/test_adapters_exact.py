"""Exact checks of the adapter simulators (sim/adapters/*.py), each around a tiny deterministic stub policy that
plays the first best of scores the test sets and logs every call: what a wrapper passes to its base (which
repetitions, arms, rewards, notes, in which order), when (a restart, a discount before the decision, a queued
reward handed over before the real play), and what it returns (the played arm, a list of distinct items, a
duel's pair, the safe choice), with the papers' formulas worked on small numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.adapters import ADAPTERS, build_wrapper, chain_gap, chain_kinds, register_adapter
from banditmap.sim.adapters.base import Wrapped, Wrapper, layer_feedback, stacked, wrapped
from banditmap.sim.adapters.delays import DelayQueue, rows_of
from banditmap.sim.adapters.instances import (RankedBandits, Restarts, Scalarization, Sparring, instance_aux,
                                              noted_shape, pack, unpack)
from banditmap.sim.adapters.safety import Conservative
from banditmap.sim.adapters.statistics import (BestArmFromCounts, Discounting, RobustMean, SlidingWindow,
                                               learn_and_measure, take_away)
from banditmap.sim.policies import REGISTRY
from banditmap.sim.policies.base import (ADVERSARIAL, ARM_STATISTICS, CONFIDENCE_BOUNDS, SHARE, Array, Feedback,
                                         Policy, State, check_domains, domains, hyperparameter, random_arms)
from banditmap.sim.problem import Problem


@dataclass(kw_only=True)
class Book(State):
    """The stub's state: per-arm statistics, the scores its decisions follow, and a log of every call."""

    counts: Array  # (R, K)
    sums: Array  # (R, K)
    means: Array  # (R, K)
    scores: Array  # (R, K) each repetition plays its first best score
    asked: Array  # (R,) decisions asked of each repetition
    notes: bool = False  # whether select notes 10 x the arm + the repetition (aux)
    shift: bool = False  # whether its t-th decision is the best arm + t (mod K)
    given: tuple[Array, Array] | None = None  # the bounds to report, when set
    made_for: Problem | None = None  # the problem it was made for
    log: list[tuple[Any, ...]] = field(default_factory=list)
    touched: list[Any] = field(default_factory=list)

    def touch(self, index: Any) -> None:
        self.touched.append(index)


@dataclass(frozen=True)
class Stub(Policy[Book]):
    """A deterministic base: it plays argmax(scores) per repetition, learns counts and sums, bounds each arm by
    its mean -+ 1 / sqrt(n), and logs what it is given."""

    kinds: ClassVar[frozenset[str]] = frozenset({"arms", "contextual"})
    offers: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS, CONFIDENCE_BOUNDS, ADVERSARIAL})

    def init(self, problem: Problem, rng: np.random.Generator) -> Book:
        R, K = problem.reps, problem.n_arms
        return Book(rng, R, K, problem.slate_size, problem.rounds, counts=np.zeros((R, K)), sums=np.zeros((R, K)),
                    means=np.zeros((R, K)), scores=np.zeros((R, K)), asked=np.zeros(R), made_for=problem)

    def select(self, s: Book, context: Array | None) -> Array:
        s.log.append(("select", s.t, context, s.counts.tolist()))
        s.asked += 1
        choice: Array = (np.argmax(s.scores, axis=1) + (s.t if s.shift else 0)) % s.K
        if s.notes:
            s.aux = 10.0 * choice + np.arange(s.R)
        return choice

    def update(self, s: Book, feedback: Feedback) -> None:
        aux = None if feedback.aux is None else np.asarray(feedback.aux).tolist()
        s.log.append(("update", feedback.reps.tolist(), np.asarray(feedback.actions).tolist(),
                      np.asarray(feedback.observed).tolist(), aux, feedback.unique))
        for r, a, x in zip(feedback.reps, feedback.actions, feedback.observed):
            s.counts[r, a] += 1
            s.sums[r, a] += x
        s.means[:] = np.where(s.counts > 0, s.sums / np.maximum(s.counts, 1), 0.0)

    def recommend(self, s: Book) -> Array:
        least: Array = np.argmin(s.counts, axis=1)
        return least

    def exploit(self, s: Book, context: Array | None) -> Array:
        s.log.append(("exploit", context))
        worst: Array = np.argmin(s.scores, axis=1)
        return worst

    def statistics(self, s: Book) -> Book:
        return s

    def bounds(self, s: Book, context: Array | None) -> tuple[Array, Array]:
        s.log.append(("bounds", context))
        if s.given is not None:
            return s.given
        width = 1 / np.sqrt(np.maximum(s.counts, 1))
        tried = s.counts > 0
        return np.where(tried, s.means - width, -np.inf), np.where(tried, s.means + width, np.inf)


@dataclass(frozen=True)
class ContextOnly(Stub):
    kinds: ClassVar[frozenset[str]] = frozenset({"contextual"})


@dataclass(frozen=True)
class CountsOnly(Stub):
    offers: ClassVar[frozenset[str]] = frozenset({ARM_STATISTICS})


def problem(kind: str = "arms", K: int = 3, R: int = 2, rounds: int = 10, k: int = 1,
            objectives: int = 1) -> Problem:
    return Problem(kind, "binary", K, 0, k, rounds, R, "stationary", "immediate", 1, 1, "none", "cumulative",
                   objectives=objectives)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def updates(book: Book) -> list[tuple[Any, ...]]:
    return [entry[1:] for entry in book.log if entry[0] == "update"]


# --- base.py: what every wrapper shares -------------------------------------------------------------------------

def test_a_wrapper_takes_its_kinds_and_capabilities_from_its_base() -> None:
    stub = Stub()
    assert Discounting(stub).kinds == {"arms"} and Discounting(stub).offers == {ARM_STATISTICS, CONFIDENCE_BOUNDS}
    assert Discounting(ContextOnly()).kinds == frozenset()
    assert BestArmFromCounts(stub).kinds == {"arms"} and BestArmFromCounts(stub).offers == frozenset()
    assert Conservative(stub).kinds == {"arms", "contextual"} and Conservative(ContextOnly()).kinds == {"contextual"}
    assert RankedBandits(stub).kinds == {"cascade"} and RankedBandits(ContextOnly()).kinds == frozenset()
    assert Sparring(stub).kinds == {"dueling"} and Sparring(ContextOnly()).kinds == frozenset()
    assert Scalarization(stub).kinds == {"multi"} and Scalarization(ContextOnly()).kinds == frozenset()
    assert DelayQueue(stub).offers == {ARM_STATISTICS, CONFIDENCE_BOUNDS} and Sparring(stub).offers == frozenset()
    assert Discounting.kinds == frozenset({"arms"}) and Discounting.offers == frozenset()  # the class's own stay


def test_a_passing_wrapper_asks_its_base_for_one_decision_and_counts_it() -> None:
    wrapper, generator = BestArmFromCounts(Stub()), rng()
    s = wrapper.init(problem(R=2, K=3, rounds=7), generator)
    assert type(s) is Wrapped and (s.R, s.K, s.k, s.horizon, s.t) == (2, 3, 1, 7, 0) and s.rng is generator
    assert isinstance(s.inner, Book) and s.inner.rng is generator and (s.inner.R, s.inner.horizon) == (2, 7)
    s.inner.scores[:] = [[0, 1, 0], [2, 0, 0]]
    s.inner.aux = np.ones(2)  # last round's note: gone before the base decides again
    context = np.array([[0.5], [0.25]])
    assert wrapper.ask(s, context).tolist() == [1, 0]
    assert s.inner.t == 1 and s.inner.aux is None and s.inner.log[0][:3] == ("select", 0, context)
    s.inner.notes = True
    s.aux = np.zeros(2)
    assert wrapper.select(s, None).tolist() == [1, 0] and s.inner.t == 2
    assert s.aux is s.inner.aux and s.aux.tolist() == [10.0, 1.0]


def sized(kind: str, k: int = 1, objectives: int = 1) -> Problem:
    """A problem whose sizes all differ (2 repetitions, 3 arms, 7 rounds), so a size passed in the wrong place
    shows."""
    return Problem(kind, "binary", 3, 0, k, 7, 2, "stationary", "immediate", 1, 1, "none", "cumulative",
                   objectives=objectives)


@pytest.mark.parametrize("wrapper,p,k,inner", [
    (DelayQueue(Stub()), sized("arms"), 1, sized("arms")),
    (Conservative(Stub()), sized("arms"), 1, sized("arms")),
    (SlidingWindow(Stub(), window=3), sized("arms"), 1, sized("arms")),
    (Discounting(Stub()), sized("arms"), 1, sized("arms")),
    (RobustMean(Stub()), sized("arms"), 1, sized("arms")),
    (Restarts(Stub()), sized("arms"), 1, sized("arms")),
    (RankedBandits(Stub()), sized("cascade", k=4), 4, stacked(sized("cascade", k=4), 4, kind="arms", slate_size=1)),
    (Sparring(Stub()), sized("dueling", k=3), 2, stacked(sized("dueling", k=3), 2, kind="arms", slate_size=1)),
    (Scalarization(Stub(), vectors=2), sized("multi", objectives=2), 1,
     stacked(sized("multi", objectives=2), 2, kind="arms", objectives=1))], ids=lambda v: type(v).__name__)
def test_a_wrappers_state_holds_the_problems_sizes_and_the_races_generator(wrapper: Wrapper[Any, Any], p: Problem,
                                                                            k: int, inner: Problem) -> None:
    generator = rng()
    s = wrapper.init(p, generator)
    assert (s.R, s.K, s.k, s.horizon, s.t) == (2, 3, k, 7, 0) and s.rng is generator
    assert s.inner.rng is generator and s.inner.made_for == inner


def test_every_other_call_goes_through_to_the_base() -> None:
    wrapper = Discounting(Stub(), gamma=0.5)
    s = wrapper.init(problem(), rng())
    s.inner.scores[:] = [[3, 1, 2], [0, 5, 4]]
    feedback = Feedback(np.array([1, 0]), np.array([2, 0]), np.array([1.0, 0.5]), None, unique=True)
    wrapper.update(s, feedback)
    assert updates(s.inner) == [([1, 0], [2, 0], [1.0, 0.5], None, True)]
    assert wrapper.recommend(s).tolist() == [1, 0]  # the stub's: its least observed arm
    context = np.ones((2, 1))
    assert wrapper.exploit(s, context).tolist() == [1, 0] and s.inner.log[-1] == ("exploit", context)
    assert wrapper.statistics(s) is s.inner
    lower, upper = wrapper.bounds(s, context)
    assert s.inner.log[-1] == ("bounds", context)
    assert lower.tolist() == [[-0.5, -np.inf, -np.inf], [-np.inf, -np.inf, 0.0]]
    assert upper.tolist() == [[1.5, np.inf, np.inf], [np.inf, np.inf, 2.0]]


def test_stacked_problems_and_one_layer_of_feedback() -> None:
    p = problem(kind="cascade", R=2, K=5, k=3)
    q = stacked(p, 3, kind="arms", slate_size=1)
    assert (q.reps, q.kind, q.slate_size, q.n_arms, q.rounds) == (6, "arms", 1, 5, 10)
    assert stacked(p, 2) == Problem("cascade", "binary", 5, 0, 3, 10, 4, "stationary", "immediate", 1, 1, "none",
                                    "cumulative")
    feedback = Feedback(np.array([0, 1, 0]), np.array([2, 1, 0]), np.array([1.0, 0.0, 0.5]),
                        np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), np.array([7.0, 8.0, 9.0]), unique=False,
                        costs=np.array([0.1, 0.2, 0.3]))
    part = layer_feedback(feedback, np.array([2, 1]))
    assert (part.reps.tolist(), part.actions.tolist(), part.observed.tolist()) == ([0, 1], [0, 1], [0.5, 0.0])
    assert part.contexts is not None and part.contexts.tolist() == [[5.0, 6.0], [3.0, 4.0]]
    assert part.aux is not None and part.aux.tolist() == [9.0, 8.0] and part.unique is True
    assert part.costs is not None and part.costs.tolist() == [0.3, 0.2]
    part = layer_feedback(Feedback(np.array([0, 1]), np.array([2, 1]), np.array([1.0, 0.0]), None), np.array([1]),
                          np.array([4.0]))
    assert (part.reps.tolist(), part.observed.tolist(), part.contexts, part.aux, part.costs) == (
        [1], [4.0], None, None, None)


@dataclass(frozen=True)
class Needy(Wrapper[Wrapped[Any], Any]):
    needs: ClassVar[frozenset[str]] = frozenset({CONFIDENCE_BOUNDS, ARM_STATISTICS})


def test_wrappers_are_built_and_registered_by_their_simulator_ids() -> None:
    stub = Stub()
    window = build_wrapper("sliding-window", stub, {"window": "5"}, "x")
    assert type(window) is SlidingWindow and window.window == 5 and window.base is stub
    with pytest.raises(BanditmapError) as refused:
        build_wrapper("nope", stub, {}, "adapters.x", source="c.yaml")
    assert str(refused.value) == (f"c.yaml: adapters.x: no adapter simulator 'nope'; expected one of "
                                  f"{', '.join(sorted(ADAPTERS))}")
    with pytest.raises(BanditmapError) as refused:
        build_wrapper("sliding-window", stub, {"window": 0}, "w", source="f.yaml")
    assert str(refused.value) == "f.yaml: w.window: expected a whole number from 1 to 1e+07, got '0'"
    try:
        assert register_adapter("test-needy", "test-needy-2")(Needy) is Needy
        assert ADAPTERS["test-needy"] is Needy and ADAPTERS["test-needy-2"] is Needy
    finally:
        ADAPTERS.pop("test-needy", None)
        ADAPTERS.pop("test-needy-2", None)


def test_a_chain_of_wrappers_runs_where_its_lifts_say_and_needs_what_its_inner_part_offers() -> None:
    assert chain_kinds(Stub, []) == Stub.kinds and chain_kinds(Stub, [Conservative]) == {"arms", "contextual"}
    assert chain_kinds(Stub, [Conservative, RankedBandits]) == {"cascade"}
    assert chain_kinds(Stub, [RankedBandits, Conservative]) == frozenset()
    assert chain_gap(Stub, [SlidingWindow, Discounting, Conservative]) is None
    assert chain_gap(Stub, [BestArmFromCounts, Discounting]) == (
        "the discounting simulator needs arm-statistics, which the Stub+best-arm-from-counts simulator does not "
        "offer")
    assert chain_gap(Stub, [Discounting, BestArmFromCounts, Needy]) == (
        "the Needy simulator needs arm-statistics and confidence-bounds, which the "
        "Stub+discounting+best-arm-from-counts simulator does not offer")
    exp3 = REGISTRY["exp3"]
    assert ARM_STATISTICS not in exp3.offers and chain_gap(exp3, [Discounting]) == (
        "the discounting simulator needs arm-statistics, which the exp3 simulator does not offer")
    assert chain_gap(Stub, []) is None and chain_gap(Stub, [Needy]) is None
    # what a wrapper keeps of its inner part's capabilities, never more than that part offers
    assert chain_gap(CountsOnly, [Discounting, Conservative]) == (
        "the conservative simulator needs confidence-bounds, which the CountsOnly+discounting simulator does not "
        "offer")


def test_the_field_holding_the_base_is_not_a_hyperparameter() -> None:
    @dataclass(frozen=True)
    class Holder(Policy[State]):
        inner: Policy[Any] = wrapped()
        alpha: float = hyperparameter(0.5, SHARE)

    check_domains(Holder)
    assert list(domains(Holder)) == ["alpha"] and Holder(Stub()).params().tolist() == [0.5]


# --- delays.py: the delay queue ---------------------------------------------------------------------------------

def test_the_delay_queue_hands_queued_rewards_over_before_the_real_play() -> None:
    """Arm 1 of repetition 0 holds rewards 0.5 then 0.7, arm 2 of repetition 1 holds 0.9: the base asks for them,
    gets them in order and asks again, until it asks for an arm with an empty queue, which is played. Asking a
    repetition that already has its answer is undone in its rows of the base's state."""
    wrapper, generator = DelayQueue(Stub()), rng()
    s = wrapper.init(problem(R=2, K=3, rounds=7), generator)
    assert (s.R, s.K, s.k, s.horizon) == (2, 3, 1, 7) and s.rng is generator and s.inner.rng is generator
    assert (s.buffer.shape, s.head.tolist(), s.size.tolist()) == ((2, 3, 16), [[0] * 3] * 2, [[0] * 3] * 2)
    s.inner.scores[:] = [[0, 1, 0], [0, 0, 1]]
    s.inner.notes = True
    wrapper.update(s, Feedback(np.array([0, 0, 1]), np.array([1, 1, 2]), np.array([0.5, 0.7, 0.9]), None))
    assert s.inner.log == [] and s.size.tolist() == [[0, 2, 0], [0, 0, 1]]
    s.aux = np.ones(2)
    context = np.ones((2, 1))
    played = wrapper.select(s, context)
    assert played.tolist() == [1, 2] and played.dtype == np.int64 and s.aux is None
    assert [entry[2] is context for entry in s.inner.log if entry[0] == "select"] == [True] * 3
    assert updates(s.inner) == [([0, 1], [1, 2], [0.5, 0.9], [10.0, 21.0], True), ([0], [1], [0.7], [10.0], True)]
    assert s.inner.asked.tolist() == [3, 2] and s.inner.t == 3 and s.size.tolist() == [[0] * 3] * 2
    assert s.inner.counts.tolist() == [[0, 2, 0], [0, 0, 1]]
    s.inner.notes = False  # nothing queued: one decision, played
    assert wrapper.select(s, None).tolist() == [1, 2] and s.inner.asked.tolist() == [4, 3] and s.inner.t == 4
    wrapper.update(s, Feedback(np.array([1]), np.array([0]), np.array([0.25]), None, unique=True))
    s.inner.scores[1] = [1, 0, 0]
    assert wrapper.select(s, None).tolist() == [1, 0] and updates(s.inner)[-1] == ([1], [0], [0.25], None, True)
    assert s.inner.asked.tolist() == [5, 5]


def test_the_delay_queue_plays_each_repetitions_first_answer_without_a_queued_reward() -> None:
    """The stub's t-th decision is arm t (mod 3) everywhere: repetition 1 has nothing queued and plays arm 0 at
    once (its answers 1 and 2 to the later asks are discarded); repetition 0 is handed its rewards of arms 0 and 1,
    then plays arm 2."""
    wrapper = DelayQueue(Stub())
    s = wrapper.init(problem(R=2, K=3), rng())
    s.inner.shift = True
    wrapper.update(s, Feedback(np.array([0, 0]), np.array([1, 0]), np.array([0.6, 0.5]), None))
    assert wrapper.select(s, None).tolist() == [2, 0]
    assert updates(s.inner) == [([0], [0], [0.5], None, True), ([0], [1], [0.6], None, True)]


def test_the_delay_queue_undoes_extra_asks_in_every_instance_of_a_nested_base() -> None:
    """Around a base holding two instances per repetition (3 x 2 rows), asking repetitions 1 and 2 again is undone
    in both their rows; repetition 0, handed a queued reward, was asked twice in both."""
    wrapper = DelayQueue(Scalarization(Stub(), vectors=2))
    s = wrapper.init(problem(R=3, K=3), rng())
    assert s.inner.inner.R == 6 and s.inner.weights.shape == (2, 1)
    s.inner.inner.scores[np.arange(6), [1, 2, 0, 1, 2, 0]] = 1.0  # both instances of a repetition agree
    wrapper.update(s, Feedback(np.array([0]), np.array([1]), np.array([0.5]), None, unique=True))
    assert wrapper.select(s, None).tolist() == [1, 2, 0]
    assert s.inner.inner.asked.tolist() == [2, 1, 1, 2, 1, 1] and s.inner.inner.counts.sum() == 1


@dataclass(kw_only=True)
class Nest(State):
    per_rep: Array  # (R,)
    per_arm: Array  # (R, K)
    other: Array  # (5,)
    scalar: Array  # ()
    inner: State | None = None


def test_the_rows_of_a_state_and_of_the_states_inside_it() -> None:
    inside = Nest(rng(), 4, 2, per_rep=np.array([10.0, 20, 30, 40]), per_arm=np.arange(8.0).reshape(4, 2),
                  other=np.zeros(5), scalar=np.array(1.0))
    outer = Nest(rng(), 2, 2, per_rep=np.array([1.0, 2.0]), per_arm=np.arange(4.0).reshape(2, 2), other=np.zeros(5),
                 scalar=np.array(3.0), inner=inside)
    outer.aux = np.array([7.0, 8.0])
    kept = rows_of(outer, np.array([False, True]))
    assert [(owner is outer, name, rows.tolist()) for owner, name, rows in kept] == [
        (True, "per_rep", [2.0]), (True, "per_arm", [[2.0, 3.0]]), (False, "per_rep", [20.0, 40.0]),
        (False, "per_arm", [[2.0, 3.0], [6.0, 7.0]])]
    outer.per_rep[1] = 5.0
    assert kept[0][2].tolist() == [2.0]  # copies


# --- instances.py: several instances of the base -----------------------------------------------------------------

def test_notes_of_several_instances_travel_packed_and_come_back_instance_first() -> None:
    state = State(rng(), 6, 3)
    assert instance_aux(state, 3, 2) is None and noted_shape(state) is None
    state.aux = np.arange(6)
    assert instance_aux(state, 3, 2).tolist() == [[0, 2, 4], [1, 3, 5]] and noted_shape(state) == ()
    state.aux = np.arange(12).reshape(6, 2)
    noted = instance_aux(state, 3, 2)
    assert noted.dtype == float and noted.shape == (2, 3, 2) and noted[1, 2].tolist() == [10, 11]
    assert noted_shape(state) == (2,)
    own = np.array([[4, 5, 6], [7, 8, 9]])
    assert pack(own, None).tolist() == [[[4.0], [5.0], [6.0]], [[7.0], [8.0], [9.0]]]
    packed = pack(own, noted)
    assert packed.shape == (2, 3, 3) and packed[1, 2].tolist() == [9.0, 10.0, 11.0]
    back, base = unpack(packed, (2,))
    assert back.tolist() == own.tolist() and base is not None and base.tolist() == state.aux.tolist()
    back, base = unpack(pack(own, instance_aux(State(rng(), 6, 3, aux=np.arange(6.0)), 3, 2)), ())
    assert base is not None and base.tolist() == list(range(6))
    back, base = unpack(pack(own, None), None)
    assert back.tolist() == own.tolist() and base is None


def test_ranked_bandits_show_each_positions_pick_and_reward_the_first_click_on_it() -> None:
    wrapper, generator = RankedBandits(Stub()), rng(3)
    s = wrapper.init(problem(kind="cascade", R=2, K=5, k=3, rounds=9), generator)
    assert (s.R, s.K, s.k, s.horizon) == (2, 5, 3, 9) and (s.inner.R, s.inner.K, s.inner.k) == (6, 5, 1)
    wanted = np.array([[1, 3, 1], [2, 2, 4]])  # (R, k): position i of repetition r is instance i * R + r
    s.inner.scores[np.arange(6), wanted.T.ravel()] = 1.0
    s.inner.notes = True
    shown = wrapper.select(s, None)
    # an item shown higher up is replaced by an item not yet in the list; a pick not taken stays
    assert shown[0, :2].tolist() == [1, 3] and shown[0, 2] not in (1, 3) and shown[1, 0] == 2
    assert shown[1, 1] != 2 and (shown[1, 2] == 4 or shown[1, 1] == 4)
    assert all(len(set(row)) == 3 for row in shown.tolist())
    assert s.noted == () and s.aux is not None
    assert s.aux.tolist() == [[[1, 10], [3, 32], [1, 14]], [[2, 21], [2, 23], [4, 45]]]
    wrapper.update(s, Feedback(np.array([0, 1]), shown, np.array([1, 3]), None, s.aux, unique=True))
    # repetition 0 clicked position 1 (its own pick: 1), repetition 1 clicked nothing (position k): all 0
    assert updates(s.inner) == [([0, 1, 2, 3, 4, 5], [1, 2, 3, 2, 1, 4], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
                                 [10.0, 21.0, 32.0, 23.0, 14.0, 45.0], True)]
    # a click on an item that replaced the position's pick (0 for 2) earns that position 0
    wrapper.update(s, Feedback(np.array([1]), np.array([[2, 0, 4]]), np.array([1]), None, s.aux[1:], unique=False))
    assert updates(s.inner)[-1] == ([1, 3, 5], [2, 2, 4], [0.0, 0.0, 0.0], [21.0, 23.0, 45.0], False)
    wrapper.update(s, Feedback(np.array([1]), np.array([[2, 0, 4]]), np.array([0]), None, s.aux[1:], unique=True))
    assert updates(s.inner)[-1] == ([1, 3, 5], [2, 2, 4], [1.0, 0.0, 0.0], [21.0, 23.0, 45.0], True)
    s.inner.notes = False
    s.inner.scores[:] = 1.0
    s.inner.scores[np.arange(6), [0, 4, 3, 4, 2, 1]] = 0.0  # exploit plays the stub's worst: 0 3 2 / 4 4 1
    best = wrapper.exploit(s, None)
    assert best[0].tolist() == [0, 3, 2] and best[1, 0] == 4 and len(set(best[1].tolist())) == 3
    assert [entry[0] for entry in s.inner.log].count("exploit") == 1
    wrapper.select(s, None)
    assert s.noted is None and s.aux is not None and s.aux.shape == (2, 3, 1)
    with pytest.raises(NotImplementedError):
        wrapper.recommend(s)


def test_ranked_bandits_replace_every_repeated_pick_of_a_position() -> None:
    """Every repetition's second position repeats its first pick (3 in even repetitions, 1 in odd ones): each is
    replaced by its own draw, uniform over the 3 items not shown above (6,000 repetitions, seed 4)."""
    R = 6000
    wrapper = RankedBandits(Stub())
    s = wrapper.init(problem(kind="cascade", R=R, K=4, k=2), rng(4))
    firsts = np.where(np.arange(R) % 2 == 0, 3, 1)
    s.inner.scores[np.arange(2 * R), np.tile(firsts, 2)] = 1.0
    shown = wrapper.select(s, None)
    assert shown[:, 0].tolist() == firsts.tolist() and (shown[:, 1] != firsts).all()
    for first in (3, 1):
        counts = np.bincount(shown[firsts == first, 1], minlength=4) / (R / 2)
        assert counts[first] == 0 and counts[np.arange(4) != first] == pytest.approx([1 / 3] * 3, abs=0.03)


def test_sparring_partners_choose_left_and_right_and_learn_who_won() -> None:
    wrapper = Sparring(Stub())
    s = wrapper.init(problem(kind="dueling", R=2, K=4, rounds=6), rng())
    assert (s.R, s.K, s.k, s.horizon) == (2, 4, 2, 6) and (s.inner.R, s.inner.k) == (4, 1)
    s.inner.scores[np.arange(4), [1, 3, 2, 0]] = 1.0  # left: 1, 3; right: 2, 0
    s.inner.notes = True
    assert wrapper.select(s, None).tolist() == [[1, 2], [3, 0]] and s.inner.t == 1
    assert s.aux is not None and s.aux.tolist() == [[10.0, 22.0], [31.0, 3.0]]
    wrapper.update(s, Feedback(np.array([1, 0]), np.array([[3, 0], [1, 2]]), np.array([1.0, 0.0]), None,
                               np.array([[31.0, 3.0], [10.0, 22.0]]), unique=True))
    assert updates(s.inner) == [([1, 0, 3, 2], [3, 1, 0, 2], [1.0, 0.0, 0.0, 1.0], [31.0, 10.0, 3.0, 22.0], True)]
    wrapper.update(s, Feedback(np.array([0]), np.array([[1, 2]]), np.array([0.0]), None))
    assert updates(s.inner)[-1] == ([0, 2], [1, 2], [0.0, 1.0], None, False)
    s.inner.scores[:] = 1.0
    s.inner.scores[np.arange(4), [0, 1, 2, 3]] = 0.0
    assert wrapper.exploit(s, None).tolist() == [[0, 2], [1, 3]]
    with pytest.raises(NotImplementedError):
        wrapper.recommend(s)


def test_scalarisation_weighs_the_metrics_and_draws_an_instance_per_decision() -> None:
    three = Scalarization(Stub(), weight=0.4).init(problem(kind="multi", objectives=3), rng())
    assert three.weights.tolist() == [[0.4, 0.3, 0.3]] and three.inner.R == 2
    two = Scalarization(Stub(), vectors=3).init(problem(kind="multi", objectives=2), rng())
    assert two.weights.tolist() == [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]] and two.inner.R == 6
    assert Scalarization(Stub(), vectors=2).init(problem(kind="multi"), rng()).weights.tolist() == [[1.0], [1.0]]
    assert Scalarization(Stub(), weight=0.3).init(problem(kind="multi", objectives=0), rng()).weights.tolist() == [
        [1.0]]
    wrapper = Scalarization(Stub(), vectors=3)
    s = wrapper.init(problem(kind="multi", R=4, K=5, objectives=2), rng(9))
    assert (s.R, s.K, s.inner.R, s.inner.K) == (4, 5, 12, 5)
    picks = np.array([[0, 1, 2], [3, 4, 0], [1, 2, 3], [4, 0, 1]])  # (R, W): instance w of repetition r
    s.inner.scores[np.arange(12), picks.T.ravel()] = 1.0
    s.inner.notes = True
    drawn = random_arms(rng(9), 3, 4)
    assert len(set(drawn.tolist())) > 1
    choice = wrapper.select(s, None)
    assert choice.tolist() == picks[np.arange(4), drawn].tolist() and s.noted == ()
    assert s.aux is not None and s.aux[:, 0, 0].tolist() == drawn.tolist()
    assert s.aux[:, 0, 1].tolist() == [10.0 * c + w * 4 + r for r, (c, w) in enumerate(zip(choice, drawn))]
    observed = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.25]])
    wrapper.update(s, Feedback(np.arange(4), choice, observed, None, s.aux, unique=True))
    weights = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    rewards = [float(observed[r] @ weights[w]) for r, w in enumerate(drawn)]
    assert updates(s.inner) == [((drawn * 4 + np.arange(4)).tolist(), choice.tolist(), rewards,
                                 s.aux[:, 0, 1].tolist(), True)]
    one = Scalarization(Stub(), weight=0.25)
    t = one.init(problem(kind="multi", R=2, objectives=2), rng())
    t.inner.scores[:, 2] = 1.0
    assert one.select(t, None).tolist() == [2, 2] and t.aux is not None and t.aux.tolist() == [[[0.0]], [[0.0]]]
    assert t.noted is None
    one.update(t, Feedback(np.array([1, 1]), np.array([2, 0]), np.array([[1.0, 0.0], [0.0, 1.0]]), None,
                           np.zeros((2, 1, 1)), unique=False))
    assert updates(t.inner) == [([1, 1], [2, 0], [0.25, 0.75], None, False)]
    t.inner.scores[:] = [[1, 0, 1], [1, 1, 0]]
    assert one.exploit(t, None).tolist() == [1, 2]
    s.inner.scores[:] = 1.0
    s.inner.scores[np.arange(12), picks.T.ravel()] = 0.0
    generator = rng(9)
    generator.bit_generator.state = s.rng.bit_generator.state
    assert wrapper.exploit(s, None).tolist() == picks[np.arange(4), random_arms(generator, 3, 4)].tolist()
    with pytest.raises(NotImplementedError):
        wrapper.recommend(s)


def test_scalarisation_draws_an_instance_only_when_it_has_several() -> None:
    one = Scalarization(Stub())
    s = one.init(problem(kind="multi", R=8), rng(4))
    one.select(s, None)
    assert s.rng.bit_generator.state == rng(4).bit_generator.state  # one weight vector: no draw
    two = Scalarization(Stub(), vectors=2)
    s = two.init(problem(kind="multi", R=8), rng(4))
    s.inner.scores[8:, 1] = 1.0  # the second instance plays arm 1, the first arm 0
    drawn = random_arms(rng(4), 2, 8)
    assert two.select(s, None).tolist() == drawn.tolist() and set(drawn.tolist()) == {0, 1}


def test_restarts_start_the_base_afresh_every_batch_of_rounds() -> None:
    wrapper, p = Restarts(Stub(), batch=3), problem(R=2, rounds=8)
    s = wrapper.init(p, rng())
    assert s.problem is p and s.horizon == 8
    instances = []
    for t in range(8):
        s.t = t  # the runner's count of decisions
        if t == 4:
            wrapper.update(s, Feedback(np.array([0]), np.array([1]), np.array([1.0]), None, unique=True))
        context = np.full((2, 1), float(t))
        wrapper.select(s, context)
        assert s.inner.log[-1][:3] == ("select", s.inner.t - 1, context)
        instances.append(s.inner)
    assert [i is instances[0] for i in instances] == [True, True, True, False, False, False, False, False]
    assert instances[3] is instances[5] and instances[6] is not instances[5] and instances[6] is instances[7]
    assert instances[3].counts.tolist() == [[0, 1, 0], [0, 0, 0]] and instances[6].counts.tolist() == [[0] * 3] * 2
    assert [i.t for i in (instances[0], instances[3], instances[6])] == [3, 3, 2] and s.inner.rng is s.rng


# --- safety.py: conservative exploration --------------------------------------------------------------------------

def test_the_conservative_check_without_contexts_by_hand() -> None:
    """alpha 0.1, K = 3; slack = sum_{i != 0} n_i L_i + L_J + (n_0 - 0.9 (t + 1)) B_0, B_0 the default's upper
    bound while its coefficient is negative, its lower bound otherwise; lower bounds held at 0 or more."""
    wrapper = Conservative(Stub(), alpha=0.1)
    s = wrapper.init(problem(R=6, K=3), rng())
    assert s.plays.shape == (6, 3) and s.margin.tolist() == [0.0] * 6
    s.plays[:] = [[5, 3, 2],  # 1.4 + 0.4 - 4.9 x 0.7 < 0: the default instead
                  [9, 1, 0],  # 0.6 + 0.6 - 0.9 x 0.7 = 0.57: safe
                  [9, 0, 0],  # coefficient 9 - 0.9 x 10 = 0: B_0 is the lower bound (the upper one is infinite)
                  [5, 3, 2],  # the default itself is always played
                  [0, 0, 0],  # 0.45 - 0.9 x 0.5 = 0 exactly: safe
                  [2, 3, 0]]  # -0.3 held at 0, an untried arm's -inf at 0: 0 + 0 + (2 - 5.4) x 0.2 < 0
    lower = np.array([[0.5, 0.2, 0.4], [0.5, 0.6, 0.5], [-np.inf, 0.1, 0.3], [0.5, 0.2, 0.4], [0.1, 0.45, 0.2],
                      [0.1, -0.3, -np.inf]])
    upper = np.array([[0.7, 0.6, 0.8], [0.7, 0.8, 0.7], [np.inf, 0.5, 0.6], [0.7, 0.6, 0.8], [0.5, 0.6, 0.9],
                      [0.2, 0.5, np.inf]])
    s.inner.given = (lower, upper)
    s.inner.scores[np.arange(6), [2, 1, 2, 0, 1, 2]] = 1.0
    assert wrapper.select(s, None).tolist() == [0, 1, 2, 0, 1, 0]
    assert s.plays.tolist() == [[6, 3, 2], [9, 2, 0], [9, 0, 1], [6, 3, 2], [0, 1, 0], [3, 3, 0]]
    assert s.margin.tolist() == [0.0] * 6 and lower[5, 1] == -0.3  # the base's bounds are not changed
    s.plays[:] = [[0, 2, 3], [1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    s.inner.given = (np.full((6, 3), 0.2), np.full((6, 3), 0.5))
    # 0.2 x 5 + 0.2 - 5.4 x 0.5 = -1.5; 0 + 0.2 + (1 - 1.8) x 0.5 = -0.2; 0.2 - 0.9 x 0.5 < 0
    assert wrapper.select(s, None).tolist() == [0, 0, 0, 0, 0, 0]
    s.inner.given = (np.full((6, 3), 0.9), np.full((6, 3), 1.0))
    # 0.9 x 5 + 0.9 - 5.4 = 0; 0.9 + (1 - 1.8) x 1 = 0.1 (the plays above); 0.9 - 0.9 = 0
    s.plays[:] = [[0, 2, 3], [1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert wrapper.select(s, None).tolist() == [2, 1, 2, 0, 1, 2]


def test_the_conservative_check_with_contexts_keeps_a_margin() -> None:
    """slack = margin + L_J - 0.9 U_0; the margin grows by L_J - 0.9 U_0 for the base's plays, by 0.1 L_0 for
    the default's."""
    wrapper = Conservative(Stub(), alpha=0.1)
    s = wrapper.init(problem(R=5, K=2), rng())
    s.plays[:] = 50.0  # not read with contexts
    s.margin[:] = [0.0, 0.2, 0.0, 1.0, 0.0]
    s.inner.given = (np.array([[0.3, 0.6], [0.3, 0.4], [-1.0, -np.inf], [0.5, 0.2], [0.0, 0.5]]),
                     np.array([[0.5, 0.9], [0.5, 0.7], [0.8, 0.9], [1.0, 0.3], [0.5, 0.6]]))
    s.inner.scores[:, 1] = 1.0  # the base wants arm 1 everywhere
    context = np.ones((5, 2))
    # 0.6 - 0.45 = 0.15; 0.2 + 0.4 - 0.45 = 0.15; 0 + 0 - 0.72 < 0; 1.0 + 0.2 - 0.9 = 0.3; 0.5 - 0.45 = 0.05
    assert wrapper.select(s, context).tolist() == [1, 1, 0, 1, 1]
    # the bounds of the decision are asked first, before the base decides and counts it (a base that keeps the
    # bounds its decision computed then reads them at the same count)
    assert [entry[:2] for entry in s.inner.log] == [("bounds", context), ("select", 0)]
    assert s.inner.log[0][1] is context and s.inner.log[1][2] is context
    assert s.margin.tolist() == pytest.approx([0.15, 0.15, 0.0, 0.3, 0.05], abs=1e-15)
    assert s.plays.tolist() == [[50, 51], [50, 51], [51, 50], [50, 51], [50, 51]]
    s.inner.given = (np.array([[0.3, 0.0], [0.3, 0.4], [0.2, 0.0], [0.5, 0.2], [0.0, 0.5]]),
                     np.array([[0.5, 0.9], [0.5, 0.7], [0.8, 0.9], [1.0, 0.3], [0.5, 0.6]]))
    s.inner.scores[3] = [1.0, 0.0]
    # 0.15 + 0 - 0.45 < 0: the default, margin + 0.03; 0.15 + 0.4 - 0.45 = 0.1; -0.72: default, + 0.02
    assert wrapper.select(s, context).tolist() == [0, 1, 0, 0, 1]
    assert s.margin.tolist() == pytest.approx([0.18, 0.1, 0.02, 0.35, 0.1], abs=1e-15)


# --- statistics.py: rewriting the base's per-arm statistics -------------------------------------------------------

def test_what_an_observation_added_is_measured_and_taken_away() -> None:
    wrapper = SlidingWindow(Stub(), window=3)
    s = wrapper.init(problem(R=2, K=2), rng())
    s.inner.counts[:] = [[3.0, 1.0], [2.0, 2.0]]
    s.inner.sums[:] = [[1.5, 1.0], [0.5, 2.0]]
    feedback = Feedback(np.array([1, 0, 1]), np.array([0, 1, 1]), np.array([1.0, 0.25, 0.5]), None)
    reps, arms, counts, sums = learn_and_measure(wrapper, s, feedback, np.array([0, 1]))
    assert (reps.tolist(), arms.tolist(), counts.tolist(), sums.tolist()) == ([1, 0], [0, 1], [1, 1], [1.0, 0.25])
    assert updates(s.inner) == [([1, 0], [0, 1], [1.0, 0.25], None, True)]
    reps, arms, counts, sums = learn_and_measure(wrapper, s, feedback, np.array([2]), np.array([4.0]))
    assert (reps.tolist(), arms.tolist(), counts.tolist(), sums.tolist()) == ([1], [1], [1], [4.0])
    stats = s.inner
    stats.counts[:] = [[3.0, 1.0], [1e-12, 2.0]]
    stats.sums[:] = [[1.5, 1.0], [0.25, 1.0]]
    stats.means[:] = -1.0
    index = (np.array([0, 0, 1, 1]), np.array([0, 0, 1, 0]))
    take_away(stats, *index, np.array([1.0, 1.0, 1.0, 0.0]), np.array([0.5, 0.25, 1.0, 0.0]))
    assert stats.counts.tolist() == [[1.0, 1.0], [0.0, 1.0]] and stats.sums.tolist() == [[0.75, 1.0], [0.0, 0.0]]
    assert stats.means.tolist() == [[0.75, -1.0], [0.0, 0.0]]  # means of the entries taken from only
    assert len(stats.touched) == 1 and [a.tolist() for a in stats.touched[0]] == [[0, 0, 1, 1], [0, 0, 1, 0]]
    stats.counts[:], stats.sums[:] = [[2.0, 0.5], [1.0, 1.0]], [[1.0, 0.5], [1.0, 1.0]]
    take_away(stats, np.array([0]), np.array([1]), np.array([0.25]), np.array([0.125]))
    assert stats.counts[0].tolist() == [2.0, 0.25] and stats.means[0, 1] == 1.5 and stats.sums[0, 1] == 0.375


def test_the_sliding_window_keeps_the_last_observations_of_each_repetition() -> None:
    wrapper = SlidingWindow(Stub(), window=2)
    s = wrapper.init(problem(R=2, K=3, rounds=10), rng())
    assert s.filled.shape == s.count.shape == s.total.shape == s.arm.shape == (2, 2) and s.arm.dtype == np.int64
    assert SlidingWindow(Stub(), window=50).init(problem(rounds=10), rng()).filled.shape == (2, 10)
    wrapper.update(s, Feedback(np.array([0, 1, 0]), np.array([1, 0, 2]), np.array([1.0, 0.5, 0.5]), None))
    assert s.inner.counts.tolist() == [[0, 1, 1], [1, 0, 0]] and s.cursor.tolist() == [0, 1]
    assert s.arm.tolist() == [[1, 2], [0, 0]] and s.total.tolist() == [[1.0, 0.5], [0.5, 0.0]]
    wrapper.update(s, Feedback(np.array([0]), np.array([1]), np.array([0.25]), None, unique=True))
    # repetition 0's observation of arm 1 with 1.0 left the window: arm 1 holds 0.25 only
    assert s.inner.counts[0].tolist() == [0, 1, 1] and s.inner.sums[0].tolist() == [0, 0.25, 0.5]
    assert s.inner.means[0].tolist() == [0, 0.25, 0.5] and s.arm[0].tolist() == [1, 2] and s.cursor[0] == 1
    wrapper.update(s, Feedback(np.array([0, 0]), np.array([0, 0]), np.array([1.0, 0.0]), None))
    assert s.inner.counts[0].tolist() == [2, 0, 0] and s.inner.sums[0].tolist() == [1.0, 0, 0]
    assert s.inner.counts[1].tolist() == [1, 0, 0] and s.inner.touched


def test_discounting_shrinks_the_counts_and_sums_before_each_decision() -> None:
    wrapper = Discounting(Stub(), gamma=0.5)
    s = wrapper.init(problem(R=2, K=2), rng())
    s.inner.counts[:], s.inner.sums[:] = [[4.0, 2.0], [1.0, 0.0]], [[2.0, 1.0], [0.5, 0.0]]
    s.inner.scores[:] = [[0, 1], [1, 0]]
    context = np.ones((2, 1))
    assert wrapper.select(s, context).tolist() == [1, 0] and s.inner.t == 1 and s.inner.log[0][2] is context
    assert s.inner.log[0][3] == [[2.0, 1.0], [0.5, 0.0]]  # the base decided on the discounted counts
    assert s.inner.sums.tolist() == [[1.0, 0.5], [0.25, 0.0]]
    assert s.inner.touched == [(slice(None), slice(None))]
    wrapper.select(s, None)
    assert s.inner.counts.tolist() == [[1.0, 0.5], [0.25, 0.0]]


def test_robust_ucb_truncates_rewards_and_plays_the_truncated_mean_plus_its_width() -> None:
    """u = 2, epsilon = 0.5, T = 100: log(1/delta) = 2 log 100; the s-th reward of an arm is kept if |r| <=
    (u s / log(1/delta))^(1/(1+epsilon)); the width is 4 u^(1/(1+epsilon)) (log(1/delta) / n)^(epsilon/(1+epsilon))."""
    wrapper = RobustMean(Stub(), moment_bound=2.0, epsilon=0.5)
    s = wrapper.init(problem(R=2, K=3, rounds=100), rng())
    log_inv_delta = 2 * float(np.log(100))
    assert wrapper.log_inv_delta(s) == log_inv_delta
    assert wrapper.log_inv_delta(wrapper.init(problem(rounds=1), rng())) == 2 * float(np.log(2))
    assert s.seen.tolist() == [[0.0] * 3] * 2
    first = (2.0 * 1.0 / log_inv_delta) ** (1 / 1.5)  # about 0.36
    second = (2.0 * 2.0 / log_inv_delta) ** (1 / 1.5)
    wrapper.update(s, Feedback(np.array([0, 1, 0]), np.array([1, 1, 1]), np.array([first, -0.3, 0.5]), None))
    assert updates(s.inner) == [([0, 1], [1, 1], [first, -0.3], None, True), ([0], [1], [0.5], None, True)]
    assert 0.5 <= second
    third = (2.0 * 3.0 / log_inv_delta) ** (1 / 1.5)  # about 0.75
    assert 0.8 > third
    wrapper.update(s, Feedback(np.array([0]), np.array([1]), np.array([-0.8]), None, unique=True))
    assert updates(s.inner)[-1] == ([0], [1], [0.0], None, True) and s.seen.tolist() == [[0, 3, 0], [0, 1, 0]]
    width = [4 * 2.0 ** (1 / 1.5) * (log_inv_delta / n) ** (0.5 / 1.5) for n in (1, 2, 3)]
    lower, upper = wrapper.bounds(s, None)
    mean = (first + 0.5) / 3
    assert upper[0].tolist() == pytest.approx([np.inf, mean + width[2], np.inf], rel=1e-14)
    assert lower[0].tolist() == pytest.approx([-np.inf, mean - width[2], -np.inf], rel=1e-14)
    assert wrapper.width(s, np.array([0.0, 2.0])).tolist() == pytest.approx([width[0], width[1]], rel=1e-14)
    assert upper[1].tolist() == pytest.approx([np.inf, -0.3 + width[0], np.inf], rel=1e-14)  # one reward: tried
    s.inner.counts[1] = [1, 1, 2]
    s.inner.sums[1] = [0.9, 0.0, 1.0]
    s.inner.means[1] = [0.9, 0.0, 0.5]
    s.inner.scores[:] = [[0, 0, 1], [0, 1, 0]]
    s.aux = np.ones(2)
    choice = wrapper.select(s, None)
    assert choice[1] == 0 and choice[0] in (0, 2) and s.aux is None  # untried arms (an infinite bound) first
    assert all(entry[0] != "select" for entry in s.inner.log)  # the base's index is not used


def test_the_most_played_arm_is_named_as_the_best() -> None:
    wrapper = BestArmFromCounts(Stub())
    s = wrapper.init(problem(R=2, K=3), rng())
    s.inner.counts[:] = [[1, 5, 2], [4, 0, 1]]
    assert wrapper.recommend(s).tolist() == [1, 0]
    s.inner.scores[:] = [[0, 0, 1], [1, 0, 0]]
    assert wrapper.select(s, None).tolist() == [2, 0]  # it plays as its base



def test_each_compiled_adapter_keeps_its_own_columns_with_their_count_last() -> None:
    """The columns a compiled composition adds after its base's scratch row (sim/kernels/wrappers.py), as each
    wrapper gives them: zeros but what the kernels start from, and their number last, which is how a template
    finds its part of a nested composition's row."""
    from banditmap.sim.policies.delayed import QUEUE_SLOTS
    short, long = problem(K=3, rounds=10), problem(K=3, rounds=5000)
    queue = DelayQueue(Stub()).region(short)  # heads, tails (K each), free, used, 10 slots' rewards and links
    assert queue.shape == (2 * 3 + 2 + 2 * 10 + 1,) and queue[-1] == 29 and not queue[:-1].any()
    assert DelayQueue(Stub()).region(long).shape == (2 * 3 + 2 + 2 * min(QUEUE_SLOTS, 5000) + 1,)
    window = SlidingWindow(Stub(), window=4).region(long)  # the cursor, 4 slots' arm, count and sum, the count
    assert window.tolist() == [0.0] * 13 + [14.0]
    assert SlidingWindow(Stub(), window=1000).region(short).shape == (3 * 10 + 2,)  # no longer than the run
    assert Discounting(Stub()).region(short).tolist() == [1.0]
    robust = RobustMean(Stub()).region(short)  # log(1/delta) with delta = 1/T^2, each arm's samples seen
    assert robust.tolist() == [pytest.approx(2 * np.log(10)), 0.0, 0.0, 0.0, 5.0]
    assert RobustMean(Stub()).region(problem(K=3, rounds=1))[0] == pytest.approx(2 * np.log(2))
    with pytest.raises(NotImplementedError, match="^Sparring has no compiled form$"):
        Sparring(Stub()).region(short)

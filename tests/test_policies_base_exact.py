"""Exact tests of what every simulated policy shares (banditmap/sim/policies/base.py): feedback layers, the state's
Beta draws, hyperparameter domains and their parsing, the registry, and the tie-breaking argmax and top-k, each
against values worked out by hand or replayed from a fresh generator with the same seed."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import numpy as np
import pytest
from stubs import small_problem

from banditmap.errors import BanditmapError
from banditmap.sim.policies import base
from banditmap.sim.policies.base import (
    NARROWEST,
    RATE,
    REGISTRY,
    SCALE,
    SHARE,
    WIDEST,
    WIDTH,
    Domain,
    Feedback,
    Memoryless,
    Policy,
    State,
    argmax_random,
    build,
    check_domains,
    domains,
    filing,
    hyperparameter,
    hyperparameter_names,
    kl_bernoulli,
    kl_upper_bound,
    parse_hyperparameters,
    random_arms,
    register,
    scatter_add,
    tie_broken,
    tie_noise,
    top_k,
    whole,
)
from banditmap.sim.policies.mab import UCB1

Array = np.ndarray
BIG = float(np.finfo(np.float64).max)


# --- policies made for these tests -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Toy(Policy[State]):
    share: float = hyperparameter(0.5, SHARE)
    n: int = hyperparameter(2, whole(1, 5))

    def select(self, state: State, context: Array | None) -> Array:
        return np.full(state.R, 4, dtype=np.int64)


@dataclass(frozen=True)
class Committed(Toy):
    def recommend(self, state: State) -> Array:
        return np.full(state.R, 1, dtype=np.int64)


@dataclass(frozen=True)
class Wrapping(Policy[State]):
    inner: Policy[Any] = dataclasses.field(default=Toy(), metadata={"wraps": True})
    rate: float = hyperparameter(0.5, RATE)


@dataclass(frozen=True)
class Bare(Policy[State]):
    pass


@dataclass(frozen=True)
class Undeclared(Policy[State]):
    x: int = 3


@dataclass(frozen=True)
class NotADomain(Policy[State]):
    x: int = dataclasses.field(default=3, metadata={"domain": "from 0 to 5"})


def error(call: Any, *args: Any, **kwargs: Any) -> BanditmapError:
    with pytest.raises(BanditmapError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- Feedback and State ----------------------------------------------------------------------------------------


def layers(reps: list[int], unique: bool = False) -> list[list[int]]:
    feedback = Feedback(np.array(reps, dtype=np.int64), np.zeros(len(reps), dtype=np.int64), np.zeros(len(reps)),
                        None, unique=unique)
    return [layer.tolist() for layer in feedback.layers()]


def test_feedback_defaults() -> None:
    feedback = Feedback(np.zeros(1), np.zeros(1), np.zeros(1), None)
    assert feedback.aux is None and feedback.unique is False and feedback.costs is None


def test_layers_put_each_repetition_at_most_once_in_arrival_order() -> None:
    # reps 2 0 2 1 0 2: first the first observation of each repetition (rows 1, 3, 0 in order of repetition),
    # then the second of 0 and 2 (rows 4, 2), then the third of 2 (row 5)
    assert layers([2, 0, 2, 1, 0, 2]) == [[1, 3, 0], [4, 2], [5]]
    assert layers([3, 1, 2]) == [[1, 2, 0]]
    assert layers([4, 4, 4]) == [[0], [1], [2]]
    assert layers([7]) == [[0]]
    assert layers([]) == []


def test_unique_feedback_is_one_layer_in_order() -> None:
    assert layers([2, 0, 1], unique=True) == [[0, 1, 2]]
    assert layers([], unique=True) == [[]]


def test_state_defaults() -> None:
    rng = np.random.default_rng(0)
    state = State(rng, 2, 3)
    assert (state.rng, state.R, state.K) == (rng, 2, 3)
    assert (state.k, state.horizon, state.t, state.aux, state.streams) == (1, 1, 0, None, None)


def test_beta_draws_a_stream_per_repetition_from_the_rng_once() -> None:
    state = State(np.random.default_rng(9), 3, 2)
    first = state.beta(np.full((3, 2), 2.0), np.array(5.0))
    assert state.streams is not None and state.streams.shape == (3,) and state.streams.dtype == np.uint64
    replay = np.random.default_rng(9)
    replay.integers(0, 2**64 - 1, 3, dtype=np.uint64, endpoint=True)
    after = replay.random()
    streams = state.streams.copy()
    second = state.beta(np.full((3, 2), 2.0), np.array(5.0))
    assert state.rng.random() == after  # the streams were drawn once, on first use, and never again
    assert not np.array_equal(streams, state.streams)  # each draw moved its stream on
    assert first.shape == second.shape == (3, 2) and len(set(first.ravel().tolist())) == 6
    assert ((first > 0) & (first < 1)).all()


def test_beta_rows_come_from_their_repetitions_streams() -> None:
    everyone = State(np.random.default_rng(9), 3, 2).beta(np.full((3, 2), 2.0), np.array(5.0))
    one = State(np.random.default_rng(9), 3, 2).beta(np.full((1, 2), 2.0), np.array([5.0, 5.0]), reps=np.array([2]))
    assert one.shape == (1, 2) and np.array_equal(one[0], everyone[2])
    two = State(np.random.default_rng(9), 3, 2).beta(np.full((2, 2), 2.0), np.array(5.0), reps=np.array([0, 2]))
    assert np.array_equal(two, everyone[[0, 2]])


def test_beta_shapes_and_parameters() -> None:
    state = State(np.random.default_rng(4), 4, 3)
    flat = state.beta(np.full(4, 1000), np.array(1))  # whole numbers become floats; one draw per repetition
    assert flat.shape == (4,) and (flat > 0.99).all()  # Beta(1000, 1) = U ** (1 / 1000)
    low = state.beta(np.ones((4, 2, 2)), np.full((4, 2, 2), 1000.0))
    assert low.shape == (4, 2, 2) and (low < 0.01).all()


# --- Policy ----------------------------------------------------------------------------------------------------


def test_policy_class_defaults() -> None:
    assert Policy.kinds == frozenset({"arms"}) and Policy.offers == frozenset()
    assert (base.ARM_STATISTICS, base.CONFIDENCE_BOUNDS, base.ADVERSARIAL, base.REGRESSION_ORACLE) == (
        "arm-statistics", "confidence-bounds", "adversarial", "regression-oracle")


def test_a_policy_checks_its_own_hyperparameters() -> None:
    assert Toy(0.25, 3).params().tolist() == [0.25, 3.0] and Toy().params().dtype == np.float64
    assert Toy(0.0, 1) == Toy(share=0.0, n=1) and Toy(1.0, 5).n == 5
    bad = error(Toy, 2.0)
    assert (bad.message, bad.field) == ("expected a number from 0 to 1, got '2.0'", "Toy.share")
    bad = error(Toy, 0.5, 6)
    assert (bad.message, bad.field) == ("expected a whole number from 1 to 5, got '6'", "Toy.n")
    assert str(error(Toy, 0.5, 2.5)) == "Toy.n: expected a whole number from 1 to 5, got '2.5'"


def test_a_wrapped_policy_is_no_hyperparameter() -> None:
    assert list(domains(Wrapping)) == ["rate"] and hyperparameter_names(Wrapping) == ["rate"]
    assert Wrapping().params().tolist() == [0.5]
    assert error(Wrapping, Toy(), 0.0).field == "Wrapping.rate"
    assert hyperparameter_names(Toy) == ["share", "n"] and domains(Toy) == {"share": SHARE, "n": whole(1, 5)}
    assert domains(Bare) == {} and Bare().params().tolist() == []


def test_unimplemented_methods() -> None:
    policy, state = Bare(), State(np.random.default_rng(0), 2, 3)
    for call in (lambda: policy.init(small_problem(), np.random.default_rng(0)), lambda: policy.select(state, None),
                 lambda: policy.update(state, Feedback(np.zeros(1), np.zeros(1), np.zeros(1), None)),
                 lambda: policy.recommend(state), lambda: policy.exploit(state, None)):
        with pytest.raises(NotImplementedError):
            call()
    with pytest.raises(NotImplementedError, match="^Bare keeps no per-arm statistics$"):
        policy.statistics(state)
    with pytest.raises(NotImplementedError, match="^Bare keeps no confidence bounds$"):
        policy.bounds(state, None)


def test_exploit_commits_where_the_policy_can_and_otherwise_selects() -> None:
    state = State(np.random.default_rng(0), 2, 5)
    assert Toy().exploit(state, None).tolist() == [4, 4]
    assert Committed().exploit(state, None).tolist() == [1, 1]


def test_memoryless_state_is_the_bare_state_of_the_problem() -> None:
    rng = np.random.default_rng(0)
    problem = small_problem("slate", n_arms=4, slate_size=2, rounds=7, reps=3)
    state = Memoryless().init(problem, rng)
    assert type(state) is State and state.rng is rng
    assert (state.R, state.K, state.k, state.horizon, state.t) == (3, 4, 2, 7, 0)
    Memoryless().update(state, Feedback(np.zeros(1), np.zeros(1), np.ones(1), None))
    assert (state.t, state.aux) == (0, None)


# --- the registry ----------------------------------------------------------------------------------------------


def test_filing_registers_under_every_id_once_its_domains_are_checked() -> None:
    registry: dict[str, Any] = {}
    assert filing(registry, ("a", "b"))(Toy) is Toy and registry == {"a": Toy, "b": Toy}
    assert filing(registry, ("w",))(Wrapping) is Wrapping and registry["w"] is Wrapping
    with pytest.raises(TypeError, match=r"^Undeclared\.x has no domain; declare it with hyperparameter\(\)$"):
        filing(registry, ("u",))(Undeclared)
    with pytest.raises(TypeError, match=r"^NotADomain\.x has no domain"):
        check_domains(NotADomain)
    assert set(registry) == {"a", "b", "w"}
    check_domains(Toy)
    check_domains(Bare)


def test_register_files_in_the_registry() -> None:
    assert REGISTRY["ucb1"] is UCB1
    try:
        assert register("test-only-a", "test-only-b")(Toy) is Toy
        assert REGISTRY["test-only-a"] is Toy and REGISTRY["test-only-b"] is Toy
    finally:
        REGISTRY.pop("test-only-a", None)
        REGISTRY.pop("test-only-b", None)
    with pytest.raises(TypeError):
        register("test-only-c")(Undeclared)
    assert "test-only-c" not in REGISTRY


def test_build_parses_the_hyperparameters() -> None:
    policy = build("ucb1", {"alpha": " 3 "}, "race.p")
    assert isinstance(policy, UCB1) and policy.alpha == 3.0
    assert build("ucb1", {}, "race.p") == UCB1()


def test_build_names_an_unknown_simulator() -> None:
    bad = error(build, "nope", {}, "race.p", "race.yaml")
    assert bad.message == f"no simulator 'nope'; expected one of {', '.join(sorted(REGISTRY))}"
    assert "kl-ucb, " in bad.message and (bad.source, bad.field) == ("race.yaml", "race.p")
    bad = error(build, "ucb1", {"alpha": "-1"}, "race.p", "race.yaml")
    assert (bad.source, bad.field) == ("race.yaml", "race.p.alpha")
    assert bad.message == "expected a number from 0 to 1e+06 (wider bounds only overflow), got '-1'"


def test_parse_hyperparameters() -> None:
    clean = parse_hyperparameters(Toy, {"share": "0.25", "n": 3.0}, "w")
    assert clean == {"share": 0.25, "n": 3} and type(clean["n"]) is int and type(clean["share"]) is float
    assert parse_hyperparameters(Toy, {}, "w") == {}
    bad = error(parse_hyperparameters, Toy, {"n": 2, "zz": 1}, "w", "f.yaml")
    assert (bad.message, bad.field, bad.source) == ("unknown hyperparameter 'zz'; expected one of share, n", "w.zz",
                                                    "f.yaml")
    bad = error(parse_hyperparameters, Bare, {"zz": 1}, "w")
    assert (bad.message, bad.field, bad.source) == ("unknown hyperparameter 'zz'; it has none", "w.zz", None)
    bad = error(parse_hyperparameters, Toy, {"share": "2"}, "w", "f.yaml")
    assert (bad.message, bad.field, bad.source) == ("expected a number from 0 to 1, got '2'", "w.share", "f.yaml")
    assert parse_hyperparameters(Wrapping, {"rate": 1}, "w") == {"rate": 1.0}
    assert error(parse_hyperparameters, Wrapping, {"inner": 1}, "w").message == (
        "unknown hyperparameter 'inner'; expected one of rate")


# --- domains ---------------------------------------------------------------------------------------------------


def test_domain_defaults_and_constants() -> None:
    d = Domain(0.0, 1.0)
    assert (d.low_open, d.high_open, d.whole, d.why) == (False, False, False, "")
    assert (WIDEST, NARROWEST) == (1e6, 1e-6)
    assert SHARE == Domain(0.0, 1.0) and RATE == Domain(0.0, 1.0, low_open=True)
    assert WIDTH == Domain(0.0, 1e6, why="wider bounds only overflow")
    assert SCALE == Domain(1e-6, 1e6, why="more extreme values only overflow")
    assert whole(1, 5, "why not") == Domain(1, 5, whole=True, why="why not") and whole(1, 5).why == ""


def test_describe() -> None:
    assert Domain(0, 1).describe() == "a number from 0 to 1"
    assert Domain(0, 1, low_open=True).describe() == "a number > 0 and <= 1"
    assert Domain(0, 1, high_open=True).describe() == "a number >= 0 and < 1"
    assert Domain(0, 1, True, True).describe() == "a number > 0 and < 1"
    assert Domain(1, 5, low_open=True, whole=True).describe() == "a whole number > 1 and <= 5"
    assert whole(1, 1000).describe() == "a whole number from 1 to 1000"
    assert WIDTH.describe() == "a number from 0 to 1e+06 (wider bounds only overflow)"
    assert SCALE.describe() == "a number from 1e-06 to 1e+06 (more extreme values only overflow)"
    assert Domain(0.5, 2.25, why="w").describe() == "a number from 0.5 to 2.25 (w)"


@pytest.mark.parametrize("value, inside", [
    (0, True), (1, True), (0.5, True), (-5e-324, False), (1.0000000000000002, False), (Fraction(1, 2), True),
    (np.float64(0.5), True), (np.int64(1), True), (True, False), (False, False), ("0.5", False), (None, False),
    (math.nan, False), (math.inf, False), (-math.inf, False), (0.5j, False)])
def test_share_holds(value: object, inside: bool) -> None:
    assert (value in SHARE) is inside


def test_open_and_closed_ends() -> None:
    assert 0 not in RATE and 5e-324 in RATE and 1 in RATE and 1.0000000000000002 not in RATE
    upper_open = Domain(0, 1, high_open=True)
    assert 0 in upper_open and 1 not in upper_open and 0.9999999999999999 in upper_open
    assert math.inf not in Domain(0, math.inf) and -math.inf not in Domain(-math.inf, 0)
    five = whole(1, 5)
    assert [v in five for v in (0, 1, 2.0, 2.5, 5, 5.0, 6, np.int64(3))] == [False, True, True, False, True, True,
                                                                             False, True]


def test_parse_reads_numbers_and_ascii_text() -> None:
    assert SHARE.parse(0.5, "w") == 0.5 and type(SHARE.parse(1, "w")) is float
    assert SHARE.parse(" 0.25 ", "w") == 0.25 and SHARE.parse("1e-1", "w") == 0.1
    assert SHARE.parse("\u20030.5", "w") == 0.5  # surrounding space of any script is ignored
    assert SHARE.parse(np.float32(0.5), "w") == 0.5 and SHARE.parse(Fraction(1, 4), "w") == 0.25
    three = whole(1, 5).parse("3", "w")
    assert three == 3 and type(three) is int
    assert type(whole(1, 5).parse(4.0, "w")) is int and whole(1, 5).parse(4.0, "w") == 4


@pytest.mark.parametrize("value, text", [
    ("abc", "'abc'"), ("", "''"), ("\u0660", "'\u0660'"), ("\u0660.5", "'\u0660.5'"), (True, "'True'"),
    (None, "'None'"), ("nan", "'nan'"), ("inf", "'inf'"), (2, "'2'"), ("-0.5", "'-0.5'"), ([0.5], "'[0.5]'"),
    (10**400, "'" + "1" + "0" * 59 + "...'"), (-(10**400), "'-" + "1" + "0" * 58 + "...'")])
def test_parse_refuses(value: object, text: str) -> None:
    bad = error(SHARE.parse, value, "p.share", "f.yaml")
    assert (bad.message, bad.field, bad.source) == (f"expected a number from 0 to 1, got {text}", "p.share", "f.yaml")


def test_parse_refuses_beyond_every_float_even_in_an_unbounded_domain() -> None:
    everything = Domain(-math.inf, math.inf)
    assert everything.parse(10**300, "w") == 1e300
    assert error(everything.parse, 10**400, "w").field == "w"
    assert error(everything.parse, "1e400", "w").source is None
    assert error(whole(1, 5).parse, "2.5", "w").message == "expected a whole number from 1 to 5, got '2.5'"


def test_hyperparameter_is_a_field_with_its_domain() -> None:
    f = cast(Any, hyperparameter(0.5, SHARE))
    assert isinstance(f, dataclasses.Field) and f.default == 0.5 and f.metadata["domain"] is SHARE
    assert dict(f.metadata) == {"domain": SHARE}
    assert cast(Any, hyperparameter(1.0, SHARE)).default == 1.0
    with pytest.raises(TypeError, match=r"^default 2\.0 outside its domain a number from 0 to 1$"):
        hyperparameter(2.0, SHARE)
    with pytest.raises(TypeError, match=r"^default 0 outside its domain a number > 0 and <= 1$"):
        hyperparameter(0, RATE)


# --- arithmetic helpers ----------------------------------------------------------------------------------------


def test_scatter_add() -> None:
    target = np.zeros((2, 3))
    scatter_add(target, (np.array([0, 0, 1]), np.array([1, 1, 2])), np.array([1.0, 2.0, 4.0]), unique=False)
    assert target.tolist() == [[0, 3, 0], [0, 0, 4]]
    scatter_add(target, (np.array([0, 1]), np.array([0, 2])), np.array([5.0, 6.0]), unique=True)
    assert target.tolist() == [[5, 3, 0], [0, 0, 10]]
    scatter_add(target, (np.array([1, 1]), np.array([0, 0])), 0.5, unique=False)
    assert target.tolist() == [[5, 3, 0], [1, 0, 10]]
    scatter_add(target, (np.array([1, 1]), np.array([1, 1])), 0.5, unique=True)  # one cell, written once
    assert target.tolist() == [[5, 3, 0], [1, 0.5, 10]]


class Fixed:
    """A generator whose uniform draws are given (the clamp at n_arms - 1 covers a draw rounding up to 1)."""

    def __init__(self, values: list[float]) -> None:
        self.values = np.array(values)

    def random(self, size: Any) -> Array:
        return self.values[:size]


def test_random_arms_replays_the_uniform_draws() -> None:
    draws = np.random.default_rng(7).random(8)
    arms = random_arms(np.random.default_rng(7), 5, 8)
    assert arms.dtype == np.int64 and arms.tolist() == [int(u * 5) for u in draws]
    fixed = cast(np.random.Generator, Fixed([0.0, 0.19999, 0.2, 0.5, 0.99, 1.0]))
    assert random_arms(fixed, 5, 6).tolist() == [0, 0, 1, 2, 4, 4]
    assert random_arms(cast(np.random.Generator, Fixed([0.0, 0.7, 1.0])), 1, 3).tolist() == [0, 0, 0]


def test_tie_noise_replays_the_uniform_draws() -> None:
    expected = np.random.default_rng(8).random((2, 3)) * 1e-9
    noise = tie_noise(np.random.default_rng(8), (2, 3))
    assert noise.shape == (2, 3) and np.array_equal(noise, expected) and (noise < 1e-9).all()


def replayed(scores: Array, seed: int) -> Array:
    noise = np.random.default_rng(seed).random(scores.shape)
    return np.where(np.isposinf(scores), BIG * (0.5 + 0.5 * noise), scores + noise * 1e-9)


def test_tie_broken_maps_infinities_above_every_finite_score() -> None:
    scores = np.array([[np.inf, 0.5, -np.inf, np.inf], [1.0, np.inf, 2.0, 1e300]])
    noise = np.random.default_rng(11).random(scores.shape)
    noisy = tie_broken(scores.copy(), np.random.default_rng(11))
    assert np.array_equal(noisy, replayed(scores, 11))
    assert noisy[0, 0] == BIG * (0.5 + 0.5 * noise[0, 0]) and noisy[1, 1] == BIG * (0.5 + 0.5 * noise[1, 1])
    assert noisy[0, 2] == -np.inf and noisy[0, 1] == 0.5 + noise[0, 1] * 1e-9
    assert np.isfinite(noisy[:, [0, 1, 3]]).all() and noisy[0, 0] >= BIG / 2
    assert np.array_equal(tie_broken(np.array([[np.inf]]), np.random.default_rng(11)), [[BIG * (0.5 + 0.5 * noise[0, 0])]])
    no_top = np.array([-np.inf, 3.0])
    assert np.array_equal(tie_broken(no_top, np.random.default_rng(12)), replayed(no_top, 12))


def test_argmax_random_follows_the_replayed_noise() -> None:
    scores = np.array([[1.0, 1.0, 1.0, 0.0], [np.inf, 5.0, np.inf, np.inf], [0.0, 2.0, 1.0, 2.0]])
    for seed in range(6):
        expected = np.argmax(replayed(scores, seed), axis=1)
        assert argmax_random(scores, np.random.default_rng(seed)).tolist() == expected.tolist()
        assert expected[0] != 3 and expected[1] != 1 and expected[2] in (1, 3)
    # the seeds pick different winners among the ties
    winners = {tuple(argmax_random(scores, np.random.default_rng(seed)).tolist()) for seed in range(6)}
    assert len(winners) > 1
    one_row = argmax_random(np.array([0.0, 0.0, 0.0]), np.random.default_rng(3))
    assert one_row == int(np.argmax(np.random.default_rng(3).random(3)))
    cube = np.zeros((2, 3, 4))
    assert argmax_random(cube, np.random.default_rng(3)).tolist() == np.argmax(
        np.random.default_rng(3).random((2, 3, 4)), axis=-1).tolist()


@pytest.mark.parametrize("k, K", [(1, 5), (3, 5), (5, 5), (16, 20), (17, 20), (20, 20)])
def test_top_k_is_the_replayed_order(k: int, K: int) -> None:
    rng = np.random.default_rng(K + k)
    scores = np.floor(rng.random((3, K)) * 3)  # many ties
    scores[0, :2] = np.inf
    scores[1, -3:] = np.inf
    for seed in range(3):
        expected = np.argsort(-replayed(scores, seed), axis=1, kind="stable")[:, :k]
        got = top_k(scores, k, np.random.default_rng(seed))
        assert got.dtype == np.int64 and got.shape == (3, k) and got.tolist() == expected.tolist()
        assert all(len(set(row)) == k for row in got.tolist())
    assert top_k(scores, k, np.random.default_rng(0))[1, :min(k, 3)].tolist() == [
        int(i) for i in np.argsort(-replayed(scores, 0)[1, -3:])[:min(k, 3)] + K - 3]


def test_top_k_leaves_the_scores_alone() -> None:
    scores = np.array([[0.5, np.inf, 0.25]])
    assert top_k(scores, 2, np.random.default_rng(0)).tolist() == [[1, 0]]
    assert scores.tolist() == [[0.5, np.inf, 0.25]]


# --- Bernoulli KL ----------------------------------------------------------------------------------------------


def kl_by_hand(p: float, q: float, eps: float = 1e-12) -> float:
    p, q = min(max(p, eps), 1 - eps), min(max(q, eps), 1 - eps)
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def test_kl_bernoulli() -> None:
    assert kl_bernoulli(np.array(0.5), np.array(0.25)) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3),
                                                                         rel=1e-14)
    assert kl_bernoulli(np.array(0.3), np.array(0.3)) == 0.0
    p = np.array([0.0, 1.0, 0.5, 0.5, 0.9, 0.0])
    q = np.array([0.5, 0.5, 0.0, 1.0, 0.2, 0.0])
    got = kl_bernoulli(p, q)
    assert got.tolist() == pytest.approx([kl_by_hand(a, b) for a, b in zip(p, q)], rel=1e-13)
    assert got[0] == pytest.approx(math.log(2), rel=1e-10) and got[2] == pytest.approx(
        0.5 * math.log(0.5 / 1e-12) + 0.5 * math.log(0.5 / (1 - 1e-12)), rel=1e-13)
    assert abs(got[5]) < 1e-20


def kl_upper_by_hand(mean: float, budget: float, halvings: int = 6, newton: int = 2) -> float:
    """kl_upper_bound's recipe for one entry: clip, bracket [p, p + sqrt(budget / 2)], halve, Newton from above."""
    eps = 1e-9
    p = min(max(mean, eps), 1 - eps)
    entropy = p * math.log(p) + (1 - p) * math.log(1 - p)

    def f(q: float) -> float:
        return entropy - p * math.log(q) - (1 - p) * math.log(1 - q) - budget

    low, high = p, min(max(p + math.sqrt(budget / 2), p), 1 - eps)
    for _ in range(halvings):
        mid = (low + high) / 2
        if f(mid) > 0:
            high = mid
        else:
            low = mid
    q = high
    for _ in range(newton):
        slope = (q - p) / (q * (1 - q))
        q = min(max(q - f(q) / max(slope, eps), low), high)
    return q


def exact_root(mean: float, budget: float) -> float:
    """The largest q >= mean with kl(mean, q) <= budget, by 200 halvings."""
    low, high = mean, 1.0
    for _ in range(200):
        mid = (low + high) / 2
        if kl_by_hand(mean, mid, 1e-300) > budget:
            high = mid
        else:
            low = mid
    return low


MEANS = [0.0, 0.1, 0.3, 0.5, 0.75, 0.9, 0.999, 1.0]
BUDGETS = [0.0, 1e-4, 0.01, 0.05, 0.2, 0.5, math.log(2), 3.0]


def test_kl_upper_bound_follows_its_recipe() -> None:
    means, budgets = (np.array(v) for v in zip(*[(m, b) for m in MEANS for b in BUDGETS]))
    got = kl_upper_bound(means, budgets)
    expected = [kl_upper_by_hand(m, b) for m, b in zip(means, budgets)]
    assert got.tolist() == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert not np.isnan(got).any() and (got >= np.clip(means, 1e-9, 1 - 1e-9)).all() and (got <= 1 - 1e-9).all()
    more = kl_upper_bound(means, budgets, halvings=9, newton=1)
    assert more.tolist() == pytest.approx([kl_upper_by_hand(m, b, 9, 1) for m, b in zip(means, budgets)], rel=1e-12,
                                          abs=1e-15)


def test_kl_upper_bound_is_near_the_exact_bound() -> None:
    for mean in (0.1, 0.3, 0.5, 0.75, 0.9):
        for budget in (1e-4, 0.01, 0.05, 0.2):
            assert abs(float(kl_upper_bound(np.array([mean]), np.array([budget]))[0]) - exact_root(mean, budget)) < 1e-3
    assert kl_upper_bound(np.array([1.0]), np.array([0.5]))[0] == 1 - 1e-9
    assert kl_upper_bound(np.array([0.4]), np.array([0.0]))[0] == pytest.approx(0.4, abs=1e-15)



def test_layers_keep_each_repetitions_arrival_order_in_long_feedback() -> None:
    reps = np.random.default_rng(0).integers(0, 3, 60).tolist()  # long enough for an unstable sort to reorder
    seen: dict[int, int] = {}
    expected: list[list[int]] = []
    for row, rep in sorted(enumerate(reps), key=lambda pair: (pair[1], pair[0])):
        layer = seen.get(rep, 0)
        seen[rep] = layer + 1
        if layer == len(expected):
            expected.append([])
        expected[layer].append(row)
    assert layers(reps) == expected and len(expected) == max(seen.values())


@dataclass(frozen=True)
class Contextual(Policy[State]):
    def select(self, state: State, context: Array | None) -> Array:
        assert context is not None
        best: Array = np.argmax(context, axis=1)
        return best


def test_exploit_hands_select_the_context() -> None:
    state = State(np.random.default_rng(0), 2, 3)
    assert Contextual().exploit(state, np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 1.0]])).tolist() == [1, 0]


def test_top_k_of_a_long_row_is_its_sorted_head() -> None:
    scores = np.random.default_rng(80).random((1, 1000))
    expected = np.argsort(-replayed(scores, 0), axis=1)[:, :150]
    assert top_k(scores, 150, np.random.default_rng(0)).tolist() == expected.tolist()


def test_kl_upper_bound_keeps_the_lower_half_when_the_midpoint_is_the_root() -> None:
    # the bracket [0.9, 1 - 1e-9] is clipped, so its midpoint does not depend on the budget; with the budget set
    # to kl(0.9, midpoint) as the function computes it, f(midpoint) is exactly 0: not above the root, so the
    # bracket's lower end moves up to the midpoint and a single halving leaves the upper end where it was
    p = np.float64(0.9)
    mid = (p + np.float64(1 - 1e-9)) / 2
    entropy = p * np.log(p) + (1 - p) * np.log(1 - p)
    budget = entropy - p * np.log(mid) - (1 - p) * np.log(1 - mid)
    assert kl_upper_bound(np.array([0.9]), np.array([budget]), halvings=1, newton=0)[0] == 1 - 1e-9
    assert abs(kl_upper_bound(np.array([0.9]), np.array([budget]))[0] - mid) < 1e-6

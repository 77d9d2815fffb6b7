"""The pseudoinverse estimator of slate policies computed by hand on tiny slate spaces: the slot-item indicators, the
pseudoinverse weight q^T Gamma^+ 1_s of two and three items, the closed forms for slots filled independently and for
uniformly random slates without replacement (with and without items left over), the cross marginals of a
deterministic slate; and the scorer of final policies' slates on a four-slate log (two learned on, two held out),
cut into chunks in two ways, with the block bootstrap's multiplicities given, so that every value, interval, gain,
effective sample size and share of unsupported slates is a hand-computed number.

Uniform slates of m = 3 items in L = 2 slots: w = 1 + (m - 1)(D - Q / L) + (m - 1)(m Q - L^2) / (L (m - L))
= 2 D + 2 Q - 3 for a deterministic target, D its items in their logged slot, Q its items anywhere in the slate."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import numpy as np
import pytest
from stubs import close

from banditmap.ope import slates
from banditmap.ope.estimators import Z95, Estimate, Resampler
from banditmap.ope.logs import Chunk
from banditmap.ope.slatelogs import SlateFacts
from banditmap.ope.slates import (
    Scorer,
    SlatePolicy,
    deterministic,
    independent_weights,
    indicators,
    item_scores,
    pseudoinverse_weights,
    standing,
    uniform_weights,
    weights,
)
from banditmap.sim.policies.mab import UniformRandom

Array = np.ndarray


# --- the estimator ----------------------------------------------------------------------------------------------

def test_indicators_mark_each_slot_and_its_item() -> None:
    out = indicators(np.array([[0, 2], [1, 0], [2, 2]]), 3)
    assert out.shape == (3, 6)
    assert out.tolist() == [[1, 0, 0, 0, 0, 1], [0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 0, 1]]


def test_one_slot_pseudoinverse_is_ips() -> None:
    """One slot, two items logged with 1/4 and 3/4: Gamma = diag(1/4, 3/4), so w = q_a / mu_a."""
    support, probabilities = np.array([[0], [1]]), np.array([0.25, 0.75])
    close(pseudoinverse_weights(support, probabilities, np.array([[1.0, 0.0]]), support, 2), [4.0, 0.0])
    close(pseudoinverse_weights(support, probabilities, np.array([[0.5, 0.5]]), np.array([[1], [1], [0]]), 2),
          [2 / 3, 2 / 3, 2.0])


def test_two_items_in_two_slots_without_replacement() -> None:
    """Slates (0, 1) and (1, 0), each with probability 1/2: their indicators v1, v2 are orthogonal with |v|^2 = 2,
    Gamma = (v1 v1' + v2 v2') / 2 = its own pseudoinverse, so the target (0, 1) has weights v1' Gamma v1 = 2 and
    v2' Gamma v1 = 0; the uniform closed form with m = L = 2 (w = 1 + D - Q / 2) agrees."""
    support = np.array([[0, 1], [1, 0]])
    target = np.array([[1.0, 0.0], [0.0, 1.0]])
    close(pseudoinverse_weights(support, np.array([0.5, 0.5]), target, support, 2), [2.0, 0.0])
    close(uniform_weights(deterministic(np.array([[0, 1], [0, 1]]), support), 2), [2.0, 0.0])


UNIFORM3 = np.array([[0, 1], [1, 0], [0, 2], [2, 0], [1, 2], [2, 1]])  # every slate of 2 distinct items of 3
UNIFORM3_WEIGHTS = [5.0, 1.0, 1.0, -1.0, -1.0, 1.0]  # 2 D + 2 Q - 3 for the target (0, 1)


def test_the_uniform_closed_form_of_three_items_in_two_slots_by_hand() -> None:
    cross = deterministic(np.tile([0, 1], (6, 1)), UNIFORM3)
    close(cross.diagonal(axis1=1, axis2=2).sum(axis=1), [2, 0, 1, 0, 0, 1])  # D
    close(cross.sum(axis=(1, 2)), [2, 2, 1, 1, 1, 1])  # Q
    close(uniform_weights(cross, 3), UNIFORM3_WEIGHTS)
    close(pseudoinverse_weights(UNIFORM3, np.full(6, 1 / 6), np.array([[1.0, 0, 0], [0, 1.0, 0]]), UNIFORM3, 3),
          UNIFORM3_WEIGHTS)
    close(weights("uniform", cross, np.full((6, 2), 99.0), 3), UNIFORM3_WEIGHTS)  # propensities unread


def test_the_uniform_closed_form_of_one_slot() -> None:
    """L = 1 of m = 3: w = 1 + 2 (D - Q) + 2 (3 Q - 1) / 2 = 3 D (Q = D in one slot): plain IPS at mu = 1/3."""
    cross = np.array([[[1.0]], [[0.0]], [[0.5]]])
    close(uniform_weights(cross, 3), [3.0, 0.0, 1.5])


def test_the_logging_policys_own_uniform_weight_is_one() -> None:
    for items, slots in ((3, 2), (4, 3), (3, 3), (5, 1)):
        cross = np.full((2, slots, slots), 1 / items)
        close(uniform_weights(cross, items), [1.0, 1.0])


def test_the_independent_closed_form_by_hand() -> None:
    """Two slots filled independently, slot 1 with (1/2, 1/2), slot 2 with (1/4, 3/4); the target (0, 0):
    w = 1[s_1 = 0] / (1/2) + 1[s_2 = 0] / (1/4) - 1 on the slates (0, 0), (0, 1), (1, 0), (1, 1)."""
    support = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    mu = np.array([[0.5, 0.25], [0.5, 0.75], [0.5, 0.25], [0.5, 0.75]])  # each logged item's propensity per slot
    matched = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    close(independent_weights(matched, mu), [5.0, 1.0, 3.0, -1.0])
    close(pseudoinverse_weights(support, mu.prod(axis=1), np.array([[1.0, 0.0], [1.0, 0.0]]), support, 2),
          [5.0, 1.0, 3.0, -1.0])
    cross = deterministic(np.zeros((4, 2), dtype=np.int64), support)
    close(weights("independent", cross, mu, 2), [5.0, 1.0, 3.0, -1.0])


def test_the_independent_form_reads_only_the_diagonal_of_the_cross_marginals() -> None:
    """Three slots: q(j, s_j) on the diagonal; off-diagonal entries (the target's item of slot j logged in slot k)
    do not count. w = 0.5 / 0.5 + 0 / 0.25 + 1 / 0.5 - 3 + 1 = 1."""
    cross = np.array([[[0.5, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]])
    close(weights("independent", cross, np.array([[0.5, 0.25, 0.5]]), 3), [1.0])
    close(independent_weights(np.array([[0.5, 0.0, 1.0]]), np.array([[0.5, 0.25, 0.5]])), [1.0])


def test_deterministic_cross_marginals() -> None:
    cross = deterministic(np.array([[2, 0]]), np.array([[0, 2]]))
    assert cross.dtype == np.float64
    assert cross.tolist() == [[[0.0, 1.0], [1.0, 0.0]]]  # its slot 1 holds the item logged in slot 2, and back


def test_standing_against_the_logging_policy() -> None:
    def policy(low: float, value: float, high: float) -> SlatePolicy:
        return SlatePolicy("p", "p", Estimate(value, low, high), Estimate(value, low, high), 1.0, 0.0)
    assert standing(policy(0.1, 0.2, 0.3)) == "better"
    assert standing(policy(-0.3, -0.2, -0.1)) == "worse"
    assert standing(policy(0.0, 0.2, 0.3)) == "cannot tell"
    assert standing(policy(-0.3, -0.2, 0.0)) == "cannot tell"
    assert standing(policy(-0.1, 0.0, 0.1)) == "cannot tell"
    assert standing(policy(float("nan"), 0.2, float("nan"))) == ""
    assert standing(policy(0.1, float("nan"), 0.3)) == ""
    assert standing(policy(float("-inf"), 0.2, 0.3)) == ""


# --- a learner's estimate of every item -------------------------------------------------------------------------

@dataclass
class FakePolicy:
    """Answers statistics() with fixed means, bounds() with fixed (or context-made) bounds, or neither."""

    means: Array | None = None
    low: Array | None = None
    high: Array | None = None
    by_context: Array | None = None  # bounds are both contexts @ by_context
    given: list[Any] = field(default_factory=list)

    def statistics(self, view: Any) -> Any:
        if self.means is None:
            raise NotImplementedError
        return SimpleNamespace(means=np.tile(self.means, (view.m, 1)))

    def bounds(self, view: Any, context: Any) -> tuple[Any, Any]:
        self.given.append(context)
        if self.by_context is not None:
            return context @ self.by_context, context @ self.by_context
        if self.low is None or self.high is None:
            raise NotImplementedError
        return np.tile(self.low, (view.m, 1)), np.tile(self.high, (view.m, 1))


@dataclass
class FakeLearner:
    policy: Any
    id: str
    contextual: bool = False
    theta: Array | None = None
    views: list[tuple[int, int]] = field(default_factory=list)

    @property
    def candidate(self) -> Any:
        return SimpleNamespace(id=self.id, name=f"name of {self.id}")

    def view(self, m: int, first: int) -> Any:
        self.views.append((m, first))
        return SimpleNamespace(m=m, theta=self.theta)


def test_item_scores_from_a_learners_means() -> None:
    learner = FakeLearner(FakePolicy(means=np.array([1, 3, 2])), "a")
    out = item_scores(cast(Any, learner), np.zeros((2, 1)), 7)
    assert out is not None and out.dtype == np.float64 and out.tolist() == [[1.0, 3.0, 2.0]] * 2
    assert learner.views == [(2, 7)]


def test_item_scores_from_the_middle_of_finite_bounds() -> None:
    policy = FakePolicy(low=np.array([0.0, -np.inf, 1.0, 2.0]), high=np.array([1.0, np.inf, np.inf, 4.0]))
    out = item_scores(cast(Any, FakeLearner(policy, "b")), np.ones((1, 2)), 0)
    assert out is not None and out.tolist() == [[0.5, -np.inf, -np.inf, 3.0]]
    assert policy.given == [None]  # a learner of arms gets no context


def test_item_scores_of_a_contextual_learner_get_the_contexts() -> None:
    policy = FakePolicy(by_context=np.array([[1.0, 0.0], [0.0, 2.0]]))
    contexts = np.array([[1.0, 1.0], [3.0, 0.5]])
    out = item_scores(cast(Any, FakeLearner(policy, "c", contextual=True)), contexts, 0)
    assert out is not None and out.tolist() == [[1.0, 2.0], [3.0, 1.0]]
    assert policy.given[0] is contexts


def test_item_scores_from_a_ridge_regressions_coefficients() -> None:
    theta = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 0.0], [0.0, -1.0]]])  # (rows, K, d)
    learner = FakeLearner(FakePolicy(), "d", contextual=True, theta=theta)
    out = item_scores(cast(Any, learner), np.array([[2.0, 3.0], [1.0, 5.0]]), 0)
    assert out is not None
    close(out, [[2.0, 3.0, 5.0], [2.0, 0.0, -5.0]])


def test_no_item_scores_without_means_bounds_or_a_contextual_regression() -> None:
    theta = np.ones((1, 2, 2))
    assert item_scores(cast(Any, FakeLearner(FakePolicy(), "e", contextual=False, theta=theta)), np.ones((1, 2)),
                       0) is None  # coefficients of a learner of arms are not read
    assert item_scores(cast(Any, FakeLearner(FakePolicy(), "f", contextual=True, theta=np.ones((2, 2)))),
                       np.ones((1, 2)), 0) is None  # not (rows, K, d)
    assert item_scores(cast(Any, FakeLearner(FakePolicy(), "g", contextual=True)), np.ones((1, 2)), 0) is None


# --- scoring final policies' slates -----------------------------------------------------------------------------
# Eight rows, four slates of L = 2 slots over m = 3 items drawn uniformly (propensity 1/3); the first four rows are
# learned on (split 4), slates 2 and 3 are held out. Slate 2's rows are out of position order: row 4 is its slot 2
# (item 0, no click), row 5 its slot 1 (item 2, a click): logged slate (2, 0), reward 1. Slate 3 is (0, 1), reward 2.
# Row i's context is (1, i); a slate's context is that of its slot-1 row (5 and 6). Blocks: row // 2 (4 blocks of 8
# rows), so the held-out slates are blocks 2 and 3.
ACTIONS = np.array([0, 1, 1, 2, 0, 2, 0, 1])
REWARDS = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
POSITIONS = np.array([0, 1, 0, 1, 1, 0, 0, 1])
SLATES = np.array([0, 0, 1, 1, 2, 2, 3, 3])
CONTEXTS = np.column_stack([np.ones(8), np.arange(8.0)])
# Replicate 0 takes each held-out slate once, replicate 1 slate 2 twice.
COUNTS = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 0.0]])
# "ctx" scores item 0 at 10 - 1.5 t, item 1 at -20 + 4 t, item 2 at 3 (t the context's second entry): its slate is
# (2, 0) at t = 5 (the logged slate: D = Q = 2, w = 5) and (1, 2) at t = 6 (D = 0, Q = 1: w = -1); at t = 4 (slate
# 2's other row) it would be (0, 2). "fixed" always shows (0, 1): w = -1 on slate 2 (D = 0, Q = 1), 5 on slate 3.
BY_CONTEXT = np.array([[10.0, -20.0, 3.0], [-1.5, 4.0, 0.0]])


def chunk(start: int, stop: int, propensity: float = 1 / 3) -> Chunk:
    part = slice(start, stop)
    return Chunk(start, ACTIONS[part], REWARDS[part], np.full(stop - start, propensity), CONTEXTS[part],
                 POSITIONS[part], SLATES[part])


@dataclass(frozen=True)
class Result:
    results: tuple[Any, ...]
    slates: Any = None


class Boot:
    """Resampler.make's stand-in: the replicates' block multiplicities are COUNTS."""

    made: ClassVar[list[tuple[int, int]]] = []

    @classmethod
    def make(cls, blocks: int, seed: int) -> Resampler:
        cls.made.append((blocks, seed))
        return Resampler(COUNTS)


def learners() -> list[FakeLearner]:
    return [FakeLearner(FakePolicy(), "blind"),  # keeps nothing to rank by
            FakeLearner(FakePolicy(means=np.array([0.9, 0.5, 0.1])), "fixed"),
            FakeLearner(UniformRandom(), "uniform"),  # scored as "uniform random" whatever its id
            FakeLearner(FakePolicy(by_context=BY_CONTEXT), "ctx", contextual=True),
            FakeLearner(FakePolicy(means=np.array([0.0, 1.0, 2.0])), "unrated")]  # not evaluable


def scorer(binary: bool = False, form: str = "uniform", repeats: bool = False, counts: tuple[int, ...] = (3, 3, 2),
           estimated: bool = False, items: int = 3, crew: list[FakeLearner] | None = None, split: int = 4) -> Scorer:
    info = SimpleNamespace(slate=SlateFacts(size=2, slates=4, repeats=repeats, form=form, items=items),
                           n_actions=3, counts=counts, rows=8, estimated=estimated, binary=binary)
    replay = SimpleNamespace(info=info, learners=learners() if crew is None else crew, blocks=4, split=split,
                             seed=5)
    return Scorer(cast(Any, replay))


RESULT = Result(tuple(SimpleNamespace(id=key, evaluable=key != "unrated")
                      for key in ("blind", "fixed", "ctx", "unrated", "uniform")))


def finished(score: Scorer, monkeypatch: pytest.MonkeyPatch) -> Any:
    Boot.made = []
    monkeypatch.setattr(slates, "Resampler", Boot)
    out = score.finish(cast(Any, RESULT)).slates
    assert Boot.made == [(4, 5)]
    return out


def bounds(e: Estimate) -> list[float]:
    return [e.value, e.low, e.high]


def pct(a: float, b: float) -> list[float]:
    low, high = min(a, b), max(a, b)
    return [low + 0.025 * (high - low), low + 0.975 * (high - low)]


def wilson(p: float, n: float) -> tuple[float, float]:
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


def test_the_scorer_keeps_the_learners_that_rank_and_the_uniform_baseline() -> None:
    score = scorer()
    assert score.items == 3 and score.keys == ["blind", "fixed", "ctx", "unrated", "uniform random"]
    assert score.supported.tolist() == [True, True, True]
    assert scorer(items=0).items == 3  # no uniform item count: the log's actions
    assert scorer(counts=(2, 0, 1)).supported.tolist() == [True, False, True]


def check_plain(out: Any, fixed: FakeLearner) -> None:
    assert out.size == 2 and out.items == 3 and out.slates == 2 and out.form == "uniform" and out.problem == ""
    # the logging policy: rewards 1 and 2 per slate, replicates 3 / 2 and 2 / 2
    close(bounds(out.logging), [1.5, *pct(1.5, 1.0)])
    assert [p.id for p in out.policies] == ["blind", "fixed", "ctx", "uniform random"]
    blind, fixed_policy, ctx, uniform = out.policies
    assert blind.name == "name of blind" and blind.ess == blind.unsupported == 0
    assert blind.problem == ("its estimate of every item cannot be read (it keeps no per-item means, bounds or "
                             "regression), so it cannot rank")
    assert not blind.value.known and not blind.gain.known
    # fixed: PI sum -1 x 1 + 5 x 2 = 9 over 2 slates; replicate 1: -1 x 1 x 2 / 2; gain replicates 3 and -2
    assert fixed_policy.name == "name of fixed" and fixed_policy.problem == ""
    close(bounds(fixed_policy.value), [4.5, *pct(4.5, -1.0)])
    close(bounds(fixed_policy.gain), [3.0, *pct(3.0, -2.0)])
    close([fixed_policy.ess, fixed_policy.unsupported], [16 / 26, 0.0])
    # ctx: 5 x 1 - 1 x 2 = 3 over 2; replicate 1: 5 x 2 / 2; gain replicates 0 and 4
    close(bounds(ctx.value), [1.5, *pct(1.5, 5.0)])
    close(bounds(ctx.gain), [0.0, *pct(0.0, 4.0)])
    close([ctx.ess, ctx.unsupported], [16 / 26, 0.0])
    # uniform random: weight 1 on every slate, so its value is the logging policy's and its gain exactly 0
    assert uniform.name == "uniform random"
    close(bounds(uniform.value), [1.5, *pct(1.5, 1.0)])
    close(bounds(uniform.gain), [0.0, 0.0, 0.0])
    close([uniform.ess, uniform.unsupported], [2.0, 0.0])
    assert out.warnings == () and "linearity" in out.assumption
    assert fixed.views[0][1] == 5  # the first held-out slate's slot-1 row


def test_a_whole_log_in_one_chunk_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    crew = learners()
    score = scorer(crew=crew)
    score.add(chunk(0, 8), last=True)
    assert crew[1].views == [(2, 5)] and crew[3].views == [(2, 5)]
    check_plain(finished(score, monkeypatch), crew[1])


def test_slates_cut_by_chunks_are_scored_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    crew = learners()
    score = scorer(crew=crew)
    score.add(chunk(0, 0), last=False)  # an empty chunk changes nothing
    score.add(chunk(0, 6), last=False)  # slate 2 may go on: carried
    assert score.carry is not None and score.carry.start == 4 and len(score.carry) == 2
    assert score.sums.total("slates") == 0
    score.add(chunk(6, 7), last=False)  # slate 2 is whole now; slate 3 is carried
    assert score.carry is not None and score.carry.start == 6 and score.sums.total("slates") == 1
    score.add(chunk(7, 8), last=True)
    assert score.carry is None
    assert crew[1].views == [(1, 5), (1, 6)]
    check_plain(finished(score, monkeypatch), crew[1])


def test_a_long_run_of_slates_is_ranked_in_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slates, "STEP", 1)
    crew = learners()
    score = scorer(crew=crew)
    score.add(chunk(0, 8), last=True)
    assert crew[1].views == [(1, 5), (1, 6)] and crew[3].views == [(1, 5), (1, 6)]
    check_plain(finished(score, monkeypatch), crew[1])


def test_the_split_row_itself_starts_a_held_out_slate() -> None:
    score = scorer()
    score.add(chunk(0, 4), last=False)  # slates 0 and 1: slate 1 carried
    score.add(chunk(4, 6), last=False)  # slate 1 (rows 2, 3) is learned on; slate 2 carried
    assert score.sums.total("slates") == 0
    score.add(chunk(6, 8), last=True)  # slate 2 starts at row 4 = split: held out
    assert score.sums.total("slates") == 2


def test_clicks_widen_and_bound_the_slate_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    score = scorer(binary=True)
    score.add(chunk(0, 8), last=True)
    out = finished(score, monkeypatch)
    # clicks: 3 of 2 slates x 2 slots; the logging policy's interval is at least twice Wilson's
    cl, ch = wilson(0.75, 4.0)
    close(bounds(out.logging), [1.5, 2 * cl, 2 * ch])
    blind, fixed, ctx, uniform = out.policies
    assert not blind.value.known
    # fixed: value 4.5 per slate -> a rate 1 per slot at 2 x 16/26 effective slots; the interval is cut to [0, 2]
    close(bounds(fixed.value), [4.5, 0.0, 2.0])
    rl, rh = wilson(1.0, 32 / 26)
    assert rh == 1.0
    h_low, h_high = math.hypot(1.0 - rl, ch - 0.75), math.hypot(0.0, 0.75 - cl)
    close(bounds(fixed.gain), [3.0, min(pct(3.0, -2.0)[0], 2 * (0.25 - h_low)),
                               max(pct(3.0, -2.0)[1], 2 * (0.25 + h_high))])
    # ctx: 1.5 per slate -> 0.75 per slot at 32/26 effective slots
    rl, rh = wilson(0.75, 32 / 26)
    close(bounds(ctx.value), [1.5, 2 * rl, 2.0])
    close(bounds(ctx.gain), [0.0, min(pct(0.0, 4.0)[0], -2 * math.hypot(0.75 - rl, ch - 0.75)),
                             max(pct(0.0, 4.0)[1], 2 * math.hypot(rh - 0.75, 0.75 - cl))])
    # uniform random: its rate is the clicks' own, at 2 x 2 effective slots
    close(bounds(uniform.value), [1.5, 2 * cl, 2 * ch])
    h = math.hypot(0.75 - cl, ch - 0.75)
    close(bounds(uniform.gain), [0.0, -2 * h, 2 * h])


def test_unsupported_items_and_independent_slots_are_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 0 is never logged (counts 0): fixed's slates (0, 1) all hold it, ctx's (2, 0) and (1, 2) half of them.
    Slots filled independently, with no slate repeating an item: the closed form may be biased."""
    score = scorer(form="independent", counts=(0, 3, 3))
    score.add(chunk(0, 8), last=True)
    out = finished(score, monkeypatch)
    _, fixed, ctx, uniform = out.policies
    assert [fixed.unsupported, ctx.unsupported, uniform.unsupported] == [1.0, 0.5, 0.0]
    assert len(out.warnings) == 3 and out.warnings[0] == (
        "no slate repeats an item, yet PI's closed form here assumes each slot's item was drawn independently of the "
        "others (per-slot propensities): if the logging policy drew a ranking without replacement, PI needs the "
        "whole slate distribution, which the log does not hold, and the slate estimates may be biased")
    assert out.warnings[1] == ("name of fixed: 100.0% of its slates hold items the log never shows; their rewards "
                               "are invisible to PI")
    assert out.warnings[2].startswith("name of ctx: 50.0% of its slates")
    # independent slots at mu = 1/3: w = 3 (slot matches) - 1; fixed: (2, 0) matches none: -1, (0, 1) both: 5
    close(bounds(fixed.value), [4.5, *pct(4.5, -1.0)])
    # ctx: (2, 0) matches both on slate 2: 5; (1, 2) on slate 3 (0, 1) none: -1
    close(ctx.value.value, 1.5)
    # uniform random: q = 1/3 per slot: w = 2 x (1/3) / (1/3) - 1 = 1
    close(uniform.value.value, 1.5)


def test_a_log_that_repeats_items_is_not_warned_about_independent_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    score = scorer(form="independent", repeats=True)
    score.add(chunk(0, 8), last=True)
    assert finished(score, monkeypatch).warnings == ()


def test_estimated_propensities_leave_slates_unscored(monkeypatch: pytest.MonkeyPatch) -> None:
    score = scorer(estimated=True)
    score.add(chunk(0, 8), last=True)
    out = score.finish(cast(Any, RESULT)).slates
    assert out is not None
    assert (out.size, out.items, out.slates, out.form, out.policies, out.warnings) == (2, 3, 0, "uniform", (), ())
    assert not out.logging.known and out.problem == (
        "the propensities are estimated by a model of one action per row, not each slot's own logging probability, "
        "so PI would weigh slates by the wrong numbers")


def test_an_unreadable_learner_is_skipped_in_later_chunks_and_the_next_still_scored(
        monkeypatch: pytest.MonkeyPatch) -> None:
    crew = learners()
    score = scorer(crew=crew)
    score.add(chunk(0, 6), last=False)
    score.add(chunk(6, 7), last=False)
    score.add(chunk(7, 8), last=True)
    assert crew[0].views == [(1, 5)]  # asked once, then known to be unreadable
    assert score.sums.total("fixed:w") == 4.0 and score.sums.total("ctx:w") == 4.0
    assert score.sums.total("blind:w") == 0.0


def test_a_slate_is_the_best_items_first_unknown_estimates_last_ties_in_item_order() -> None:
    score = scorer()
    learner = FakeLearner(FakePolicy(means=np.array([np.nan, -np.inf, 1.0])), "n")
    chosen = score._slates(cast(Any, learner), np.ones((2, 2)), 3)
    # nan_to_num makes nan -inf and -inf the lowest finite number: an unknown estimate ranks below every other
    assert chosen is not None and chosen.tolist() == [[2, 1], [2, 1]]
    tied = FakeLearner(FakePolicy(means=np.array([0.0, 0.5, 0.5])), "t")
    chosen = score._slates(cast(Any, tied), np.ones((1, 2)), 0)
    assert chosen is not None and chosen.tolist() == [[1, 2]] and chosen.dtype == np.int64


def test_infinite_bounds_make_no_warning() -> None:
    policy = FakePolicy(low=np.array([-np.inf, 0.0]), high=np.array([np.inf, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = item_scores(cast(Any, FakeLearner(policy, "w")), np.ones((1, 1)), 0)
    assert out is not None and out.tolist() == [[-np.inf, 0.5]]


def test_joined_chunks_keep_their_rows_in_order() -> None:
    joined = slates._joined(chunk(2, 5), chunk(5, 8))
    assert joined.start == 2 and joined.actions.tolist() == ACTIONS[2:].tolist()
    assert joined.rewards.tolist() == REWARDS[2:].tolist() and joined.contexts.tolist() == CONTEXTS[2:].tolist()
    assert joined.propensities.tolist() == [1 / 3] * 6
    assert joined.positions is not None and joined.positions.tolist() == POSITIONS[2:].tolist()
    assert joined.slates is not None and joined.slates.tolist() == SLATES[2:].tolist()
    flat = Chunk(5, ACTIONS[5:], REWARDS[5:], REWARDS[5:], CONTEXTS[5:])
    half = slates._joined(chunk(2, 5), flat)
    assert half.positions is None and half.slates is None
    assert slates._joined(flat, chunk(2, 5)).positions is None


def test_a_single_held_out_slate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split at row 6: slate 3 (0, 1) alone, reward 2, in block 3. Item 0 is never logged: fixed's one slate holds
    it (a share of 1 of 1 slate); ctx shows (1, 2) there."""
    score = scorer(counts=(0, 3, 3), split=6)
    score.add(chunk(0, 8), last=True)
    out = finished(score, monkeypatch)
    assert out.slates == 1
    close(bounds(out.logging), [2.0, 2.0, 2.0])  # replicate 1 holds no held-out slate: 0 / 0, left out
    _, fixed, ctx, uniform = out.policies
    assert [fixed.unsupported, ctx.unsupported, uniform.unsupported] == [1.0, 0.0, 0.0]
    close([fixed.value.value, ctx.value.value, uniform.value.value], [10.0, -2.0, 2.0])


def test_ties_among_many_items_keep_the_item_order() -> None:
    """Twenty items with tied estimates: the two best are the lowest-numbered of the best, as a stable sort gives
    (a quicksort of twenty would take items 0 and 14 here)."""
    means = np.array([2, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 1, 2, 2, 1, 1, 1, 2], dtype=float)
    chosen = scorer()._slates(cast(Any, FakeLearner(FakePolicy(means=means), "m")), np.ones((1, 1)), 0)
    assert chosen is not None and chosen.tolist() == [[0, 9]]


def test_a_learner_whose_state_has_no_coefficients_has_no_scores() -> None:
    class Bare(FakeLearner):
        def view(self, m: int, first: int) -> Any:
            return SimpleNamespace(m=m)  # no theta at all

    assert item_scores(cast(Any, Bare(FakePolicy(), "bare", contextual=True)), np.ones((1, 2)), 0) is None


def test_a_held_out_slate_starts_at_its_first_row_after_the_split() -> None:
    """Split at row 5, inside slate 2 (rows 4, 5): slate 2 started before it and is not held out; slate 3 is."""
    score = scorer(split=5)
    score.add(chunk(0, 8), last=True)
    assert score.sums.total("slates") == 1 and score.sums.total("reward") == 2.0


def test_a_chunk_holding_part_of_one_slate_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    score = scorer()
    score.add(chunk(4, 5), last=False)  # half of slate 2, already held out: nothing to score yet
    assert score.sums.total("slates") == 0 and score.carry is not None and score.carry.start == 4
    score.add(chunk(5, 8), last=True)
    assert score.sums.total("slates") == 2
    close(finished(score, monkeypatch).policies[1].value.value, 4.5)


def test_an_empty_chunk_scores_nothing_even_when_every_row_is_held_out() -> None:
    score = scorer(split=0)
    score.add(chunk(0, 0), last=False)
    assert score.carry is None and score.sums.total("slates") == 0
    score.add(chunk(0, 8), last=True)
    assert score.sums.total("slates") == 4


def test_a_chunk_without_slates_or_positions_is_refused() -> None:
    score = scorer(split=100)
    bare = Chunk(0, ACTIONS[:2], REWARDS[:2], np.full(2, 1 / 3), CONTEXTS[:2], POSITIONS[:2], None)
    with pytest.raises(AssertionError):
        score.add(bare, last=True)
    flat = Chunk(0, ACTIONS[:2], REWARDS[:2], np.full(2, 1 / 3), CONTEXTS[:2], None, SLATES[:2])
    with pytest.raises(AssertionError):
        score.add(flat, last=True)
    with pytest.raises(AssertionError):
        score._score(flat, 0, 2)
    with pytest.raises(AssertionError):
        score._score(bare, 0, 2)


def test_uniform_slates_are_weighed_by_their_closed_form_not_the_rounded_propensities(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A uniform log whose propensity column is rounded (0.333 for 1/3): the uniform closed form reads only the
    item count, so the weights are exactly those of 1/3 (independent slots would give 2 x (1/3) / 0.333 - 1)."""
    score = scorer()
    score.add(chunk(0, 8, propensity=0.333), last=True)
    out = finished(score, monkeypatch)
    _, fixed, ctx, uniform = out.policies
    close([fixed.value.value, ctx.value.value, uniform.value.value], [4.5, 1.5, 1.5])
    close([score.sums.total("uniform random:w"), score.sums.total("fixed:w")], [2.0, 4.0])

"""The page-combination policies of banditmap.sim.policies.combination checked by hand: the Chebyshev erfc against
math.erfc, the probit moment terms v(t) = phi(t) / Phi(t) and w(t) = v(t) (v(t) + t), the closed-form posterior
update of the Bayesian probit model (Graepel et al. 2010), the exhaustive page scoring of small page spaces and
the coordinate-ascent hill climbs of large ones (Hill et al. 2017), on two or three components of three values,
all compiled kernels (sim/kernels/combination.py). Random draws are checked by replaying the policy's streams."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from test_kernels_exact import Stream

from banditmap.errors import BanditmapError
from banditmap.sim.kernels.combination import NOISE, PASSES, best_pages, erfc, probit_moments
from banditmap.sim.kernels.rng import states_from
from banditmap.sim.policies import Feedback
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.policies.combination import (
    COMBINATION,
    EXHAUSTIVE,
    MultivariateThompson,
    Probit,
    UniformCombination,
)
from banditmap.sim.problem import Problem, active_features, component_pairs, problem_from_answers

from stubs import close, small_problem


def problem(values: int = 3, components: int = 2, reps: int = 1) -> Problem:
    return small_problem("combination", n_arms=values, slate_size=components, rounds=50, reps=reps)


def climb(weights: np.ndarray, s: Probit, climbs: int) -> np.ndarray:
    """The best pages (R, D) under weights (R, F), as the policy searches them (every page, or hill climbs)."""
    chosen: np.ndarray = best_pages(weights, s.table, s.K, s.D, climbs, s.draws)
    return chosen


def climbed(s: Probit) -> Probit:
    """The state with no list of pages: the policy climbs instead of scoring every page."""
    s.table = np.empty((0, s.D + s.D * (s.D - 1) // 2), dtype=np.int64)
    return s


def moments(t: float) -> tuple[float, float]:
    """v and w from the standard normal's density and distribution function."""
    v = math.exp(-t * t / 2) / math.sqrt(2 * math.pi) / (0.5 * math.erfc(-t / math.sqrt(2)))
    return v, v * (v + t)


# --- declarations -------------------------------------------------------------------------------------------------

def test_registry_kinds_constants_and_hyperparameters() -> None:
    assert REGISTRY["mvt-ts"] is MultivariateThompson and REGISTRY["uniform-random-combination"] is UniformCombination
    assert COMBINATION == frozenset({"combination"})
    assert MultivariateThompson.kinds == COMBINATION and UniformCombination.kinds == COMBINATION
    assert (NOISE, PASSES, EXHAUSTIVE) == (1.0, 3, 256)
    assert MultivariateThompson().climbs == 10
    with pytest.raises(BanditmapError, match="MultivariateThompson.climbs"):
        MultivariateThompson(climbs=0)


# --- erfc and the probit moments ----------------------------------------------------------------------------------

@pytest.mark.parametrize("x", [-3.0, -1.5, -1.0, -0.3, 0.2, 0.5, 1.0, 1.7, 2.5, 4.0])
def test_erfc_matches_the_error_function_within_its_fit(x: float) -> None:
    assert erfc(x) == pytest.approx(math.erfc(x), rel=1.2e-7)


def test_erfc_at_zero_is_the_fit_at_zero() -> None:
    # t = 1: the polynomial sums to 1.26551226 - 1.26551223 = 3e-8, so erfc(0) = exp(3e-8), just above 1
    assert erfc(0.0) == pytest.approx(math.exp(3e-8), abs=1e-15)
    assert erfc(0.0) > 1.0


@pytest.mark.parametrize("t", [-3.0, -1.0, 0.0, 0.5, 2.0])
def test_probit_moments(t: float) -> None:
    v, w = probit_moments(t)
    expected_v, expected_w = moments(t)
    assert v == pytest.approx(expected_v, rel=1e-6) and w == pytest.approx(expected_w, rel=1e-6)


def test_probit_moments_at_zero() -> None:
    v, w = probit_moments(0.0)
    assert v == pytest.approx(2 / math.sqrt(2 * math.pi), rel=1e-7)  # phi(0) / (1/2)
    assert w == pytest.approx(2 / math.pi, rel=1e-7)


# --- state --------------------------------------------------------------------------------------------------------

def test_init_lays_out_main_effects_and_pairs_and_every_page_of_a_small_space() -> None:
    s = MultivariateThompson().init(problem(values=3, components=2, reps=2), np.random.default_rng(0))
    assert (s.R, s.K, s.k, s.D, s.horizon) == (2, 3, 2, 2, 50)
    assert s.pairs.tolist() == [[0, 1]]
    assert s.mean.shape == (2, 15) and not s.mean.any()  # 2 x 3 main effects, 3 x 3 for the pair
    assert s.var.shape == (2, 15) and (s.var == 1).all()
    assert s.draws.shape == (2,) and s.draws.dtype == np.uint64
    pages = np.array([[a, b] for a in range(3) for b in range(3)])  # page m spells m in base 3
    assert s.table.tolist() == active_features(pages, 3, component_pairs(2)).tolist()
    assert s.table[5].tolist() == [1, 5, 6 + 1 * 3 + 2]  # page (1, 2)
    assert s.table[0].tolist() == [0, 3, 6]


def test_pages_are_listed_up_to_256_of_them() -> None:
    s = MultivariateThompson().init(problem(values=4, components=4), np.random.default_rng(0))
    assert s.table.shape == (256, 4 + 6) and s.table[255].tolist() == [3, 7, 11, 15] + [16 + p * 16 + 15
                                                                                           for p in range(6)]
    assert s.mean.shape == (1, 16 + 6 * 16)
    s = MultivariateThompson().init(problem(values=3, components=6), np.random.default_rng(0))
    assert s.table.shape == (0, 6 + 15)
    assert s.pairs.shape == (15, 2)


# --- choosing a page ----------------------------------------------------------------------------------------------

def weights_for(D: int, V: int, main: list[list[float]], pairs: dict[tuple[int, int, int, int], float]) -> np.ndarray:
    """A weight row: main[d][v], and pairs[(a, b, value of a, value of b)] for the pair (a, b)."""
    pair_list = [(a, b) for a in range(D) for b in range(a + 1, D)]
    w = np.zeros(D * V + len(pair_list) * V * V)
    for d in range(D):
        w[d * V:(d + 1) * V] = main[d]
    for (a, b, x, y), value in pairs.items():
        w[D * V + pair_list.index((a, b)) * V * V + x * V + y] = value
    return w


def test_exhaustive_scoring_finds_the_best_page_with_its_interaction() -> None:
    s = MultivariateThompson().init(problem(values=3, components=2, reps=2), np.random.default_rng(0))
    # row 0: (1, 1) scores 0.5 + 0.5; (2, 0) scores 0.3 + 0.2 + 1.0 for the pair; row 1: main effects only
    weights = np.array([weights_for(2, 3, [[0, 0.5, 0.3], [0.2, 0.5, 0]], {(0, 1, 2, 0): 1.0}),
                        weights_for(2, 3, [[0, 0.5, 0.3], [0.2, 0.5, 0]], {})])
    assert climb(weights, s, 10).tolist() == [[2, 0], [1, 1]]


def test_exhaustive_scoring_breaks_ties_at_random() -> None:
    s = MultivariateThompson().init(problem(values=3, components=2, reps=30), np.random.default_rng(4))
    replay = [Stream(state) for state in s.draws]
    chosen = climb(np.zeros((30, 15)), s, 10)
    best = []
    for stream in replay:  # the first page, then page m with probability 1 / (m + 1): one uniform per tie
        pick = 0
        for m in range(1, 9):
            pick = m if stream.uniform() * (m + 1) < 1.0 else pick
        best.append(pick)
    assert chosen.tolist() == [[i // 3, i % 3] for i in best]
    assert len({tuple(page) for page in chosen.tolist()}) > 4


def starting_pages(s: Probit, climbs: int) -> np.ndarray:
    """The climbs' starts (R, climbs, D): a uniform value per component, climb by climb, from each stream."""
    starts = []
    for state in s.draws:
        stream = Stream(state)
        starts.append([[stream.below(s.K) for _ in range(s.D)] for _ in range(climbs)])
    return np.array(starts)


def test_hill_climbs_follow_the_interactions_they_can_see() -> None:
    s = climbed(MultivariateThompson().init(problem(values=3, components=3, reps=2), np.random.default_rng(1)))
    # row 0: a slight preference for (0, 0, 1), and 10 for values 1 and 2 of components 0 and 1 together: a climb
    # reaches (1, 2, 1) when it starts with component 1 at 2 (component 0 then takes 1, and 1 keeps 2), otherwise
    # it settles at (0, 0, 1)
    # row 1: component 0 prefers 2, 1 prefers 0 and 2 prefers 1 slightly; 10 for values 2 and 0 of components 1
    # and 2: (2, 2, 0) from a start with component 2 at 0, otherwise (2, 0, 1)
    # (row 1's weights are ten times larger: its best climb is the best of all, found in each row apart)
    weights = np.array([weights_for(3, 3, [[0.1, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], {(0, 1, 1, 2): 10.0}),
                        10 * weights_for(3, 3, [[0, 0, 0.1], [0.1, 0, 0], [0, 0.1, 0]], {(1, 2, 2, 0): 10.0})])
    climbs = 3
    starts = starting_pages(s, climbs)
    chosen = climb(weights, s, climbs)
    expected_0 = [1, 2, 1] if (starts[0, :, 1] == 2).any() else [0, 0, 1]
    expected_1 = [2, 2, 0] if (starts[1, :, 2] == 0).any() else [2, 0, 1]
    assert chosen.tolist() == [expected_0, expected_1]
    assert (starts[0, :, 1] == 2).any() and not (starts[0, :, 1] == 2).all()  # this seed tries both kinds
    assert (starts[1, :, 2] == 0).any() and not (starts[1, :, 2] == 0).all()


def test_hill_climbs_each_end_at_a_coordinate_optimum() -> None:
    s = climbed(MultivariateThompson().init(problem(values=3, components=3, reps=1), np.random.default_rng(7)))
    # the weights of row 0 above with one climb: its start decides
    weights = np.array([weights_for(3, 3, [[0.1, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], {(0, 1, 1, 2): 10.0})])
    seen = set()
    for seed in range(8):
        s.draws = np.array([seed * 7919 + 1], dtype=np.uint64)
        start = starting_pages(s, 1)[0, 0]
        assert climb(weights, s, 1).tolist() == [[1, 2, 1] if start[1] == 2 else [0, 0, 1]]
        seen.add(start[1] == 2)
    assert seen == {True, False}


def test_select_plays_the_best_page_under_a_posterior_draw() -> None:
    policy = MultivariateThompson(climbs=4)
    s = policy.init(problem(values=3, components=2, reps=2), np.random.default_rng(3))
    s.mean[:] = np.arange(30).reshape(2, 15) / 10
    s.var[:] = 0.25
    replay = [Stream(state) for state in s.draws]
    chosen = policy.select(s, None)
    for r in range(2):  # one normal per feature weight, in feature order; no ties among continuous scores
        sample = np.array([s.mean[r, f] + 0.5 * replay[r].normal() for f in range(15)])
        scores = sample[s.table].sum(axis=1)
        assert chosen[r].tolist() == [int(np.argmax(scores)) // 3, int(np.argmax(scores)) % 3]
    assert s.draws.tolist() == [stream.state for stream in replay]  # and nothing else drawn
    climbing = climbed(policy.init(problem(values=3, components=3, reps=1), np.random.default_rng(3)))
    replay = [Stream(state) for state in climbing.draws]
    policy.select(climbing, None)
    for _ in range(9 + 3 * 9):  # 36 weights, then 4 climbs' starts of three components
        replay[0].normal()
    for _ in range(4 * 3):
        replay[0].below(3)
    assert climbing.draws.tolist() == [replay[0].state]


def test_recommend_climbs_on_the_posterior_means() -> None:
    policy = MultivariateThompson()
    s = policy.init(problem(values=3, components=2, reps=1), np.random.default_rng(0))
    s.mean[0] = weights_for(2, 3, [[0, 0.5, 0.3], [0.2, 0.5, 0]], {(0, 1, 2, 0): 1.0})
    s.var[:] = 100.0  # ignored
    assert policy.recommend(s).tolist() == [[2, 0]]
    assert policy.exploit(s, None).tolist() == [[2, 0]]
    # a large page space: hill climbs (one start with component 1 at 2 reaches (1, 2, 1), see above)
    policy = MultivariateThompson(climbs=3)
    s = climbed(policy.init(problem(values=3, components=3, reps=1), np.random.default_rng(7)))
    s.mean[0] = weights_for(3, 3, [[0.1, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], {(0, 1, 1, 2): 10.0})
    assert (starting_pages(s, 3)[0, :, 1] == 2).any()
    assert policy.recommend(s).tolist() == [[1, 2, 1]]


# --- the posterior update -----------------------------------------------------------------------------------------

def test_update_moves_the_active_features_by_the_probit_moments() -> None:
    policy = MultivariateThompson()
    s = policy.init(problem(values=3, components=2, reps=3), np.random.default_rng(0))
    # a click on (1, 2) for repetition 0, none on (0, 0) for repetition 1 (reward below 0 clipped to 0); a reward
    # above 1 is a click for sure (repetition 2)
    policy.update(s, Feedback(np.array([0, 1, 2]), np.array([[1, 2], [0, 0], [2, 1]]), np.array([1.0, -0.5, 1.5]),
                              None, unique=True))
    # fresh posterior: three active features, mean 0 and variance 1: total sqrt(1 + 3) = 2, t = 0
    v, w = moments(0.0)
    step, shrink = v / 2, 1 - w / 4
    expected_mean = np.zeros((3, 15))
    expected_var = np.ones((3, 15))
    for row, active, sign in ((0, [1, 5, 11], 1), (1, [0, 3, 6], -1), (2, [2, 4, 6 + 7], 1)):
        expected_mean[row, active] = sign * step
        expected_var[row, active] = shrink
    assert close(s.mean, expected_mean, 1e-6) and close(s.var, expected_var, 1e-6)


def test_update_sums_each_repetitions_own_means() -> None:
    policy = MultivariateThompson()
    s = policy.init(problem(values=3, components=2, reps=2), np.random.default_rng(0))
    s.mean[0, [1, 5, 11]] = 0.1
    s.mean[1, [0, 3, 6]] = -0.2
    policy.update(s, Feedback(np.array([0, 1]), np.array([[1, 2], [0, 0]]), np.array([1.0, 1.0]), None, unique=True))
    v0, w0 = moments(0.3 / 2)
    v1, w1 = moments(-0.6 / 2)
    assert close(s.mean[0, [1, 5, 11]], [0.1 + v0 / 2] * 3, 1e-6)
    assert close(s.var[0, [1, 5, 11]], [1 - w0 / 4] * 3, 1e-6)
    assert close(s.mean[1, [0, 3, 6]], [-0.2 + v1 / 2] * 3, 1e-6)
    assert close(s.var[1, [0, 3, 6]], [1 - w1 / 4] * 3, 1e-6)


def test_update_learns_a_repetitions_observations_in_turn() -> None:
    policy = MultivariateThompson()
    s = policy.init(problem(values=3, components=2, reps=1), np.random.default_rng(0))
    policy.update(s, Feedback(np.array([0, 0]), np.array([[1, 2], [1, 0]]), np.array([1.0, 0.0]), None))
    v, w = moments(0.0)
    m1, s1 = v / 2, 1 - w / 4  # after the first click: features 1, 5, 11
    # the second page (1, 0): features 1 (learnt), 3 and 9 (fresh); no click
    total = math.sqrt(NOISE + s1 + 2)
    v2, w2 = moments(-m1 / total)
    expected_mean = np.zeros(15)
    expected_var = np.ones(15)
    expected_mean[[5, 11]], expected_var[[5, 11]] = m1, s1
    expected_mean[1] = m1 - v2 / total * s1
    expected_var[1] = s1 * (1 - w2 / total ** 2 * s1)
    expected_mean[[3, 9]] = -v2 / total
    expected_var[[3, 9]] = 1 - w2 / total ** 2
    assert close(s.mean[0], expected_mean, 1e-6) and close(s.var[0], expected_var, 1e-6)


def test_update_draws_a_click_with_the_rewards_probability() -> None:
    policy = MultivariateThompson()
    s = policy.init(problem(values=3, components=2, reps=40), np.random.default_rng(5))
    replay = [Stream(state) for state in s.draws]
    policy.update(s, Feedback(np.arange(40), np.zeros((40, 2), dtype=np.int64), np.full(40, 0.5), None, unique=True))
    clicks = np.array([stream.uniform() < 0.5 for stream in replay])
    assert (np.sign(s.mean[:, 0]) == np.where(clicks, 1, -1)).all()
    assert 10 < clicks.sum() < 30


# --- the uniform baseline -----------------------------------------------------------------------------------------

def test_uniform_combination_draws_a_page_number_from_each_repetitions_stream() -> None:
    """One uniform page number below V ** D a decision (the uniform K-armed kernel's draw over the pages), spelled in
    base V, first component first; the streams made from the policy's generator, as the compiled race makes them."""
    policy = UniformCombination()
    s = policy.init(problem(values=3, components=2, reps=5), np.random.default_rng(1))
    replay = [Stream(state) for state in states_from(copy.deepcopy(s.rng), 5)]
    for _ in range(3):
        chosen = policy.select(s, None)
        numbers = [stream.below(9) for stream in replay]
        assert chosen.tolist() == [[m // 3, m % 3] for m in numbers]


def test_uniform_combination_races_compiled_with_the_loops_numbers() -> None:
    from banditmap.sim import compiled
    from banditmap.sim.environments import make_environment
    from banditmap.sim.runner import RunSpec, run
    spec = RunSpec("u", "u", UniformCombination())
    for answers in ({"n_actions": 81, "slate_size": 4},
                    {"n_actions": 9, "slate_size": 2, "reward_type": "continuous", "feedback_delay": "delayed"}):
        shaped = problem_from_answers({"action_structure": "combination", **answers}, rounds=300, reps=4)
        assert compiled.covers(spec.policy, shaped)
        fast, slow = run(spec, shaped, 3), run(spec, shaped, 3, environment=make_environment)
        for name in ("regret", "final_regret", "last_reward", "optimal"):
            assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    many = problem_from_answers({"action_structure": "combination", "n_actions": 1024, "slate_size": 5}, rounds=3,
                                reps=2)
    assert not compiled.covers(spec.policy, many)  # more pages than arms a K-armed race takes: the loop

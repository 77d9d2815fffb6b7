"""The page-combination policies of banditmap.sim.policies.combination checked by hand: the Chebyshev erfc against
math.erfc, the probit moment terms v(t) = phi(t) / Phi(t) and w(t) = v(t) (v(t) + t), the closed-form posterior
update of the Bayesian probit model (Graepel et al. 2010), the exhaustive page scoring of small page spaces and
the coordinate-ascent hill climbs of large ones (Hill et al. 2017), on two or three components of three values.
Random draws are checked by replaying a copy of the state's generator."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from banditmap.errors import BanditmapError
from banditmap.sim.policies import Feedback
from banditmap.sim.policies import combination as module
from banditmap.sim.policies.base import REGISTRY
from banditmap.sim.policies.combination import (
    COMBINATION,
    EXHAUSTIVE,
    NOISE,
    PASSES,
    MultivariateThompson,
    Probit,
    UniformCombination,
    climb,
    erfc,
    probit_moments,
)
from banditmap.sim.problem import Problem

from stubs import close, small_problem


def problem(values: int = 3, components: int = 2, reps: int = 1) -> Problem:
    return small_problem("combination", n_arms=values, slate_size=components, rounds=50, reps=reps)


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
    assert erfc(np.array([x]))[0] == pytest.approx(math.erfc(x), rel=1.2e-7)


def test_erfc_at_zero_is_the_fit_at_zero() -> None:
    # t = 1: the polynomial sums to 1.26551226 - 1.26551223 = 3e-8, so erfc(0) = exp(3e-8), just above 1
    assert erfc(np.array([0.0]))[0] == pytest.approx(math.exp(3e-8), abs=1e-15)
    assert erfc(np.array([0.0]))[0] > 1.0


@pytest.mark.parametrize("t", [-3.0, -1.0, 0.0, 0.5, 2.0])
def test_probit_moments(t: float) -> None:
    v, w = probit_moments(np.array([t]))
    expected_v, expected_w = moments(t)
    assert v[0] == pytest.approx(expected_v, rel=1e-6) and w[0] == pytest.approx(expected_w, rel=1e-6)


def test_probit_moments_at_zero() -> None:
    v, w = probit_moments(np.array([0.0]))
    assert v[0] == pytest.approx(2 / math.sqrt(2 * math.pi), rel=1e-7)  # phi(0) / (1/2)
    assert w[0] == pytest.approx(2 / math.pi, rel=1e-7)


# --- state --------------------------------------------------------------------------------------------------------

def test_init_lays_out_main_effects_and_pairs_and_every_page_of_a_small_space() -> None:
    s = MultivariateThompson().init(problem(values=3, components=2, reps=2), np.random.default_rng(0))
    assert (s.R, s.K, s.k, s.D, s.horizon) == (2, 3, 2, 2, 50)
    assert s.pairs.tolist() == [[0, 1]]
    assert s.mean.shape == (2, 15) and not s.mean.any()  # 2 x 3 main effects, 3 x 3 for the pair
    assert s.var.shape == (2, 15) and (s.var == 1).all()
    assert s.pages is not None and s.page_features is not None
    assert s.pages.tolist() == [[a, b] for a in range(3) for b in range(3)]
    assert s.page_features[5].tolist() == [1, 5, 6 + 1 * 3 + 2]  # page (1, 2)
    assert s.page_features[0].tolist() == [0, 3, 6]


def test_pages_are_listed_up_to_256_of_them() -> None:
    s = MultivariateThompson().init(problem(values=4, components=4), np.random.default_rng(0))
    assert s.pages is not None and s.pages.shape == (256, 4)
    assert s.mean.shape == (1, 16 + 6 * 16)
    s = MultivariateThompson().init(problem(values=3, components=6), np.random.default_rng(0))
    assert s.pages is None and s.page_features is None
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
    replay = copy.deepcopy(s.rng)
    chosen = climb(np.zeros((30, 15)), s, 10)
    best = np.argmax(replay.random((30, 9)), axis=1)
    assert chosen.tolist() == [[i // 3, i % 3] for i in best]
    assert len({tuple(page) for page in chosen.tolist()}) > 4


def test_hill_climbs_follow_the_interactions_they_can_see() -> None:
    s = MultivariateThompson().init(problem(values=3, components=3, reps=2), np.random.default_rng(7))
    s.pages = s.page_features = None  # climb instead of scoring all 27 pages
    # row 0: a slight preference for (0, 0, 1), and 10 for values 1 and 2 of components 0 and 1 together: a climb
    # reaches (1, 2, 1) when it starts with component 1 at 2 (component 0 then takes 1, and 1 keeps 2), otherwise
    # it settles at (0, 0, 1)
    # row 1: component 0 prefers 2, 1 prefers 0 and 2 prefers 1 slightly; 10 for values 2 and 0 of components 1
    # and 2: (2, 2, 0) from a start with component 2 at 0, otherwise (2, 0, 1)
    # (row 1's weights are ten times larger: its best climb is the best of all, found in each row apart)
    weights = np.array([weights_for(3, 3, [[0.1, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], {(0, 1, 1, 2): 10.0}),
                        10 * weights_for(3, 3, [[0, 0, 0.1], [0.1, 0, 0], [0, 0.1, 0]], {(1, 2, 2, 0): 10.0})])
    climbs = 3
    replay = copy.deepcopy(s.rng)
    starts = np.minimum((replay.random((2, climbs, 3)) * 3).astype(int), 2)
    chosen = climb(weights, s, climbs)
    expected_0 = [1, 2, 1] if (starts[0, :, 1] == 2).any() else [0, 0, 1]
    expected_1 = [2, 2, 0] if (starts[1, :, 2] == 0).any() else [2, 0, 1]
    assert chosen.tolist() == [expected_0, expected_1]
    assert (starts[0, :, 1] == 2).any() and not (starts[0, :, 1] == 2).all()  # this seed tries both kinds
    assert (starts[1, :, 2] == 0).any() and not (starts[1, :, 2] == 0).all()


def test_hill_climbs_each_end_at_a_coordinate_optimum() -> None:
    s = MultivariateThompson().init(problem(values=3, components=3, reps=1), np.random.default_rng(7))
    s.pages = s.page_features = None
    # the weights of row 0 above with one climb: its start decides
    weights = np.array([weights_for(3, 3, [[0.1, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], {(0, 1, 1, 2): 10.0})])
    for seed in range(6):
        s.rng = np.random.default_rng(seed)
        start = np.minimum((np.random.default_rng(seed).random(3) * 3).astype(int), 2)
        assert climb(weights, s, 1).tolist() == [[1, 2, 1] if start[1] == 2 else [0, 0, 1]]


def test_select_climbs_on_a_posterior_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[np.ndarray, int]] = []

    def recorder(weights: np.ndarray, s: Probit, climbs: int) -> np.ndarray:
        asked.append((weights.copy(), climbs))
        return np.zeros((s.R, s.D), dtype=np.int64)

    monkeypatch.setattr(module, "climb", recorder)
    policy = MultivariateThompson(climbs=4)
    s = policy.init(problem(values=3, components=2, reps=2), np.random.default_rng(3))
    s.mean[:] = np.arange(30).reshape(2, 15) / 10
    s.var[:] = 0.25
    replay = copy.deepcopy(s.rng)
    policy.select(s, None)
    (weights, climbs), = asked
    assert climbs == 4
    assert np.array_equal(weights, s.mean + 0.5 * replay.standard_normal((2, 15)))


def test_recommend_climbs_on_the_posterior_means() -> None:
    policy = MultivariateThompson()
    s = policy.init(problem(values=3, components=2, reps=1), np.random.default_rng(0))
    s.mean[0] = weights_for(2, 3, [[0, 0.5, 0.3], [0.2, 0.5, 0]], {(0, 1, 2, 0): 1.0})
    s.var[:] = 100.0  # ignored
    assert policy.recommend(s).tolist() == [[2, 0]]
    assert policy.exploit(s, None).tolist() == [[2, 0]]
    # a large page space: hill climbs (one start with component 1 at 2 reaches (1, 2, 1), see above)
    policy = MultivariateThompson(climbs=3)
    s = policy.init(problem(values=3, components=3, reps=1), np.random.default_rng(7))
    s.pages = s.page_features = None
    s.mean[0] = weights_for(3, 3, [[0.1, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], {(0, 1, 1, 2): 10.0})
    replay = copy.deepcopy(s.rng)
    starts = np.minimum((replay.random((1, 3, 3)) * 3).astype(int), 2)
    assert (starts[0, :, 1] == 2).any()
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
    replay = copy.deepcopy(s.rng)
    policy.update(s, Feedback(np.arange(40), np.zeros((40, 2), dtype=np.int64), np.full(40, 0.5), None, unique=True))
    clicks = replay.random(40) < 0.5
    assert (np.sign(s.mean[:, 0]) == np.where(clicks, 1, -1)).all()
    assert 10 < clicks.sum() < 30


# --- the uniform baseline -----------------------------------------------------------------------------------------

def test_uniform_combination_draws_each_component_at_random() -> None:
    policy = UniformCombination()
    s = policy.init(problem(values=3, components=2, reps=5), np.random.default_rng(1))
    replay = copy.deepcopy(s.rng)
    chosen = policy.select(s, None)
    assert chosen.tolist() == np.minimum((replay.random(10) * 3).astype(int), 2).reshape(5, 2).tolist()

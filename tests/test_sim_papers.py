"""Behaviour each newer simulated policy owes its paper: LUCB stops with the best arm at the stated confidence,
D-LinUCB and SW-LinUCB recover after the parameter jumps where LinUCB does not, PBM-UCB's index and slate, GP-UCB's
exact posterior, and zooming's resolution near the best price."""

from __future__ import annotations

import numpy as np

from banditmap.sim.policies import Feedback, build
from banditmap.sim.problem import problem_from_answers


def test_lucb_stops_with_the_best_arm_at_the_stated_confidence_and_samples_the_contenders() -> None:
    """Kalyanakrishnan et al. (2012): with probability at least 1 - delta the arm named at stopping is the best.
    300 repetitions of Bernoulli arms (0.3, 0.45, 0.6, 0.2), delta = 0.1, seed 7: every repetition stops, at most
    10% name a wrong arm (LUCB's bounds are conservative: none does here), and the two contenders (the leader and
    its closest challenger) get most of the samples."""
    means = np.array([0.3, 0.45, 0.6, 0.2])
    R, K = 300, len(means)
    problem = problem_from_answers({"n_actions": K, "objective": "best_arm"}, rounds=20_000, reps=R)
    policy = build("lucb", {"delta": 0.1}, "test")
    rng = np.random.default_rng(7)
    state = policy.init(problem, rng)
    stopped_at = np.full(R, -1)
    counts_at_stop = np.zeros((R, K))
    def stopped() -> np.ndarray:
        return state.scratch[:, K + 3] > 0  # the kernel's flag: the stopping rule has fired

    for t in range(problem.rounds):
        arms = policy.select(state, None)
        newly = stopped() & (stopped_at < 0)
        stopped_at[newly], counts_at_stop[newly] = t, state.counts[newly]
        if stopped().all():
            break
        rewards = (rng.random(R) < means[arms]).astype(float)
        policy.update(state, Feedback(np.arange(R), arms, rewards, None, unique=True))
    assert stopped().all(), int((~stopped()).sum())
    wrong = float((policy.recommend(state) != 2).mean())
    assert wrong <= 0.1, wrong
    share = counts_at_stop / counts_at_stop.sum(axis=1, keepdims=True)
    assert share[:, [1, 2]].sum(axis=1).mean() > 0.6 and share[:, 3].mean() < share[:, 1].mean()


def last_quarter_regret(policy_id: str, environment: str, **params: float) -> np.ndarray:
    """Regret per repetition over the last quarter of 4,000 rounds (after the last change point of an abrupt
    world), 20 repetitions, 5 arms, 5 features, seed 0."""
    from banditmap.sim.runner import RunSpec, run
    problem = problem_from_answers({"context": "linear", "environment": environment, "n_actions": 5,
                                    "n_features": 5}, rounds=4000, reps=20)
    result = run(RunSpec(policy_id, policy_id, build(policy_id, dict(params), "test")), problem, 0)
    at = int(np.searchsorted(result.rounds, 3000))
    quarter: np.ndarray = result.regret[:, -1] - result.regret[:, at]
    return quarter


def test_forgetting_linucbs_recover_after_a_change_where_linucb_does_not() -> None:
    """Russac et al. (2019) and Cheung et al. (2019): forgetting (discounted, or a window) tracks a parameter that
    jumps, where LinUCB's estimate mixes every regime it has seen. In the abrupt contextual world (the arms' parameters
    rotate at 25%, 50% and 75% of the run) each has at most 80% of LinUCB's regret after the last change; in a
    stationary world the forgetting costs regret instead, as both papers say (B_T = 0)."""
    linucb = last_quarter_regret("linucb", "abrupt")
    for policy_id in ("d-linucb", "sw-linucb"):
        forgetting = last_quarter_regret(policy_id, "abrupt")
        assert forgetting.mean() < 0.8 * linucb.mean(), (policy_id, forgetting.mean(), linucb.mean())
        assert last_quarter_regret(policy_id, "stationary").mean() > last_quarter_regret("linucb", "stationary").mean()


def test_pbm_ucb_index_where_every_position_is_examined_and_it_finds_the_best_slate() -> None:
    """Lagree et al. (2016): with examination probability 1 at every position the index is S/N + sqrt(log t / (2N))
    (epsilon = 0); on Bernoulli items (0.1 x 6, then 0.5, 0.6, 0.7) shown 3 at a time for 3,000 rounds, 20
    repetitions (seed 2), its final slate is the 3 best items in at least 90% of repetitions."""
    problem = problem_from_answers({"action_structure": "slate", "action_space": "many", "n_actions": 9,
                                    "slate_size": 3}, rounds=3000, reps=20)
    policy = build("pbm-ucb", {}, "test")
    state = policy.init(problem, np.random.default_rng(0))
    state.counts[:] = [[4.0, 2, 2, 4, 4, 4, 4, 4, 8]] * 20
    state.sums[:] = [[2.0, 1, 0, 1, 1, 1, 1, 1, 4]] * 20
    state.means[:] = state.sums / state.counts
    t = state.counts[0].sum() / 3
    index = state.means[0] + np.sqrt(np.log(t) / (2 * state.counts[0]))
    top = np.argsort(-index)
    assert index[top[2]] - index[top[3]] > 0.05  # the index's 3 best items, by a clear margin
    assert (np.sort(policy.select(state, None), axis=1) == np.sort(top[:3])).all()
    means = np.r_[np.full(6, 0.1), 0.5, 0.6, 0.7]
    rng = np.random.default_rng(2)
    state = policy.init(problem, rng)
    for _ in range(problem.rounds):
        shown = policy.select(state, None)
        clicks = (rng.random(shown.shape) < means[shown]).astype(float)
        policy.update(state, Feedback(np.arange(20), shown, clicks, None, unique=True))
    best = np.sort(policy.select(state, None), axis=1) == [6, 7, 8]
    assert best.all(axis=1).mean() >= 0.9


def test_gp_ucb_posterior_is_exact_gaussian_process_regression_and_it_learns_the_price() -> None:
    """Srinivas et al. (2010) play the maximiser of posterior mean + width of a Gaussian process: after 30
    observations the rank-one updates give GP regression's closed form, mean K_x (K + s^2 I)^-1 y and covariance
    K - K_x (K + s^2 I)^-1 K_x^T; in the simulated pricing world (3,000 rounds, 20 repetitions, seed 0) it has under
    a quarter of uniform pricing's regret, and less than UCB1 on a grid, which shares nothing between prices."""
    from banditmap.sim.runner import RunSpec, run
    problem = problem_from_answers({"action_space": "continuous"}, rounds=3000, reps=20)
    policy = build("gp-ucb", {"grid": 12}, "test")
    rng = np.random.default_rng(4)
    state = policy.init(problem, rng)
    prior = state.cov[0].copy()
    cells = rng.integers(0, 12, (30, problem.reps))
    ys = rng.random((30, problem.reps))
    for cell, y in zip(cells, ys):
        policy.update(state, Feedback(np.arange(problem.reps), state.prices[cell], y, None, aux=cell, unique=True))
    kx = prior[:, cells[:, 0]]  # (G, n) for repetition 0
    system = prior[np.ix_(cells[:, 0], cells[:, 0])] + 0.25 * np.eye(30)
    assert np.allclose(state.mean[0], kx @ np.linalg.solve(system, ys[:, 0]))
    assert np.allclose(state.cov[0], prior - kx @ np.linalg.solve(system, kx.T))
    ids = ("gp-ucb", "discretized-ucb-pricing", "uniform-random-price")
    regret = {i: run(RunSpec(i, i, build(i, {}, "test")), problem, 0).final_regret.mean() for i in ids}
    assert regret["gp-ucb"] < 0.25 * regret["uniform-random-price"], regret
    assert regret["gp-ucb"] < regret["discretized-ucb-pricing"], regret


def test_zooming_puts_an_active_price_closer_to_the_best_one_than_an_even_grid_would() -> None:
    """Kleinberg, Slivkins & Upfal (2008): the zooming algorithm spends its resolution where the reward is high. In
    the simulated pricing world (5,000 rounds, 20 repetitions, seed 3), the active price nearest the best one is
    closer than half the spacing of an even grid of as many prices in at least 90% of repetitions, the price it
    played most earns within 2% of the best revenue (median), and it has less regret than UCB1 on a fixed grid."""
    from banditmap.sim import environments as envs
    from banditmap.sim.runner import RunSpec, run
    problem = problem_from_answers({"action_space": "continuous"}, rounds=5000, reps=20)
    policy = build("zooming", {}, "test")
    rng = np.random.default_rng(3)
    world = envs.Pricing(problem, rng)
    state = policy.init(problem, rng)
    for t in range(problem.rounds):
        price = policy.select(state, None)
        observed = world.step(t, price, None).observation
        policy.update(state, Feedback(np.arange(problem.reps), price, observed, None, aux=state.aux, unique=True))
    nearest = np.where(state.active, np.abs(state.prices[None, :] - world.best_price[:, None]), np.inf).min(axis=1)
    assert np.mean(nearest < 0.9 / (2 * state.active.sum(axis=1))) >= 0.9
    played = state.prices[state.counts.argmax(axis=1)]
    assert np.median(1 - played * world.buy(played[:, None])[:, 0] / world.best) < 0.02
    ids = ("zooming", "discretized-ucb-pricing")
    regret = {i: run(RunSpec(i, i, build(i, {}, "test")), problem, 0).final_regret.mean() for i in ids}
    assert regret["zooming"] < regret["discretized-ucb-pricing"], regret

"""Budgets, safety, duels, assortments, page combinations and delayed conversions: each environment's optimum
checked by brute force on small cases, and each policy against a baseline it must beat by a wide margin."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from banditmap.sim import environments as envs
from banditmap.sim import oracles
from banditmap.sim.policies import build
from banditmap.sim.policies.delayed import conversion_books
from banditmap.sim.problem import Problem, problem_from_answers
from banditmap.sim.runner import Pending, RunSpec, deliver, run
from banditmap.sim.kernels.rng import states_from
from test_sim import fixed_arms


def race_one(policy_id: str, problem: Problem, seed: int = 1, **kwargs):
    return run(RunSpec(policy_id, policy_id, build(policy_id, kwargs.pop("params", {}), policy_id)), problem, seed,
               **kwargs)


# --- oracles: the optimum each environment measures regret against ------------------------------------------------

def test_budget_lp_on_a_hand_made_case() -> None:
    # arm 0 pays best but costs 1, arm 1 is cheap: the best mix spends exactly the rate, a quarter on arm 0
    mix = oracles.budget_mix(np.array([[0.5, 0.3, 0.1]]), np.array([[1.0, 0.2, 0.0]]), 0.4)
    assert mix.value[0] == pytest.approx(0.35)
    assert (mix.low[0], mix.high[0]) == (1, 0) and mix.p_high[0] == pytest.approx(0.25)
    # an affordable best arm is played alone
    alone = oracles.budget_mix(np.array([[0.5, 0.3]]), np.array([[0.3, 0.9]]), 0.4)
    assert alone.value[0] == pytest.approx(0.5) and alone.p_high[0] == 0


def test_budget_lp_beats_every_two_arm_mix_on_a_grid() -> None:
    rng = np.random.default_rng(3)
    reward, cost = rng.random((40, 4)), rng.random((40, 4))
    mix = oracles.budget_mix(reward, cost, 0.3)
    r = np.concatenate([reward, np.zeros((40, 1))], axis=1)
    c = np.concatenate([cost, np.zeros((40, 1))], axis=1)
    p = np.linspace(0, 1, 1001)
    best = np.full(40, -np.inf)
    for i, j in itertools.product(range(5), repeat=2):
        value = (1 - p) * r[:, i:i + 1] + p * r[:, j:j + 1]
        spend = (1 - p) * c[:, i:i + 1] + p * c[:, j:j + 1]
        best = np.maximum(best, np.where(spend <= 0.3 + 1e-12, value, -np.inf).max(axis=1))
    assert np.all(mix.value >= best - 1e-9)
    assert np.all(mix.value <= best + 2e-3)  # the grid's resolution
    rows = np.arange(40)
    spend = (1 - mix.p_high) * c[rows, mix.low] + mix.p_high * c[rows, mix.high]
    assert np.all(spend <= 0.3 + 1e-9)


def test_best_assortment_matches_enumeration() -> None:
    rng = np.random.default_rng(5)
    weights, revenue = rng.uniform(0.05, 1, (30, 8)), rng.uniform(0.1, 1, (30, 8))
    chosen, value = oracles.best_assortment(weights, revenue, 3)
    for row in range(30):
        best = max(sum(weights[row, list(s)] * revenue[row, list(s)]) / (1 + weights[row, list(s)].sum())
                   for size in (1, 2, 3) for s in itertools.combinations(range(8), size))
        assert value[row] == pytest.approx(best, abs=1e-6)
    assert ((chosen >= 0).sum(axis=1) <= 3).all()


def test_combination_environment_finds_a_planted_interaction() -> None:
    problem = problem_from_answers({"action_structure": "combination", "action_space": "many", "n_actions": 81,
                                    "slate_size": 4}, rounds=10, reps=2)
    env = envs.Combination(problem, np.random.default_rng(0))
    env.weights[:] = 0.0
    pairs = env.pairs.tolist()
    block = problem.slate_size * problem.n_arms + pairs.index([1, 3]) * problem.n_arms ** 2
    env.weights[:, block + 2 * problem.n_arms + 1] = 3.0  # component 1 = value 2 with component 3 = value 1
    page = np.array([[0, 2, 0, 1], [0, 1, 0, 2]])
    value = env.expected(page)
    assert value[0] > value[1]
    assert value[0] == pytest.approx(1 / (1 + np.exp(-(env.base + 3.0))))


def test_dueling_regret_is_zero_only_for_the_best_pair() -> None:
    problem = problem_from_answers({"feedback": "pairwise", "n_actions": 3}, rounds=10, reps=1)
    env = envs.Dueling(problem, np.random.default_rng(0))
    env.u[:] = [[0.2, 0.9, 0.5]]
    env.best = env.u.max(axis=1)
    best_pair = env.step(0, np.array([[1, 1]]), None)
    other = env.step(0, np.array([[1, 2]]), None)
    assert best_pair.optimal[0] and not other.optimal[0]
    # eps(best, 1) + eps(best, 2), eps(b, i) = P(b beats i) - 1/2: 0 + (0.7 - 0.5)
    assert other.best[0] - other.value[0] == pytest.approx(0.2)


# --- policies -------------------------------------------------------------------------------------------------------

def budget_problem(rounds: int = 4000, reps: int = 20) -> Problem:
    return problem_from_answers({"constraints": "budget", "n_actions": 6}, rounds=rounds, reps=reps)


@pytest.mark.parametrize("policy_id", ["ucb-bwk", "ts-pricing-inventory"])
def test_budget_policies_make_the_budget_last_and_beat_random(policy_id: str) -> None:
    problem = budget_problem()
    learner = race_one(policy_id, problem)
    uniform = race_one("uniform-random", problem)
    assert learner.final_regret.mean() < 0.5 * uniform.final_regret.mean()
    assert learner.last_reward.mean() > 0  # still earning in the last 10% of rounds: the budget lasted
    assert uniform.last_reward.mean() == 0  # spending without a plan runs dry


def test_budgeted_environment_never_overspends() -> None:
    problem = budget_problem(2000, 10)
    env = envs.Budgeted(problem, np.random.default_rng(1))
    for t in range(problem.rounds):
        env.step(t, np.zeros(problem.reps, dtype=np.int64), None)  # always the same arm
    assert np.all(env.spent <= problem.budget + 1)


def test_conservative_ucb_stays_above_the_baseline_where_ucb1_does_not() -> None:
    problem = problem_from_answers({"constraints": "safety", "n_actions": 5}, rounds=4000, reps=20)
    world = fixed_arms([0.5, 0.1, 0.1, 0.2, 0.6])  # today's default (arm 0) is good; one arm is better
    safe = race_one("conservative-ucb", problem, environment=world)
    ucb = race_one("ucb1", problem, environment=world)
    assert safe.below_baseline is not None and ucb.below_baseline is not None
    assert safe.below_baseline.mean() == 0.0
    assert ucb.below_baseline.mean() > 0.01


def test_conservative_linucb_stays_above_the_baseline() -> None:
    problem = problem_from_answers({"constraints": "safety", "context": "linear", "n_actions": 5, "n_features": 4},
                                   rounds=3000, reps=10)
    safe = race_one("conservative-linucb", problem)
    uniform = race_one("uniform-random", problem)
    assert safe.below_baseline is not None and uniform.below_baseline is not None
    assert safe.below_baseline.mean() < 0.01 < uniform.below_baseline.mean()
    assert safe.final_regret.mean() < 0.3 * uniform.final_regret.mean()


@pytest.mark.parametrize("policy_id", ["rucb", "double-ts"])
def test_dueling_policies_find_the_condorcet_winner(policy_id: str) -> None:
    problem = problem_from_answers({"feedback": "pairwise", "n_actions": 5}, rounds=3000, reps=20)

    def world(problem: Problem, rng: np.random.Generator) -> envs.Environment:
        env = envs.Dueling(problem, rng)
        env.u[:] = [0.2, 0.4, 0.5, 0.6, 0.8]
        env.best = env.u.max(axis=1)
        return env
    learner = race_one(policy_id, problem, environment=world)
    uniform = race_one("uniform-random-pair", problem, environment=world)
    assert learner.final_regret.mean() < 0.3 * uniform.final_regret.mean()
    assert learner.optimal.mean() > 0.5  # most late duels are the winner against itself


def test_mnl_thompson_learns_the_revenue_maximising_assortment() -> None:
    problem = problem_from_answers({"action_structure": "assortment", "action_space": "many", "n_actions": 12,
                                    "slate_size": 3, "reward_type": "continuous"}, rounds=4000, reps=20)
    learner = race_one("mnl-ts", problem)
    uniform = race_one("uniform-random-assortment", problem)
    assert learner.final_regret.mean() < 0.15 * uniform.final_regret.mean()
    assert learner.optimal.mean() > 0.5


def test_mvt_ts_learns_interactions_on_a_large_page_space() -> None:
    # 5 components x 4 values = 1,024 pages: hill climbing, not enumeration
    problem = problem_from_answers({"action_structure": "combination", "action_space": "many", "n_actions": 1024,
                                    "slate_size": 5}, rounds=3000, reps=10)
    assert problem.n_arms ** problem.slate_size == 1024
    learner = race_one("mvt-ts", problem)
    uniform = race_one("uniform-random-combination", problem)
    assert learner.final_regret.mean() < 0.6 * uniform.final_regret.mean()
    assert learner.last_reward.mean() > 2 * uniform.last_reward.mean()


def test_delayed_conversions_estimate_is_not_biased_by_pending_conversions() -> None:
    # long delays: at any time many conversions are on their way; counting them as failures halves the rate
    problem = problem_from_answers({"feedback_delay": "delayed", "n_actions": 2}, rounds=2000, reps=20)
    problem = Problem(**{**problem.__dict__, "mean_delay": 1000})
    policy = build("delayed-conversions-ucb", {"window": 5000}, "d")
    state = policy.init(problem, np.random.default_rng(1))
    env = envs.Arms(problem, np.random.default_rng(9))
    env.logits[:] = 0.0  # both arms convert half of the time
    pending, delays, reps = Pending(), states_from(np.random.default_rng(2), problem.reps), np.arange(problem.reps)
    for t in range(problem.rounds):  # the runner's loop, keeping the policy's state for inspection
        action = policy.select(state, None)
        state.t += 1
        outcome = env.step(t, action, None)
        deliver(problem, t, delays, pending, reps, action, outcome.observation, None, state.aux, None)
        due = pending.due(t + 1)
        if due is not None:
            policy.update(state, due)
    books = conversion_books(state)
    assert books["q"].tolist() == [0.999] * 20 and books["q_window"][0] == pytest.approx(0.999 ** 5000)
    revealed = books["old"] * (1 - books["q_window"][:, None]) + books["in_window"] - books["decay"]
    corrected = state.sums.sum() / revealed.sum()
    naive = state.sums.sum() / state.counts.sum()
    assert abs(corrected - 0.5) < 0.03
    assert naive < 0.4


def test_queued_ucb_learns_like_its_base_under_delays() -> None:
    problem = problem_from_answers({"feedback_delay": "delayed", "n_actions": 3}, rounds=4000, reps=20)
    world = fixed_arms([0.1, 0.3, 0.5])
    learner = race_one("delayed-ucb", problem, environment=world)
    base = race_one("ucb1", problem, environment=world)
    uniform = race_one("uniform-random", problem, environment=world)
    assert learner.final_regret.mean() < 0.3 * uniform.final_regret.mean()
    assert learner.final_regret.mean() < 1.3 * base.final_regret.mean()  # delays cost it no more than its base


def test_logistic_thompson_uses_the_context() -> None:
    problem = problem_from_answers({"context": "linear", "n_actions": 5, "n_features": 5}, rounds=3000, reps=20)
    learner = race_one("logistic-ts", problem)
    blind = race_one("uniform-random", problem)
    assert learner.final_regret.mean() < 0.4 * blind.final_regret.mean()


def test_problem_kinds_follow_the_profile() -> None:
    assert problem_from_answers({"constraints": "budget"}).kind == "budget"
    assert problem_from_answers({"constraints": "budget"}).budget_rate > 0
    assert problem_from_answers({"feedback": "pairwise", "n_actions": 400}).n_arms == 50
    combination = problem_from_answers({"action_structure": "combination", "action_space": "many",
                                        "n_actions": 48, "slate_size": 4})
    assert (combination.kind, combination.slate_size, combination.n_arms) == ("combination", 4, 3)
    assert any("81 combinations" in note for note in combination.notes)
    safety_list = problem_from_answers({"constraints": "safety", "action_structure": "slate", "action_space": "many"})
    assert any("safety" in note for note in safety_list.notes)


def test_pareto_regret_is_zero_on_the_front_and_the_smallest_lift_off_it() -> None:
    vectors = np.array([[[0.9, 0.1], [0.1, 0.9], [0.5, 0.5], [0.4, 0.3]]])
    assert np.allclose(envs.pareto_gaps(vectors)[0], [0, 0, 0, 0.1])  # arm 3 needs +0.1 to escape arm 2
    problem = problem_from_answers({"multi_objective": "yes", "n_actions": 4}, rounds=10, reps=1)
    env = envs.MultiObjective(problem, np.random.default_rng(0))
    env.vectors[:], env.pareto_gap = vectors, envs.pareto_gaps(vectors)
    on_front, off = env.step(0, np.array([2]), None), env.step(0, np.array([3]), None)
    assert on_front.optimal[0] and on_front.best[0] == on_front.value[0]
    assert not off.optimal[0] and off.best[0] - off.value[0] == pytest.approx(0.1)


@pytest.mark.parametrize("policy_id, margin", [("pareto-ucb", 0.4), ("scalarized-ucb", 0.7)])
def test_multi_objective_policies_reach_the_pareto_front(policy_id: str, margin: float) -> None:
    # scalarised UCB splits its data over 11 weightings, so it learns more slowly
    problem = problem_from_answers({"multi_objective": "yes", "n_actions": 8}, rounds=3000, reps=20)
    learner = race_one(policy_id, problem)
    uniform = race_one("uniform-random", problem)
    assert learner.final_regret.mean() < margin * uniform.final_regret.mean()

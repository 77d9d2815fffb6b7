"""Adapter simulators: a contract every adapter meets around every base the catalog lets it wrap, behaviour from
each adapter's paper with seeds and margins a broken wrapper cannot meet, and compositions in the race."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pytest
from typer.testing import CliRunner

from banditmap.catalog.loading import load_catalog
from banditmap.cli.app import app
from banditmap.errors import BanditmapError
from banditmap.model import Profile
from banditmap.recommend.candidates import specs
from banditmap.recommend.race import choose
from banditmap.sim import environments as envs
from banditmap.sim import known_simulators
from banditmap.sim.adapters import ADAPTERS, build_wrapper, chain_gap, chain_kinds
from banditmap.sim.bench import race
from banditmap.sim.stats import paired_difference
from banditmap.sim.policies import REGISTRY, Policy, build
from banditmap.sim.problem import Problem, problem_from_answers
from banditmap.sim.runner import Run, RunSpec, run, streams

CATALOG = load_catalog()
World = Callable[[Problem, np.random.Generator], envs.Environment]


def wrapped(adapter: str, base: str, base_params: dict[str, Any] | None = None, **params: Any) -> Policy:
    return build_wrapper(adapter, build(base, base_params or {}, base), params, adapter)


def race_one(policy: Policy, problem: Problem, seed: int, environment: World | None = None) -> Run:
    spec = RunSpec("candidate", "candidate", policy)
    return run(spec, problem, seed) if environment is None else run(spec, problem, seed, environment=environment)


def bernoulli_arms(means: list[float], switch_to: list[float] | None = None, at: int = 0) -> World:
    """K Bernoulli arms with these means in every repetition; they jump to `switch_to` at round `at`."""
    def logits(p: list[float]) -> np.ndarray:
        return np.log(np.asarray(p) / (1 - np.asarray(p)))

    class Switching(envs.Arms):
        def _move(self, t: int) -> None:
            if switch_to is not None and t == at:
                self.logits = np.broadcast_to(logits(switch_to), self.logits.shape).copy()

    def make(problem: Problem, rng: np.random.Generator) -> envs.Environment:
        env = Switching(problem, rng)
        env.logits = np.broadcast_to(logits(means), (problem.reps, len(means))).copy()
        return env
    return make


# --- the contract: every adapter simulator around every base the catalog lets it wrap -------------------------

ANSWERS = {
    "arms": {"n_actions": 4},
    "contextual": {"context": "linear", "n_features": 3, "n_actions": 4},
    "cascade": {"action_structure": "ranking", "action_space": "many", "n_actions": 20, "slate_size": 3},
    "dueling": {"feedback": "pairwise", "n_actions": 4},
    "multi": {"multi_objective": "yes", "n_actions": 4},
}


class Checked(envs.Environment):
    """Passes everything to the problem's environment, after checking each action: its shape, whole numbers in
    range, and distinct items in a list."""

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        self.inner = envs.make_environment(problem, rng)
        self.problem = problem

    def context(self, t: int) -> np.ndarray | None:
        return self.inner.context(t)

    def step(self, t: int, action: np.ndarray, context: np.ndarray | None) -> envs.Outcome:
        action = np.asarray(action)
        shape = (self.problem.reps,) + {"cascade": (self.problem.slate_size,), "dueling": (2,)}.get(
            self.problem.kind, ())
        assert action.shape == shape and np.issubdtype(action.dtype, np.integer), (action.shape, action.dtype)
        assert action.min() >= 0 and action.max() < self.problem.n_arms
        if self.problem.kind == "cascade":
            assert all(len(set(row)) == len(row) for row in action.tolist())
        return self.inner.step(t, action, context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def pairs() -> list[tuple[str, str, str]]:
    """(adapter simulator, base simulator, problem kind) for every catalog adapter with a simulator and every
    registered policy offering what the adapter requires, on each kind they run on together."""
    out = []
    for adapter in CATALOG.adapters:
        if not adapter.simulator:
            continue
        for simulator, cls in sorted(REGISTRY.items()):
            if set(adapter.requires) <= cls.offers | {"policy"}:
                kinds = chain_kinds(cls, [ADAPTERS[adapter.simulator]])
                out += [(adapter.simulator, simulator, kind) for kind in sorted(kinds & set(ANSWERS))]
    return out


PAIRS = pairs()


def test_every_simulated_entry_backs_the_capabilities_the_catalog_claims() -> None:
    for algorithm in CATALOG.algorithms:
        if algorithm.simulator:
            claimed = set(algorithm.provides) - {"policy"}
            assert claimed <= REGISTRY[algorithm.simulator].offers, (algorithm.id, claimed)


@pytest.mark.parametrize("adapter, base, kind", PAIRS, ids=["-".join(p) for p in PAIRS])
def test_every_adapter_wraps_every_base_that_meets_its_requirements(adapter: str, base: str, kind: str) -> None:
    assert chain_gap(REGISTRY[base], [ADAPTERS[adapter]]) is None  # the wrapper finds what it needs
    answers: dict[str, Any] = dict(ANSWERS[kind])
    if adapter == "conservative":
        answers["constraints"] = "safety"
    for delay in ("immediate", "delayed"):
        problem = problem_from_answers({**answers, "feedback_delay": delay}, rounds=40, reps=3)
        policy = wrapped(adapter, base)
        assert kind in policy.kinds
        result = run(RunSpec(adapter, adapter, policy), problem, 0, environment=Checked)
        assert np.isfinite(result.final_regret).all()


def test_every_adapter_simulator_runs_with_some_catalog_base_and_is_named_by_the_catalog() -> None:
    assert {a for a, _, _ in PAIRS} == {a.simulator for a in CATALOG.adapters if a.simulator}
    assert {a.simulator for a in CATALOG.adapters if a.simulator} <= set(known_simulators(adapters=True))
    assert known_simulators(adapters=True) == tuple(sorted(ADAPTERS))


def test_a_wrapper_refuses_hyperparameters_outside_their_domains() -> None:
    with pytest.raises(BanditmapError, match="sliding-window.window: expected a whole number"):
        wrapped("sliding-window", "ucb1", window=0)
    with pytest.raises(BanditmapError, match="unknown hyperparameter 'gama'"):
        wrapped("discounting", "ucb1", gama=0.5)
    with pytest.raises(BanditmapError, match="no adapter simulator 'window'"):
        build_wrapper("window", build("ucb1", {}, "ucb1"), {}, "x")


@pytest.mark.parametrize("adapter, native, answers", [
    ("delay-queue", "delayed-ucb", {"feedback_delay": "delayed"}),
    ("conservative", "conservative-ucb", {"constraints": "safety", "reward_type": "continuous"}),
])
def test_around_ucb1_a_wrapper_plays_like_the_hand_written_policy(adapter: str, native: str,
                                                                   answers: dict[str, Any]) -> None:
    """The catalog's delayed-ucb is QPM-D around UCB1 and conservative-ucb is Wu et al.'s check around UCB1,
    written by hand: the generic wrappers around UCB1 must play like them. They decide alike but not draw for draw
    (UCB1 breaks its ties with its own stream), so on the same worlds (60 repetitions, seed 1) the paired 95%
    interval of the difference in final regret includes 0 and the means agree to 10%."""
    problem = problem_from_answers({"n_actions": 5, **answers}, rounds=2000, reps=60)
    composed = race_one(wrapped(adapter, "ucb1"), problem, 1).final_regret
    written = race_one(build(native, {}, native), problem, 1).final_regret
    gap, half_width = paired_difference(composed, written)
    assert half_width is not None and abs(gap) <= half_width, (gap, half_width)
    assert abs(composed.mean() - written.mean()) <= 0.1 * written.mean()


# --- the sliding window and discounting recover after an abrupt change where their base does not -------------
# Garivier and Moulines (2011): the best arm (0.9) falls to 0.3 half-way, below an arm of 0.5. A base with its
# whole history keeps trusting the old best arm; windowed or discounted statistics follow the change.

@pytest.mark.parametrize("adapter, params", [("sliding-window", {"window": 500}), ("discounting", {"gamma": 0.995})])
@pytest.mark.parametrize("base", ["ucb1", "kl-ucb"])
def test_forgetting_wrappers_recover_after_a_change_where_the_base_does_not(adapter: str, params: dict[str, Any],
                                                                            base: str) -> None:
    T, change = 6000, 3000
    problem = problem_from_answers({"n_actions": 3, "environment": "abrupt"}, rounds=T, reps=20)
    world = bernoulli_arms([0.9, 0.5, 0.1], [0.3, 0.5, 0.1], at=change)
    forgetful = race_one(wrapped(adapter, base, **params), problem, 4, world)
    stubborn = race_one(build(base, {}, base), problem, 4, world)

    def after_change(r: Run) -> float:
        curve = r.regret.mean(axis=0)
        return float(curve[-1] - curve[int(np.searchsorted(r.rounds, change))])

    # seed 4, 20 repetitions: after the change the bases lose 509 (ucb1) and 562 (kl-ucb) of at most 600;
    # the windowed ones 209 and 110, the discounted ones 279 and 159
    assert after_change(stubborn) > 0.5 * 0.2 * (T - change)  # the base keeps playing the fallen arm
    assert after_change(forgetful) < 0.6 * after_change(stubborn)


# --- the delay queue's extra regret grows with the delay, not with the horizon --------------------------------
# Joulani, Gyorgy and Szepesvari (2013): in stochastic problems QPM-D adds to the base's regret a term that
# depends on the rewards outstanding, not a factor on the horizon.

DELAY_MEANS = list(np.linspace(0.05, 0.9, 10))


def queue_regret(rounds: int, mean_delay: int) -> np.ndarray:
    delay = "delayed" if mean_delay else "immediate"
    problem = problem_from_answers({"n_actions": 10, "feedback_delay": delay}, rounds=rounds, reps=40)
    problem = replace(problem, mean_delay=max(mean_delay, 1))
    return race_one(wrapped("delay-queue", "thompson-beta"), problem, 3, bernoulli_arms(DELAY_MEANS)).final_regret


def test_the_delay_queues_extra_regret_grows_with_the_delay_not_the_horizon() -> None:
    extra = {}
    for rounds in (1000, 4000):
        immediate = queue_regret(rounds, 0)
        for mean_delay in (10, 160):
            extra[rounds, mean_delay] = float((queue_regret(rounds, mean_delay) - immediate).mean())
    # seed 3, 40 repetitions, geometric delays: 3.5 and 28.2 after 1,000 rounds, 2.7 and 24.2 after 4,000
    for rounds in (1000, 4000):
        assert extra[rounds, 160] > 3 * extra[rounds, 10] + 10  # sixteen times the delay costs much more
    for mean_delay in (10, 160):
        assert extra[4000, mean_delay] < 1.3 * extra[1000, mean_delay] + 3  # four times the horizon does not


# --- ranked bandits learn every position ------------------------------------------------------------------------
# Radlinski, Kleinberg and Joachims (2008): position i's instance is rewarded only for a click on its own pick
# with none above, so it learns the best item given what the positions above show: with independent
# attractions, the i-th most attractive item.

ATTRACTION = [0.05, 0.5, 0.05, 0.7, 0.05, 0.3]


def recording_cascade(shown: np.ndarray) -> World:
    """The cascade with these attractions; counts (R, k, items) which item each position shows in the last 10%."""
    class Recording(envs.Cascade):
        def step(self, t: int, action: np.ndarray, context: np.ndarray | None) -> envs.Outcome:
            if t >= 0.9 * self.problem.rounds:
                np.add.at(shown, (np.arange(self.R)[:, None], np.arange(self.k)[None, :], action), 1)
            return super().step(t, action, context)

    def make(problem: Problem, rng: np.random.Generator) -> envs.Environment:
        env = Recording(problem, rng)
        env.w = np.broadcast_to(np.asarray(ATTRACTION), (problem.reps, len(ATTRACTION))).copy()
        env.best_value = 1 - np.prod(1 - np.sort(env.w, axis=1)[:, ::-1][:, :env.k], axis=1)
        return env
    return make


@pytest.mark.parametrize("base, share", [("exp3", 0.7), ("thompson-beta", 0.9)])
def test_ranked_bandits_learn_every_position(base: str, share: float) -> None:
    problem = problem_from_answers({"action_structure": "ranking", "action_space": "many",
                                    "n_actions": len(ATTRACTION), "slate_size": 3}, rounds=8000, reps=20)
    shown = np.zeros((problem.reps, 3, len(ATTRACTION)))
    result = race_one(wrapped("ranked-bandits", base), problem, 5, recording_cascade(shown))
    right = np.argsort(ATTRACTION)[::-1][:3]  # items 3, 1, 5
    # seed 5, 20 repetitions, last 800 rounds: exp3 shows the right item 92%, 90% and 74% of the time at
    # positions 1-3, thompson-beta 100%, 99% and 98%; uniform lists would show it 17%
    assert (shown.argmax(axis=2) == right[None, :]).all()  # every repetition, every position
    assert (shown[:, np.arange(3), right] / shown.sum(axis=2)).mean(axis=0).min() >= share
    uniform = race_one(build("uniform-random-list", {}, "u"), problem, 5, recording_cascade(np.zeros_like(shown)))
    assert result.final_regret.mean() < 0.35 * uniform.final_regret.mean()


# --- the conservative wrapper never falls under the baseline budget ----------------------------------------------
# Wu, Shariff, Lattimore and Szepesvari (2016): the running reward stays above (1 - alpha) x the default arm's
# in every repetition, while the base alone falls under it early on; and it still learns. The guarantee rests on
# the base's bounds: LinUCB's are valid for 0/1 rewards, not for unbounded noise.

@pytest.mark.parametrize("base, answers", [
    ("ucb1", {"n_actions": 5, "reward_type": "continuous"}),
    ("kl-ucb", {"n_actions": 5, "reward_type": "continuous"}),
    ("linucb", {"n_actions": 5, "context": "linear", "n_features": 5}),
])
def test_the_conservative_wrapper_never_falls_under_the_baseline_budget(base: str, answers: dict[str, Any]) -> None:
    problem = problem_from_answers({**answers, "constraints": "safety"}, rounds=3000, reps=30)
    alone = race_one(build(base, {}, base), problem, 7)
    safe = race_one(wrapped("conservative", base, alpha=0.1), problem, 7)
    assert alone.below_baseline is not None and safe.below_baseline is not None
    # seed 7, 30 repetitions: the bases alone fall under the budget in 37%, 37% and 73% of the repetitions;
    # wrapped, their regret is 349, 97 and 241 where playing the default always loses 552, 552 and 780
    assert safe.below_baseline.max() == 0.0  # in no round of any repetition
    assert (alone.below_baseline > 0).mean() >= 0.3
    # and it is not the default arm forever: the default alone would lose its whole gap every round
    env = envs.make_environment(problem, streams(7, "")[0])
    default_regret = np.zeros(problem.reps)
    for t in range(problem.rounds):
        context = env.context(t)
        means = env.expected(context)  # type: ignore[attr-defined]
        default_regret += means.max(axis=1) - means[:, 0]
    assert safe.final_regret.mean() < 0.75 * default_regret.mean()


# --- sparring finds the Condorcet winner ----------------------------------------------------------------------
# Ailon, Karnin and Joachims (2014): two copies of the base, each rewarded by the duel's outcome, both settle on
# the option that beats every other (here the one of utility 0.8 under a linear Bradley-Terry model).

UTILITY = [0.3, 0.5, 0.8, 0.6, 0.1]


def recording_duels(shown: np.ndarray) -> World:
    class Recording(envs.Dueling):
        def step(self, t: int, action: np.ndarray, context: np.ndarray | None) -> envs.Outcome:
            if t >= 0.9 * self.problem.rounds:
                np.add.at(shown, (np.repeat(np.arange(self.R), 2), action.ravel()), 1)
            return super().step(t, action, context)

    def make(problem: Problem, rng: np.random.Generator) -> envs.Environment:
        env = Recording(problem, rng)
        env.u = np.broadcast_to(np.asarray(UTILITY), (problem.reps, len(UTILITY))).copy()
        env.best = env.u.max(axis=1)
        return env
    return make


@pytest.mark.parametrize("base, share", [("ucb1", 0.8), ("exp3", 0.85), ("thompson-beta", 0.9)])
def test_sparring_finds_the_condorcet_winner(base: str, share: float) -> None:
    problem = problem_from_answers({"feedback": "pairwise", "n_actions": len(UTILITY)}, rounds=5000, reps=30)
    shown = np.zeros((problem.reps, len(UTILITY)))
    result = race_one(wrapped("sparring", base), problem, 5, recording_duels(shown))
    winner = int(np.argmax(UTILITY))
    # seed 5, 30 repetitions, last 500 duels: the winner is 86% (ucb1), 91% (exp3), 98% (thompson-beta) of the
    # options shown; uniform pairs show it 20% of the time
    assert (shown.argmax(axis=1) == winner).all()
    assert (shown[:, winner] / shown.sum(axis=1)).mean() >= share
    uniform = race_one(build("uniform-random-pair", {}, "u"), problem, 5, recording_duels(np.zeros_like(shown)))
    assert result.final_regret.mean() < 0.3 * uniform.final_regret.mean()


# --- scalarisation, robust means, best arm from counts, restarts ------------------------------------------------

def test_scalarisation_reaches_the_pareto_front() -> None:
    """Drugan and Nowe (2013): UCB1 on a weighted sum of the metrics plays Pareto-optimal arms."""
    problem = problem_from_answers({"multi_objective": "yes", "n_actions": 6}, rounds=3000, reps=20)
    fixed = race_one(wrapped("scalarization", "ucb1"), problem, 2)
    spread = race_one(wrapped("scalarization", "ucb1", vectors=5), problem, 2)
    uniform = race_one(build("uniform-random", {}, "u"), problem, 2)
    # seed 2, 20 repetitions: Pareto regret 64 (one weight vector) and 137 (five), uniform play 344
    assert fixed.final_regret.mean() < 0.3 * uniform.final_regret.mean()
    assert spread.final_regret.mean() < 0.5 * uniform.final_regret.mean()


def test_robust_means_around_ucb1_are_the_papers_robust_ucb() -> None:
    """Bubeck, Cesa-Bianchi and Lugosi (2013): truncated means and their width replace UCB1's index, so the
    composition plays like the catalog's robust-ucb, whatever the base's own bonus."""
    problem = problem_from_answers({"reward_type": "heavy_tailed", "n_actions": 5}, rounds=3000, reps=20)
    composed = [race_one(wrapped("robust-mean", base), problem, 2).final_regret.mean() for base in ("ucb1", "kl-ucb")]
    native = race_one(build("robust-ucb", {}, "r"), problem, 2).final_regret.mean()
    uniform = race_one(build("uniform-random", {}, "u"), problem, 2).final_regret.mean()
    assert all(abs(c - native) <= 0.01 * native for c in composed) and native < 0.8 * uniform


@pytest.mark.parametrize("base", ["ucb1", "thompson-beta"])
def test_the_most_played_arm_is_named_as_the_best(base: str) -> None:
    """Bubeck, Munos and Stoltz (2009): a regret minimiser's most played arm, after enough rounds, is the best."""
    problem = problem_from_answers({"objective": "best_arm", "n_actions": 4}, rounds=2000, reps=40)
    result = race_one(wrapped("best-arm-from-counts", base), problem, 2, bernoulli_arms([0.2, 0.35, 0.5, 0.7]))
    assert result.identified is not None and result.identified.mean() >= 0.95  # seed 2: 100% for both


def test_restarts_let_exponential_weights_follow_a_change() -> None:
    """Besbes, Gur and Zeevi (2014): EXP3 restarted every batch competes with each batch's best arm."""
    problem = problem_from_answers({"n_actions": 3, "environment": "abrupt"}, rounds=6000, reps=20)
    world = bernoulli_arms([0.9, 0.5, 0.1], [0.3, 0.5, 0.1], at=3000)
    results = [race_one(p, problem, 4, world) for p in (wrapped("restarts", "exp3", batch=1000),
                                                        build("exp3", {}, "e"))]
    after = [float(r.regret.mean(axis=0)[-1] - r.regret.mean(axis=0)[int(np.searchsorted(r.rounds, 3000))])
             for r in results]
    assert after[0] < 0.5 * after[1]  # seed 4, 20 repetitions: 152 against 596 after the change


def test_an_adapter_naming_an_unknown_simulator_is_one_line(tmp_path: Any) -> None:
    import yaml

    from banditmap.catalog.loading import builtin_dir
    raw = yaml.safe_load((builtin_dir() / "adapters" / "reductions.yaml").read_text(encoding="utf-8"))
    entry = next(a for a in raw["adapters"] if a["id"] == "discounting")
    entry["simulator"] = "window-9000"
    (tmp_path / "adapters").mkdir()
    path = tmp_path / "adapters" / "mine.yaml"
    path.write_text(yaml.safe_dump({"adapters": [entry]}, sort_keys=False), encoding="utf-8")
    for args in (["-a", "ucb1+discounting"], ["--set", "environment=abrupt", "--top", "50"]):
        out = bench("--catalog", str(tmp_path), "--set", "n_actions=4", *args, *SMALL)
        assert out.exit_code == 2 and out.stderr.count("\n") == 1, out.output
        assert str(path) in out.stderr and "simulator: adapter 'discounting' names simulator 'window-9000'" \
            in out.stderr and "expected one of assortment-as-slate, best-arm-from-counts" in out.stderr


# --- compositions in the race -----------------------------------------------------------------------------------

SMALL = ["--rounds", "300", "--reps", "4", "--no-timings", "--format", "json"]


def bench(*args: str) -> Any:
    return CliRunner().invoke(app, ["bench", *args])


def test_bench_races_compositions_from_the_shortlist() -> None:
    problem = problem_from_answers({"feedback_delay": "delayed", "constraints": "safety", "n_actions": 4},
                                   rounds=300, reps=4)
    profile = Profile({"feedback_delay": "delayed", "constraints": "safety", "n_actions": 4})
    chosen, skipped = choose(CATALOG, profile, problem, None, 5, True)
    composed = [c for c in chosen if "+" in c[0]]
    assert composed and all(c[2].count("+") == c[0].count("+") for c in composed)
    assert all(" + " in name for _, name, _ in composed)
    assert any("has no simulator yet" in why for _, why in skipped)
    result = race(specs(CATALOG, chosen, {}), problem, 0)
    assert {r.id for r in result.results} == {c[0] for c in chosen}


def test_bench_names_a_composition_and_its_parameters() -> None:
    out = bench("--set", "environment=abrupt", "--set", "n_actions=4", "-a", "ucb1+sliding-window",
                "--param", "ucb1+sliding-window.window=100", "--param", "ucb1+sliding-window.ucb1.alpha=1", *SMALL)
    assert out.exit_code == 0, out.output
    first = json.loads(out.stdout)["algorithms"]
    raced = next(a for a in first if a["id"] == "ucb1+sliding-window")
    assert raced["name"] == "UCB1 + Sliding window"
    assert raced["params"] == {"ucb1.alpha": 1.0, "sliding-window.window": 100}


@pytest.mark.parametrize("args, message", [
    (["-a", "ucb2+sliding-window"], "--algorithms: 'ucb2+sliding-window': unknown base algorithm 'ucb2'"),
    (["-a", "ucb1+slide"], "--algorithms: 'ucb1+slide': unknown adapter 'slide'; expected one of"),
    (["-a", "thompson-beta+sliding-window"], "adapter 'sliding-window' requires confidence-bounds, which "
                                             "thompson-beta does not provide"),
    (["-a", "ucb1+delay-queue+delay-queue"], "adapter 'delay-queue' is named twice"),
    (["-a", "ucb1+sparring+sliding-window"], "adapter 'sliding-window' requires arm-statistics, confidence-bounds, "
                                             "which ucb1+sparring does not provide (it provides policy)"),
    (["-a", "ucb1+restarts"], "adapter 'restarts' requires adversarial, which ucb1 does not provide"),
    (["-a", "ucb1+change-detection-restarts"], "--algorithms: 'ucb1+change-detection-restarts': "
                                               "change-detection-restarts has no simulator yet"),
    (["-a", "ucb1+sparring"], "ucb1+sparring: its simulator does not run on arms problems (it runs on dueling"),
    (["-a", "ucb1+conservative", "--param", "ucb1+conservative.alpha=0.5"],
     "--param ucb1+conservative.alpha: ucb1, conservative each have 'alpha'; name one as "
     "ucb1+conservative.ucb1.alpha"),
    (["-a", "ucb1+conservative", "--param", "ucb1+conservative.conservative.alpha=2"],
     "--param ucb1+conservative.conservative.alpha: expected a number from 0 to 1"),
    (["-a", "ucb1+conservative", "--param", "ucb1+conservative.window=2"],
     "unknown hyperparameter 'window'; expected one of ucb1.alpha, conservative.alpha"),
])
def test_bench_refuses_a_bad_composition_in_one_line(args: list[str], message: str) -> None:
    out = bench("--set", "n_actions=4", *args, *SMALL)
    assert out.exit_code == 2 and message in out.stderr and out.stderr.count("\n") == 1, out.stderr


def test_nearest_candidates_stay_skipped_and_replay_takes_single_action_compositions() -> None:
    from banditmap.recommend.replay import choose as replay_choose
    chosen, skipped = replay_choose(CATALOG, Profile({"constraints": "safety", "n_actions": 5}), None, 5)
    assert any("+" in s.id for s in chosen)  # compositions such as ucb1+conservative are replayed
    named, _ = replay_choose(CATALOG, Profile({}), ["ucb1+sliding-window"], 5)
    assert [s.id for s in named if s.id != "uniform-random"] == ["ucb1+sliding-window"]
    nearest = Profile({"context": "nonlinear", "constraints": "budget", "action_structure": "ranking",
                       "environment": "adversarial", "feedback": "pairwise"})
    problem = problem_from_answers(dict(nearest.answers), rounds=50, reps=2)
    with pytest.raises(BanditmapError):
        choose(CATALOG, nearest, problem, None, 5, True)  # nearest candidates only: nothing to race

"""The pseudoinverse estimator of slate policies: its closed forms against the pseudoinverse itself, its exact
expectation on enumerated slate spaces, its intervals on generated slate logs whose truth is known (uniform and
skewed logging, rare clicks), a policy equal to the logging policy not called better or worse, and the refusal of
malformed slate logs."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from banditmap.cli.app import app
from banditmap.errors import BanditmapError
from banditmap.ope import logs, slates, slateworld
from banditmap.ope.replay import ReplayResult, evaluate
from banditmap.ope.synthetic import LogEnvironment, LoggingPolicy
from banditmap.sim.policies import Feedback, Policy, State
from banditmap.sim.problem import Problem
from banditmap.sim.runner import RunSpec

Array = np.ndarray


# --- the estimator on enumerated slate spaces ------------------------------------------------------------------

def product_support(mu: Array) -> tuple[Array, Array]:
    """Every slate of a product logging distribution mu (L, m), and its probability."""
    slots, items = mu.shape
    support = np.array(list(itertools.product(range(items), repeat=slots)))
    return support, np.prod(mu[np.arange(slots), support], axis=1)


def uniform_support(items: int, slots: int) -> tuple[Array, Array]:
    """Every slate of distinct items, equally likely."""
    support = np.array(list(itertools.permutations(range(items), slots)))
    return support, np.full(len(support), 1.0 / len(support))


def marginals(support: Array, probabilities: Array, items: int) -> Array:
    """q (L, m) of a distribution over slates."""
    return (slates.indicators(support, items) * probabilities[:, None]).sum(axis=0).reshape(support.shape[1], items)


def cross_of(q: Array, logged: Array) -> Array:
    """q(j, s_k) (n, L, L) of marginals q (L, m) at logged slates (n, L)."""
    return q[:, logged].transpose(1, 0, 2)


@pytest.mark.parametrize("items, slots", [(4, 2), (3, 3), (5, 3)])
def test_the_independent_closed_form_is_the_pseudoinverse(items: int, slots: int) -> None:
    rng = np.random.default_rng(items * 10 + slots)
    mu = rng.dirichlet(np.ones(items), slots)
    support, probabilities = product_support(mu)
    target = rng.dirichlet(np.ones(items), slots)  # any policy's marginals
    exact = slates.pseudoinverse_weights(support, probabilities, target, support, items)
    closed = slates.independent_weights(target[np.arange(slots), support], mu[np.arange(slots), support])
    np.testing.assert_allclose(closed, exact, atol=1e-9)
    own = slates.independent_weights(mu[np.arange(slots), support], mu[np.arange(slots), support])
    np.testing.assert_allclose(own, 1.0)  # the logging policy's own weight: its PI value is the mean reward


@pytest.mark.parametrize("items, slots", [(4, 2), (3, 3), (5, 3), (6, 2)])
def test_the_uniform_closed_form_is_the_pseudoinverse(items: int, slots: int) -> None:
    rng = np.random.default_rng(items * 10 + slots)
    support, probabilities = uniform_support(items, slots)
    for target in (marginals(support[:1], np.ones(1), items),  # a deterministic slate
                   marginals(support[rng.choice(len(support), 4)], rng.dirichlet(np.ones(4)), items)):  # a mixture
        exact = slates.pseudoinverse_weights(support, probabilities, target, support, items)
        closed = slates.uniform_weights(cross_of(target, support), items)
        np.testing.assert_allclose(closed, exact, atol=1e-9)
    same = slates.uniform_weights(cross_of(np.full((slots, items), 1 / items), support), items)
    np.testing.assert_allclose(same, 1.0)  # the logging policy's own weight


@pytest.mark.parametrize("case", ["product", "uniform", "any"])
def test_pi_is_exact_in_expectation_under_linearity(case: str) -> None:
    """Sum over every logged slate of mu(s) r(s) w(s) is the target's value q . phi, for an additive reward."""
    items, slots = 4, 3
    rng = np.random.default_rng(5)
    if case == "product":
        support, probabilities = product_support(rng.dirichlet(np.ones(items), slots))
    elif case == "uniform":
        support, probabilities = uniform_support(items, slots)
    else:  # a logging distribution with no closed form: random weights over every slate of distinct items
        support, _ = uniform_support(items, slots)
        probabilities = rng.dirichlet(np.ones(len(support)))
    phi = rng.random((slots, items))  # slot j, item a contributes phi[j, a]
    reward = phi[np.arange(slots), support].sum(axis=1)
    target = marginals(support[[0, 5]], np.array([0.3, 0.7]), items)
    w = slates.pseudoinverse_weights(support, probabilities, target, support, items)
    assert (probabilities * reward * w).sum() == pytest.approx((target * phi).sum(), abs=1e-9)


# --- replay on generated slate logs ------------------------------------------------------------------------------

@dataclass(kw_only=True)
class Ranked(State):
    means: Array  # (R, K) fixed estimates: the slate is the items in this order
    counts: Array
    sums: Array

    def touch(self, index: Any) -> None:
        pass


@dataclass(frozen=True)
class Fixed(Policy[Any]):
    """Ranks the items by fixed estimates (item 0 first): its final slate is always (0, 1, ..., L - 1). It plays at
    at random while learning, so that replay keeps enough of its rounds to evaluate it."""

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        means = np.tile(-np.arange(problem.n_arms, dtype=float), (problem.reps, 1))
        return Ranked(rng=rng, R=problem.reps, K=problem.n_arms, means=means, counts=np.zeros_like(means),
                      sums=np.zeros_like(means))

    def select(self, state: State, context: Array | None) -> Array:
        return state.rng.integers(0, state.K, state.R)

    def update(self, state: State, feedback: Feedback) -> None:
        pass

    def statistics(self, state: Any) -> Any:
        return state


def world(seed: int, items: int = 5, slots: int = 3, bias: float = -2.3, spread: float = 0.5,
          binary: bool = True) -> slateworld.SlateWorld:
    rng = np.random.default_rng(seed)
    env = LogEnvironment(rng.normal(0, 0.3, (items, 2)), np.sort(rng.normal(bias, spread, items))[::-1], binary)
    return slateworld.SlateWorld.around(env, slots)


def run(path: Path, space: slateworld.SlateWorld, logging: str, n: int, seed: int) -> ReplayResult:
    slateworld.write_slate_log(path, space, LoggingPolicy(logging), n, seed)
    with logs.read_logs(path, seed=seed) as store:
        return evaluate(store, [RunSpec("fixed", "fixed", Fixed())], seed, holdout=0.3, method="weighted",
                        clip=1.0)


def truth(space: slateworld.SlateWorld) -> float:
    return slateworld.value(space, lambda x: np.tile(np.arange(space.slots), (len(x), 1)), 50_000,
                            np.random.default_rng(1))


def fixed_policy(result: ReplayResult) -> slates.SlatePolicy:
    assert result.slates is not None
    (policy,) = [p for p in result.slates.policies if p.id == "fixed"]
    return policy


def uniform_truth(space: slateworld.SlateWorld) -> float:
    items = space.env.n_actions
    return slateworld.marginal_value(space, lambda x: np.full((len(x), space.slots, items), 1 / items), 50_000,
                                     np.random.default_rng(1))


# Coverage: 50 seeds (25 uniform without replacement, 25 softmax slots filled independently), 600 slates each
# (180 held out): the PI intervals of the fixed slate and of uniformly random slates each cover their true value in
# at least 45 of 50 (a correct 95% interval misses more than 5 of 50 with probability 0.04). Measured: 50 and 50
# of 50, about 5 s on an idle machine.
def test_pi_intervals_cover_the_truth_on_generated_slate_logs(tmp_path: Path) -> None:
    started, covered, uniform_covered = time.perf_counter(), 0, 0
    for seed in range(50):
        space = world(seed)
        logging = "uniform" if seed % 2 else "softmax"
        result = run(tmp_path / f"s{seed}.csv", space, logging, 600, seed)
        assert result.slates is not None and result.slates.form == ("uniform" if seed % 2 else "independent")
        value = fixed_policy(result).value
        covered += value.low <= truth(space) <= value.high
        (uniform,) = [p.value for p in result.slates.policies if p.id == "uniform random"]
        uniform_covered += uniform.low <= uniform_truth(space) <= uniform.high
    print(f"coverage {covered}/50 and {uniform_covered}/50 in {time.perf_counter() - started:.1f} s")
    assert covered >= 45 and uniform_covered >= 45, (covered, uniform_covered)


# Rare clicks (0.5% per slot at the top): the bootstrap alone would collapse on slates without a click; the
# interval stays at least Wilson's, so it covers the truth in at least 18 of 20 seeds (20 at this commit).
def test_pi_intervals_hold_on_rare_clicks(tmp_path: Path) -> None:
    covered = 0
    for seed in range(20):
        space = world(seed, bias=-5.3, spread=0.2)
        result = run(tmp_path / f"r{seed}.csv", space, "uniform", 400, seed)
        value = fixed_policy(result).value
        assert value.high > value.low
        covered += value.low <= truth(space) <= value.high
    assert covered >= 18, covered


# A slate policy whose value equals the logging policy's (every item attracts alike) is called better or worse in
# at most 2 of 40 seeds (5%); the logging policy's own PI weight is 1, so uniform random on uniform logs ties exactly.
def test_a_policy_worth_the_logging_policy_is_not_called_better_or_worse(tmp_path: Path) -> None:
    called = 0
    for seed in range(40):
        space = world(seed, spread=0.0)
        space = slateworld.SlateWorld(LogEnvironment(np.zeros_like(space.env.theta), space.env.bias, True),
                                      space.examination)
        result = run(tmp_path / f"e{seed}.csv", space, "uniform" if seed % 2 else "softmax", 600, seed)
        called += slates.standing(fixed_policy(result)) in ("better", "worse")
        assert result.slates is not None
        (uniform,) = [p for p in result.slates.policies if p.id == "uniform random"]
        if seed % 2:
            assert slates.standing(uniform) == "cannot tell"
            assert uniform.value.value == pytest.approx(result.slates.logging.value)
    assert called <= 2, called


def test_a_better_slate_is_told_apart(tmp_path: Path) -> None:
    space = world(3, spread=0.0)
    bias = np.array([-1.0, -1.5, -3.0, -3.0, -3.0])  # items 0 and 1 are the best: the fixed slate beats logging
    space = slateworld.SlateWorld(LogEnvironment(np.zeros((5, 2)), bias, True), space.examination)
    result = run(tmp_path / "b.csv", space, "uniform", 8000, 0)
    assert slates.standing(fixed_policy(result)) == "better"


# --- slate logs refused ------------------------------------------------------------------------------------------

HEADER = "slate_id,item_id,position,click,propensity_score\n"
GOOD = ["a,0,1,0,0.25", "a,1,2,1,0.25", "b,2,1,0,0.25", "b,3,2,0,0.25"]


@pytest.mark.parametrize("rows, line, field, words", [
    (GOOD[:3] + ["b,3,1,0,0.25"], 5, "position", "already has a row at its position"),
    (GOOD[:1] + GOOD[2:], 2, "position", "the slate starting here has 1 (a slot is missing)"),
    (GOOD[:1] + GOOD[2:3] + GOOD[1:2] + GOOD[3:], 4, "slate_id", "this slate id was met before"),
    ([r.replace("0.25", "0.0625") for r in GOOD], 2, "propensity_score", "the whole slate's probability"),
    (["a,0,1,0,0.3", "a,1,2,1,0.3", "b,2,1,0,0.1", "b,3,2,0,0.1"], 2, "propensity_score", "one value"),
    (["a,0,1,0,0.25", "a,1,2,1,0.25", ",2,1,0,0.25", ",3,2,0,0.25"], 4, "slate_id", "expected a slate id"),
])
@pytest.mark.parametrize("chunk_rows", [1, 3, 100])
def test_malformed_slate_logs_are_refused_at_their_line(tmp_path: Path, rows: list[str], line: int, field: str,
                                                        words: str, chunk_rows: int) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    with pytest.raises(BanditmapError) as caught:
        logs.read_logs(path, chunk_rows=chunk_rows).close()
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {field}: ") and words in message, message


def test_the_cli_refuses_a_malformed_slate_log_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in GOOD[:3] + ["b,3,1,0,0.25"]))
    out = CliRunner().invoke(app, ["replay", str(path), "--algorithms", "ucb1"])
    assert out.exit_code == 2 and out.stdout == ""
    assert out.stderr.splitlines() == [f"banditmap: error: {path}:5: position: expected one row per position in each "
                                       "slate; this row's slate already has a row at its position"], out.stderr


def test_a_well_formed_slate_log_reads(tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in GOOD))
    with logs.read_logs(path, chunk_rows=3) as store:
        assert store.info.slate is not None and store.info.slate.slates == 2 and store.info.slate.form == "uniform"
        numbers = np.concatenate([c.slates for c in store.chunks() if c.slates is not None])
    assert numbers.tolist() == [0, 0, 1, 1]


def test_make_logs_writes_a_slate_log_that_replay_scores(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "slates.csv"
    made = runner.invoke(app, ["make-logs", str(path), "--usecase", "homepage-banner", "--rows", "2000", "--slate",
                               "3"])
    assert made.exit_code == 0, made.output
    assert path.read_text().splitlines()[0].startswith("slate_id,item_id,position,click,propensity_score")
    out = runner.invoke(app, ["replay", str(path), "--usecase", "homepage-banner", "--algorithms", "ucb1,linucb,lin-ts",
                              "--format", "json", "--no-timings"])
    assert out.exit_code == 0, out.output
    import json
    data = json.loads(out.stdout)
    assert data["schema"] == "banditmap.replay/4" and data["log"]["columns"]["slate"] == "slate_id"
    part = data["slates"]
    assert part["slots"] == 3 and part["logging_form"] == "uniform" and "linearity" in part["assumption"]
    assert {p["id"] for p in part["policies"]} == {"ucb1", "linucb", "lin-ts", "uniform random"}
    for p in part["policies"]:  # means (UCB1), bounds (LinUCB) and ridge predictions (lin-ts) all rank
        assert not p["problem"] and p["value"]["low"] <= p["value"]["value"] <= p["value"]["high"]
        assert p["standing"] in ("better", "worse", "cannot tell")
    assert data["verdict"][-1].startswith("Slates (PI on the 1,000 held-out slates")
    table = runner.invoke(app, ["replay", str(path), "--usecase", "homepage-banner", "--algorithms", "ucb1"])
    assert table.exit_code == 0, table.output
    assert "Slates (pseudoinverse estimator, held-out slates): 1,000 slates of 3 slots" in table.stdout
    assert "fills the 3 slots with its 3 best items" in table.stdout and "(linearity)" in table.stdout


def test_slates_are_not_scored_with_estimated_propensities(tmp_path: Path) -> None:
    path = tmp_path / "slates.csv"
    slateworld.write_slate_log(path, world(0), LoggingPolicy("uniform"), 300, 0)
    with logs.read_logs(path, estimate_propensities=True) as store:
        result = evaluate(store, [RunSpec("fixed", "fixed", Fixed())], 0)
    assert result.slates is not None and "estimated" in result.slates.problem and not result.slates.policies


def test_a_slate_log_needs_a_position_column(tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    path.write_text("slate_id,item_id,click,propensity_score\na,0,0,0.5\na,1,1,0.5\n")
    with pytest.raises(BanditmapError) as caught:
        logs.read_logs(path).close()
    assert str(caught.value).startswith(f"{path}: --slate-col: a slate log") and "position column" in str(caught.value)


def test_how_the_log_is_cut_into_chunks_changes_nothing(tmp_path: Path) -> None:
    """Slates cut by a chunk's end (7 rows a chunk, 3 slots a slate) are numbered, checked and scored whole."""
    path = tmp_path / "slates.csv"
    slateworld.write_slate_log(path, world(4), LoggingPolicy("softmax"), 500, 4)
    found = []
    for chunk_rows in (7, 100_000):
        with logs.read_logs(path, chunk_rows=chunk_rows) as store:
            assert store.info.slate is not None and store.info.slate.slates == 500
            found.append(evaluate(store, [RunSpec("fixed", "fixed", Fixed())], 0, method="weighted").slates)
    first, second = found
    assert first is not None and second is not None and first.slates == second.slates > 0
    for one, other in zip(first.policies, second.policies, strict=True):
        assert (one.id, one.value.value, one.gain.low) == (other.id, pytest.approx(other.value.value),
                                                           pytest.approx(other.gain.low))


def test_a_skewed_log_without_repeated_items_is_warned_about(tmp_path: Path) -> None:
    """Per-slot propensities of a ranking drawn without replacement are not those of independent slots: the closed
    form may be biased, and the report says so."""
    rng = np.random.default_rng(0)
    rows = []
    for slate in range(400):
        items = rng.permutation(4)[:2]
        rows += [f"{slate},{a},{j + 1},{int(rng.random() < 0.3)},{0.2 + 0.1 * a}" for j, a in enumerate(items)]
    path = tmp_path / "ranked.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    with logs.read_logs(path) as store:
        result = evaluate(store, [RunSpec("fixed", "fixed", Fixed())], 0, method="weighted")
    assert result.slates is not None and result.slates.form == "independent"
    assert any("drew a ranking without replacement" in w for w in result.slates.warnings)

"""Compositions: the shortest chain of adapters that makes a base handle every answer, honest about requires,
restricts and keeps; exact entries first at equal score; the nearest candidates when nothing fits; refusals of
adapters that could never be used."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banditmap.catalog.loading import builtin_dir, load_dirs
from banditmap.cli.app import app
from banditmap.model import Adapter, Algorithm, Catalog, Choice, Cost, Lift, Profile, Trait
from banditmap.recommend.compose import Composed, best_chain, candidate_chains, missing, parse_composite, wrap
from banditmap.recommend.matching import HANDLED, rank, score_table, shortlist

REFERENCE = """
    references:
      - {authors: [Ann Author, Bo Writer], year: 2011, title: A Paper, venue: Some Venue 2011, arxiv: "1101.0001"}
    cost: {decision: "O(1) on top of the base", memory: "O(K)"}
    implementations: none known
    caveats: [It costs regret.]
    simulator: null
"""


def adapter(id_: str, lifts: str, why: str, requires: str = "[policy]", extra: str = "") -> str:
    return textwrap.dedent(f"""
      - id: {id_}
        name: {id_.replace('-', ' ').title()}
        summary: Wraps the base.
        lifts: {lifts}
        requires: {requires}
        why: {why}
    """) + textwrap.indent(textwrap.dedent(REFERENCE) + extra, "  ")


ADAPTERS = "adapters:\n" + "".join([
    adapter("window", "{environment: {base: [stationary], gives: [abrupt]}}", "{environment: shown in section 3.}",
            "[policy, arm-statistics]", "keeps: [arm-statistics]\n"),
    adapter("queue", "{feedback_delay: {base: [immediate], gives: [delayed]}}", "{feedback_delay: theorem 1.}",
            extra="restricts: {delay_bound: [bounded]}\n"),
    adapter("duel", "{feedback: {base: [reward], gives: [pairwise]}}", "{feedback: section 4.}",
            extra="penalty: 4\n"),
])


def own_catalog(tmp_path: Path, adapters: str = ADAPTERS) -> Path:
    """The shipped traits and algorithms with these adapters only, so the tests do not move with the catalog's."""
    root = tmp_path / "cat"
    shutil.copytree(builtin_dir() / "algorithms", root / "algorithms")
    shutil.copy(builtin_dir() / "traits.yaml", root / "traits.yaml")
    (root / "adapters").mkdir()
    (root / "adapters" / "test.yaml").write_text(adapters)
    return root


@pytest.fixture
def composed_catalog(tmp_path: Path) -> Catalog:
    return load_dirs([own_catalog(tmp_path)])


def test_the_shortest_chain_that_handles_every_answer(composed_catalog: Catalog) -> None:
    ucb1 = composed_catalog.algorithm("ucb1")
    assert ucb1 is not None and "abrupt" not in ucb1.handles["environment"]
    answers = {"environment": "abrupt", "feedback_delay": "delayed", "reward_type": "binary"}
    chain = best_chain(ucb1, answers, composed_catalog)
    assert chain is not None and {a.id for a in chain} == {"window", "queue"}
    assert [a.id for a in chain] == ["window", "queue"]  # the queue keeps no arm statistics, so it goes outside
    assert best_chain(ucb1, {"reward_type": "binary"}, composed_catalog) == ()


def test_requires_restricts_and_a_value_no_adapter_lifts(composed_catalog: Catalog) -> None:
    linucb = composed_catalog.algorithm("linucb")
    assert linucb is not None and "arm-statistics" not in linucb.provides
    assert best_chain(linucb, {"environment": "abrupt", "context": "linear"}, composed_catalog) is None
    ucb1 = composed_catalog.algorithm("ucb1")
    assert ucb1 is not None
    indefinite = {"feedback_delay": "delayed", "delay_bound": "indefinite"}
    assert best_chain(ucb1, indefinite, composed_catalog) is None  # the queue handles bounded delays only
    assert best_chain(ucb1, {"constraints": "budget"}, composed_catalog) is None  # no adapter lifts budgets
    composed = wrap(ucb1, [composed_catalog.adapter("queue")])  # type: ignore[list-item]
    assert composed is not None and composed.handles["delay_bound"] == ("bounded",)
    assert composed.provides == frozenset({"policy"})


def test_composition_scores_and_reasons(composed_catalog: Catalog) -> None:
    profile = Profile({"environment": "abrupt", "reward_type": "binary", "action_space": "few",
                       "context": "none"})
    result = shortlist(profile, composed_catalog, compose=True)
    assert result.exact
    by_id = {m.id: m for m in result.ranked}
    exact = by_id["sw-ucb"]
    composed = by_id["ucb1+window"]
    assert not exact.composed and composed.composed and composed.adapters[0].id == "window"
    lifted = [r for r in composed.reasons if r.trait == "environment"]
    assert lifted[0].points == HANDLED and "+ Window (Author & Writer 2011) for environment=abrupt" in lifted[0].text
    penalty = [r for r in composed.reasons if r.trait == "adapter"]
    assert penalty[0].points == -2
    assert composed.score == sum(r.points for r in composed.reasons)
    without = shortlist(profile, composed_catalog, compose=False)
    assert all(not m.composed for m in without.ranked)
    assert {m.id for m in without.ranked} < {m.id for m in result.ranked}


def test_an_exact_entry_ranks_above_a_composition_of_equal_score(composed_catalog: Catalog) -> None:
    result = shortlist(Profile({"environment": "abrupt"}), composed_catalog)
    seen_composed = False
    for previous, match in zip(result.ranked, result.ranked[1:]):
        assert (previous.score, not previous.composed) >= (match.score, not match.composed)
        seen_composed |= match.composed
    assert seen_composed


def test_nearest_candidates_when_nothing_fits(composed_catalog: Catalog) -> None:
    answers = {"constraints": "budget", "feedback": "pairwise", "action_structure": "assortment"}
    result = shortlist(Profile(answers), composed_catalog)
    assert not result.exact and 0 < len(result.ranked) <= 5 and result.kept_total == 0
    misses = [len(m.ruled_out) for m in result.ranked]
    assert misses == sorted(misses) and misses[0] >= 1
    fast, exact = rank(answers, score_table(composed_catalog))
    assert not exact and [r.id for r in fast] == [m.id for m in result.ranked]


def test_fast_ranking_agrees_with_compositions(composed_catalog: Catalog) -> None:
    table = score_table(composed_catalog)
    for answers in ({"environment": "abrupt", "feedback_delay": "delayed"}, {"feedback": "pairwise"},
                    {"environment": "abrupt", "n_actions": 40, "action_space": "few"}):
        full = shortlist(Profile(answers), composed_catalog)
        fast, exact = rank(answers, table)
        assert exact and [(m.id, m.score) for m in full.ranked] == [(r.id, r.score) for r in fast]


def test_cli_shows_components_and_versioned_json(tmp_path: Path) -> None:
    root = own_catalog(tmp_path)
    runner = CliRunner(env={"BANDITMAP_CATALOG": ""})
    args = ["recommend", "--catalog", str(root), "--set", "environment=abrupt", "--set", "feedback=pairwise",
            "--format", "json", "--top", "0"]
    data = json.loads(runner.invoke(app, args).stdout)
    assert data["schema"] == "banditmap.shortlist/3" and data["exact"] is True
    composed = [m for m in data["shortlist"] if len(m["components"]) > 1]
    assert composed and all(m["id"] == "+".join(c["id"] for c in m["components"]) for m in composed)
    assert composed[0]["components"][1]["kind"] == "adapter"
    off = json.loads(runner.invoke(app, args + ["--no-compose"]).stdout)
    assert all(len(m["components"]) == 1 for m in off["shortlist"])
    rows = runner.invoke(app, ["recommend", "--catalog", str(root), "--batch", "-", "--format", "csv"],
                         input="id,environment,feedback\nx,abrupt,pairwise\n").stdout.splitlines()
    assert rows[0] == "case,rank,id,name,score,exact,components,missed,advice,error"
    assert any("+" in row and ",true," in row for row in rows[1:])


@pytest.mark.parametrize("lifts, requires, message", [
    ("{environment: {base: [stationary], gives: [sometimes]}}", "[policy]", "lifts.environment.gives"),
    ("{weather: {base: [sunny], gives: [rainy]}}", "[policy]", "lifts.weather: unknown field"),
    ("{environment: {base: [stationary], gives: [abrupt]}}", "[telepathy]", "requires"),
    ("{environment: {base: [stationary], gives: [stationary]}}", "[policy]", "gives nothing"),
])
def test_catalog_validate_refuses_a_bad_adapter(tmp_path: Path, lifts: str, requires: str, message: str) -> None:
    root = tmp_path / "cat"
    (root / "adapters").mkdir(parents=True)
    path = root / "adapters" / "bad.yaml"
    path.write_text("adapters:\n" + adapter("bad", lifts, "{environment: x.}", requires))
    result = CliRunner().invoke(app, ["catalog", "validate", str(root)])
    assert result.exit_code == 2 and f"{path}:" in result.stderr and message in result.stderr, result.stderr


def test_catalog_validate_refuses_a_requirement_no_algorithm_meets(tmp_path: Path) -> None:
    root = tmp_path / "cat"
    (root / "adapters").mkdir(parents=True)
    path = root / "adapters" / "bad.yaml"
    path.write_text("adapters:\n" + adapter("bad", "{environment: {base: [stationary], gives: [abrupt]}}",
                                            "{environment: x.}", "[adversarial, regression-oracle]"))
    result = CliRunner().invoke(app, ["catalog", "validate", str(root)])
    assert result.exit_code == 2 and f"{path}:3: bad.requires: no algorithm" in result.stderr, result.stderr


# --- exact chains on adapters built in the test ------------------------------------------------------------------

def _algorithm(id_: str, handles: dict, provides: tuple[str, ...] = ("policy",)) -> Algorithm:
    return Algorithm(id_, id_.title(), "family", "summary", "production", handles, {}, {}, (), (), COST, (), (), None,
                     provides=provides)


def _adapter(id_: str, lifts: dict, penalty: float = 1.0, requires: tuple[str, ...] = ("policy",),
             keeps: tuple[str, ...] = (), restricts: dict | None = None) -> Adapter:
    return Adapter(id_, id_.title(), "wraps", lifts, restricts or {}, requires, keeps, penalty, {}, (), COST, (), (),
                   None)


COST = Cost("O(1)", "O(K)")
ENV = Trait("env", "g", "choice", "?", "", (Choice("stationary", ""), Choice("abrupt", ""), Choice("gradual", "")))
DELAY = Trait("delay", "g", "choice", "?", "", (Choice("immediate", ""), Choice("delayed", "")))
BOUND = Trait("bound", "g", "choice", "?", "", (Choice("bounded", ""), Choice("indefinite", "")))
SIZE = Trait("size", "g", "number", "?", "", minimum=1)
BASE = _algorithm("base", {"env": ("stationary",), "delay": ("immediate",), "bound": ("bounded", "indefinite")},
                  provides=("policy", "stats", "bounds"))
CHEAP = _adapter("cheap", {"env": Lift(("stationary",), ("abrupt", "gradual"))}, 1.0, ("policy", "stats"),
                 keeps=("stats",))
DEAR = _adapter("dear", {"env": Lift(("stationary",), ("abrupt",))}, 3.0)
QUEUE = _adapter("queue", {"delay": Lift(("immediate",), ("delayed",))}, 1.0, restricts={"bound": ("bounded",)})
BLIND = _adapter("blind", {"delay": Lift(("immediate",), ("delayed",))}, 0.5, ("policy", "oracle"))


def _catalog(*adapters: Adapter) -> Catalog:
    return Catalog((), (ENV, SIZE, DELAY, BOUND), (), (BASE,), (), adapters=adapters)


def test_wrap_lifts_restricts_and_keeps_exactly() -> None:
    composed = wrap(BASE, [CHEAP, QUEUE])
    assert composed is not None
    assert dict(composed.handles) == {"env": ("stationary", "abrupt", "gradual"), "delay": ("immediate", "delayed"),
                                      "bound": ("bounded",)}
    assert dict(composed.lifted) == {"env": CHEAP, "delay": QUEUE}
    assert composed.provides == frozenset({"policy"})  # the queue keeps nothing
    assert wrap(BASE, [CHEAP]).provides == frozenset({"policy", "stats"})  # type: ignore[union-attr]
    assert wrap(BASE, []) == Composed(dict(BASE.handles), frozenset(BASE.provides), {})
    again = wrap(BASE, [CHEAP, DEAR])  # a lift that gives a value already handled adds it once
    assert again is not None and again.handles["env"] == ("stationary", "abrupt", "gradual")
    assert dict(again.lifted) == {"env": DEAR}  # the outermost lift names the answer
    assert dict(BASE.handles)["env"] == ("stationary",)  # the base itself is left as it was


def test_wrap_refuses_what_an_adapter_cannot_wrap() -> None:
    assert wrap(BASE, [BLIND]) is None  # requires an oracle the base does not offer
    assert wrap(BASE, [QUEUE, CHEAP]) is None  # the queue keeps no statistics for the window inside it
    assert wrap(BASE, [CHEAP, CHEAP]) is not None  # stats kept: it could wrap itself
    gradual_only = _algorithm("gradual", {"env": ("gradual",), "delay": ("immediate",)}, ("policy", "stats"))
    assert wrap(gradual_only, [CHEAP]) is None  # lifts only a base that handles stationary
    nothing = _algorithm("nothing", {}, ("policy", "stats"))
    assert wrap(nothing, [CHEAP]) is None
    from_nothing = _adapter("any", {"env": Lift((), ("abrupt",))})
    lifted = wrap(nothing, [from_nothing])
    assert lifted is not None and lifted.handles["env"] == ("abrupt",)
    restricted = wrap(nothing, [_adapter("r", {"env": Lift((), ("abrupt",))}, restricts={"bound": ("bounded",)})])
    assert restricted is not None and restricted.handles["bound"] == ()  # restricted to what it never handled


def test_missing_names_unhandled_choice_answers_in_the_traits_order() -> None:
    answers = {"delay": "delayed", "size": 5, "env": "abrupt", "bound": "bounded"}
    assert missing(BASE.handles, answers, _catalog().traits) == [("env", "abrupt"), ("delay", "delayed")]
    assert missing({"env": ("abrupt",)}, answers, _catalog().traits) == [("delay", "delayed"), ("bound", "bounded")]
    assert missing(BASE.handles, {"size": 5}, _catalog().traits) == []


def test_candidate_chains_fewest_adapters_then_least_penalty_then_ids() -> None:
    gaps = (("env", "abrupt"), ("delay", "delayed"))
    adapters = (DEAR, QUEUE, CHEAP, BLIND)
    found = candidate_chains(BASE, gaps, adapters)
    assert [[a.id for a in chain] for chain, _ in found] == [
        ["cheap", "queue"], ["dear", "queue"], ["queue", "dear"],  # penalty 2 then 4; the queue cannot wrap cheap
        ["cheap", "dear", "queue"], ["cheap", "queue", "dear"]]  # three adapters, penalty 5
    for chain, composed in found:
        assert composed == wrap(BASE, chain)
    assert [[a.id for a in c] for c, _ in candidate_chains(BASE, gaps, adapters, max_adapters=2)] == [
        ["cheap", "queue"], ["dear", "queue"], ["queue", "dear"]]
    assert candidate_chains(BASE, gaps, adapters, max_adapters=1) == []
    assert candidate_chains(BASE, (("env", "abrupt"),), (QUEUE,)) == []  # nothing lifts the environment
    assert candidate_chains(BASE, (), adapters) == []  # nothing to lift: no chain
    assert [[a.id for a in c] for c, _ in candidate_chains(BASE, (("env", "gradual"),), adapters)] == [["cheap"]]
    single = candidate_chains(BASE, (("env", "abrupt"),), adapters)
    assert [([a.id for a in c], sum(a.penalty for a in c)) for c, _ in single] == [(["cheap"], 1.0), (["dear"], 3.0),
                                                                                   (["cheap", "dear"], 4.0)]


def test_best_chain_takes_the_first_candidate_whose_restrictions_keep_every_answer() -> None:
    catalog = _catalog(DEAR, QUEUE, CHEAP)
    assert best_chain(BASE, {"env": "stationary", "size": 3}, catalog) == ()
    assert best_chain(BASE, {"env": "abrupt"}, catalog) == (CHEAP,)
    assert best_chain(BASE, {"env": "abrupt", "delay": "delayed", "bound": "bounded"}, catalog) == (CHEAP, QUEUE)
    assert best_chain(BASE, {"env": "abrupt", "delay": "delayed", "bound": "indefinite"}, catalog) is None
    assert best_chain(BASE, {"delay": "delayed", "bound": "indefinite"}, _catalog(QUEUE)) is None
    gaps = (("env", "abrupt"),)
    only_dear = [(chain, composed) for chain, composed in candidate_chains(BASE, gaps, (DEAR, CHEAP))
                 if chain == (DEAR,)]
    assert best_chain(BASE, {"env": "abrupt"}, catalog, only_dear, gaps) == (DEAR,)  # the candidates given are used
    assert best_chain(BASE, {"env": "abrupt"}, catalog, [], gaps) is None
    assert best_chain(BASE, {"env": "abrupt"}, catalog, only_dear, ()) == ()  # no gaps: the base alone


def test_parse_composite_names_the_base_and_its_adapters_innermost_first() -> None:
    catalog = _catalog(CHEAP, QUEUE)
    assert parse_composite("base", catalog) == (BASE, ())
    assert parse_composite(" base + cheap+queue ", catalog) == (BASE, (CHEAP, QUEUE))
    assert parse_composite("nope+cheap+nada", catalog) == (None, (CHEAP, None))

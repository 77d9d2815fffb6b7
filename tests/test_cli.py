from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banditmap.catalog.loading import load_catalog
from banditmap.cli.app import app
from banditmap.model import Profile
from banditmap.recommend.matching import shortlist

GOLDEN = Path(__file__).parent / "golden"


def run(runner: CliRunner, *args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def golden(name: str, text: str) -> None:
    """Compare with a golden file; regenerate deliberately with UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") and not os.environ.get("CI"):  # CI compares, never rewrites
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; if deliberate, rerun with UPDATE_GOLDEN=1"


def test_recommend_json_is_golden(runner: CliRunner) -> None:
    result = run(runner, "recommend", "--usecase", "homepage-banner", "--format", "json", "--top", "5")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema"] == "banditmap.shortlist/3" and data["exact"] is True
    assert [m["rank"] for m in data["shortlist"]] == [1, 2, 3, 4, 5]
    assert all(m["reasons"] for m in data["shortlist"]) and all(m["ruled_out"] for m in data["ruled_out"])
    golden("recommend-homepage-banner.json", result.output)


def test_recommend_table_has_reasons_and_explain_lists_ruled_out(runner: CliRunner) -> None:
    plain = run(runner, "recommend", "--usecase", "search-ranking")
    assert plain.exit_code == 0
    assert "cascade-klucb" in plain.output and "built for action_structure=ranking" in plain.output
    assert "ruled out" not in plain.output.split("\n", 1)[1]
    explained = run(runner, "recommend", "--usecase", "search-ranking", "--explain")
    assert "does not handle action_structure=ranking" in explained.output
    assert "\x1b[" not in explained.output  # plain text when not a terminal


def test_recommend_csv_and_markdown(runner: CliRunner) -> None:
    out = run(runner, "recommend", "--usecase", "dynamic-pricing", "--format", "csv", "--explain").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["rank"] == "1" and rows[0]["id"] == "gp-ucb"
    assert any(r["score"] == "ruled out" for r in rows)
    md = run(runner, "recommend", "--usecase", "dynamic-pricing", "--format", "markdown").output
    assert "| rank | id | name | score | maturity | why |" in md


def test_set_mixes_with_usecase_and_later_wins(runner: CliRunner) -> None:
    out = run(runner, "recommend", "--usecase", "homepage-banner", "--set", "environment=drifting",
              "--set", "environment=abrupt", "--format", "json").output
    data = json.loads(out)
    assert data["profile"]["answers"]["environment"] == "abrupt"
    assert all(m["id"] not in ("ucb1", "thompson-beta") for m in data["shortlist"])


def test_profile_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("profile:\n  context: linear\n  n_features: 20\n  reward_type: binary\n")
    data = json.loads(run(runner, "recommend", "-p", str(path), "--format", "json").output)
    assert data["profile"]["answers"] == {"context": "linear", "n_features": 20, "reward_type": "binary"}
    # the trait fit prefers the logistic models for clicks; the evidence of the linear contextual class (where
    # LinUCB had the lowest regret) puts LinUCB first
    assert data["evidence"]["class"] == "contextual/linear/binary/stationary/immediate/none/cumulative"
    assert [c["id"] for c in data["shortlist"][:1]] == ["linucb"]


@pytest.mark.parametrize("args, needle", [
    (["recommend"], "say what the problem is"),
    (["recommend", "--usecase", "nope"], "unknown use case"),
    (["recommend", "--set", "reward_type=clicks"], "'clicks' is not a value of reward_type"),
    (["recommend", "--set", "speed"], "expected trait=value"),
    (["recommend", "--profile", "/no/such/file.yaml"], "/no/such/file.yaml: file not found"),
    (["recommend", "--usecase", "homepage-banner", "--format", "xml"], "--format: expected one of table"),
    (["recommend", "--set", "action_space=few", "--set", "n_actions=100000"], "contradicts action_space=few"),
    (["compare", "ucb2"], "ucb2: unknown algorithm id; did you mean ucb1"),
    (["catalog", "show", "nothing-like-it"], "unknown algorithm id"),
    (["catalog", "list", "--where", "context=maybe"], "'maybe' is not a value of context"),
    (["catalog", "schema", "--kind", "nope"], "--kind: expected one of algorithms"),
])
def test_user_errors_are_one_line_with_status_2(runner: CliRunner, args: list[str], needle: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("banditmap: error: ") and needle in lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bad_catalog_folder_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "algorithms").mkdir()
    (tmp_path / "algorithms" / "x.yaml").write_text("algorithms:\n  - id: Bad_Id\n")
    result = runner.invoke(app, ["recommend", "--usecase", "homepage-banner", "--catalog", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'algorithms' / 'x.yaml'}:2: algorithms[0].id: expected text matching" in result.output


@pytest.mark.parametrize("argv, needle", [
    (["recommend", "--bogus"], "No such option: --bogus"),
    (["recommend", "--top", "many"], "Invalid value for '--top'"),
    (["nosuchcommand"], "No such command"),
])
def test_usage_errors_through_main_are_one_line(argv: list[str], needle: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "banditmap", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1 and needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compare_in_every_format(runner: CliRunner) -> None:
    ids = ["ucb1", "thompson-beta", "linucb"]
    data = json.loads(run(runner, "compare", *ids, "--format", "json").output)
    assert data["schema"] == "banditmap.compare/1" and [a["id"] for a in data["algorithms"]] == ids
    golden("compare-ucb1-thompson-linucb.json", json.dumps(data, indent=2) + "\n")
    table = run(runner, "compare", *ids).output
    assert "Auer et al. (2002)" in table and "context" in table
    rows = list(csv.reader(io.StringIO(run(runner, "compare", *ids, "--format", "csv").output)))
    assert rows[0] == ["", *ids] and any(r[0] == "cost per decision" for r in rows)
    assert run(runner, "compare", *ids, "--format", "markdown").output.startswith("|  | ucb1 |")


def test_catalog_commands(runner: CliRunner) -> None:
    listed = json.loads(run(runner, "catalog", "list", "--where", "action_structure=assortment",
                            "--format", "json").output)
    assert {a["id"] for a in listed["algorithms"]} == {"mnl-ucb", "mnl-ts", "mnl-contextual-ucb", "mnl-contextual-ts"}
    assert "linucb" in run(runner, "catalog", "show", "linucb").output
    assert json.loads(run(runner, "catalog", "show", "linucb", "--format", "json").output)["id"] == "linucb"
    traits = json.loads(run(runner, "catalog", "traits", "--format", "json").output)
    assert [t["id"] for t in traits][:3] == ["formulation", "reward_type", "feedback_delay"]
    validated = run(runner, "catalog", "validate")
    assert validated.exit_code == 0 and "algorithms" in validated.output


def test_catalog_validate_paths(runner: CliRunner, tmp_path: Path) -> None:
    from banditmap.catalog.loading import builtin_dir
    good = builtin_dir() / "algorithms" / "stochastic.yaml"
    assert run(runner, "catalog", "validate", str(good)).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("maturity: production", "maturity: mature", 1))
    result = run(runner, "catalog", "validate", str(bad))
    assert result.exit_code == 2 and "maturity: expected one of production, studied, research" in result.output


def test_exported_schema_accepts_the_shipped_catalog(runner: CliRunner) -> None:
    import jsonschema
    import yaml

    from banditmap.catalog.loading import builtin_dir
    root = builtin_dir()
    for kind, files in (("algorithms", sorted((root / "algorithms").glob("*.yaml"))),
                        ("adapters", sorted((root / "adapters").glob("*.yaml"))),
                        ("traits", [root / "traits.yaml"]),
                        ("usecase", sorted((root / "usecases").glob("*.yaml")))):
        schema = json.loads(run(runner, "catalog", "schema", "--kind", kind).output)
        jsonschema.Draft202012Validator.check_schema(schema)
        for path in files:
            data = yaml.load(path.read_text(), Loader=yaml.BaseLoader if kind == "never" else yaml.SafeLoader)
            if kind == "usecase":
                data["profile"] = {k: ("no" if v is False else "yes" if v is True else v)
                                   for k, v in data["profile"].items()}
            if kind == "algorithms":
                for entry in data["algorithms"]:
                    for section in ("handles", "prefers"):
                        for t, v in entry.get(section, {}).items():
                            if isinstance(v, list):
                                entry[section][t] = ["no" if x is False else "yes" if x is True else x for x in v]
            jsonschema.validate(data, schema)


def test_usecases_map_and_version(runner: CliRunner) -> None:
    usecases = json.loads(run(runner, "usecases", "--format", "json").output)
    assert len(usecases) >= 8 and {"id", "name", "description", "profile"} <= set(usecases[0])
    drawn = run(runner, "map", "--usecase", "search-ranking").output
    assert "Map of bandits for search-ranking" in drawn
    assert "ranking: an ordered list" in drawn and "<- you" in drawn and "cascade-klucb (shortlisted)" in drawn
    assert "Reward" in run(runner, "map").output
    assert run(runner, "--version").output.startswith("banditmap ")


# --- batch ----------------------------------------------------------------------------------------------------

def test_batch_yaml_jsonl_and_csv_agree(runner: CliRunner, tmp_path: Path) -> None:
    yaml_file = tmp_path / "cases.yaml"
    yaml_file.write_text("- id: a\n  usecase: search-ranking\n- id: b\n  profile: {context: linear, "
                         "reward_type: binary}\n")
    jsonl_file = tmp_path / "cases.jsonl"
    jsonl_file.write_text('{"id": "a", "usecase": "search-ranking"}\n{"id": "b", "context": "linear", '
                          '"reward_type": "binary"}\n')
    csv_file = tmp_path / "cases.csv"
    csv_file.write_text("id,usecase,context,reward_type\na,search-ranking,,\nb,,linear,binary\n")
    outputs = [run(runner, "recommend", "--batch", str(f), "--top", "3").output
               for f in (yaml_file, jsonl_file, csv_file)]
    assert outputs[0] == outputs[1] == outputs[2]
    rows = [json.loads(line) for line in outputs[0].splitlines()]
    assert [(r["case"], r["rank"]) for r in rows] == [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("b", 3)]
    golden("batch-small.jsonl", outputs[0])


def test_batch_bad_case_does_not_stop_the_others(runner: CliRunner) -> None:
    text = ("id,action_space,n_actions\nok1,few,5\nbad,few,100000\n,few,3\nok2,many,500\n")
    result = runner.invoke(app, ["recommend", "--batch", "-", "--format", "csv", "--top", "1"], input=text)
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["case"] for r in rows] == ["ok1", "bad", "row 4", "ok2"]
    assert rows[1]["error"].startswith("<stdin>:3: case bad: n_actions: n_actions=100000 contradicts")
    assert "every case needs an id" in rows[2]["error"]
    assert rows[0]["id"] and rows[3]["id"]


def test_batch_malformed_inputs(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"id": "x", "context": "linear"}\n{not json\n')
    result = run(runner, "recommend", "--batch", str(broken))
    assert result.exit_code == 1 and "line 2: not valid JSON" in result.output
    headless = tmp_path / "h.csv"
    headless.write_text("context,reward_type\nlinear,binary\n")
    result = run(runner, "recommend", "--batch", str(headless))
    assert result.exit_code == 2 and "expected a header row with an id column" in result.output
    assert run(runner, "recommend", "--batch", str(tmp_path / "none.csv")).exit_code == 2


def test_every_shipped_use_case_answer_is_golden(runner: CliRunner) -> None:
    """The recommender's ranked answer (ids and scores) for every shipped use case; a change must be deliberate."""
    answers = {}
    for usecase in load_catalog().usecases:
        result = runner.invoke(app, ["recommend", "--usecase", usecase.id, "--format", "json", "--top", "0"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        answers[usecase.id] = {"exact": data["exact"], "kept": [f"{m['id']} {m['score']}" for m in data["shortlist"]],
                               "ruled_out": len(data["ruled_out"])}
    golden("usecase-answers.json", json.dumps(answers, indent=1) + "\n")


def test_catalog_stats_counts_branches(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["schema"] == "banditmap.stats/1" and data["algorithms"] == len(load_catalog().algorithms)
    slate = next(b for b in data["branches"] if (b["trait"], b["value"]) == ("action_structure", "slate"))
    assert "cts" in slate["specialists"] and "homepage-carousel" in slate["usecases"]
    table = runner.invoke(app, ["catalog", "stats"])
    assert "with a simulator" in table.output


def test_map_as_svg_holds_every_branch_and_specialist(runner: CliRunner, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET
    catalog = load_catalog()
    path = tmp_path / "map.svg"
    result = runner.invoke(app, ["map", "--format", "svg", str(path), "--usecase", "search-ranking"])
    assert result.exit_code == 0, result.output
    root = ET.parse(path).getroot()  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"

    def label(t: ET.Element) -> str:  # the drawn text follows the hover <title>, when there is one
        title = t.find(f"{ns}title")
        return (title.tail if title is not None else t.text) or ""

    texts = [label(t) for t in root.iter(f"{ns}text")]
    words = {w.strip(" *") for t in texts for w in t.split(", ")}
    for trait in catalog.choice_traits:
        assert trait.id in texts
        for choice in trait.choices:
            assert choice.id in texts
    for a in catalog.algorithms:
        if any(a.prefers.values()):
            assert a.id in words, a.id
    kept = {m.algorithm.id for m in shortlist(Profile(catalog.usecase("search-ranking").answers), catalog).ranked
            if not m.composed}
    shortlisted = [t for t in root.iter(f"{ns}text") if kept & {w.strip(" *") for w in label(t).split(", ")}]
    assert shortlisted and all(t.get("fill") == "#1a7f37" for t in shortlisted)  # the user's path, in green
    titles = {label(t): t.find(f"{ns}title").text for t in root.iter(f"{ns}text") if t.find(f"{ns}title") is not None}
    ranking = next(c for c in catalog.trait("action_structure").choices if c.id == "ranking")
    assert titles["ranking"].startswith(ranking.meaning)  # hover text: the branch's meaning and its source
    assert "Liu & Li 2021" in titles["ranking"] and "Liu & Li 2021" in titles["Reward"]


def test_map_in_the_terminal_can_say_where_each_branch_comes_from(runner: CliRunner) -> None:
    plain = runner.invoke(app, ["map"])
    sourced = runner.invoke(app, ["map", "--sources"])
    assert plain.exit_code == 0 and sourced.exit_code == 0
    assert "source:" not in plain.output
    assert "source: Liu & Li 2021 (arXiv 2107.00680), section 4, Figure 3: a continuous action set" in sourced.output
    assert sourced.output.count("source:") > 40


def test_map_picture_errors(runner: CliRunner, tmp_path: Path) -> None:
    cases = [(["map", "--format", "svg"], "name the file to write"),
             (["map", "--format", "svg", str(tmp_path / "map.png")], "expected a file name ending in .svg"),
             (["map", "--format", "gif", str(tmp_path / "map.gif")], "expected one of text, svg, png"),
             (["map", str(tmp_path / "map.svg")], "a file is written with --format svg or png")]
    for argv, needle in cases:
        result = runner.invoke(app, argv)
        assert result.exit_code == 2 and needle in result.output, (argv, result.output)


def test_map_as_png(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "map.png"
    result = runner.invoke(app, ["map", "--format", "png", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from banditmap.cli.app import app
from banditmap.cli.questionnaire import AnswerSheet, Interrupted, interpret, run, skip_reason
from banditmap.model import Catalog


class Scripted:
    """A prompter that replays replies and then behaves like Ctrl-C."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.said: list[str] = []

    def ask(self, prompt: str) -> str:
        if not self.replies:
            raise KeyboardInterrupt
        return self.replies.pop(0)

    def say(self, text: str) -> None:
        self.said.append(text)


def test_questions_come_from_the_vocabulary_and_skips_say_why(catalog: Catalog) -> None:
    saves: list[dict] = []
    io = Scripted(["1"] * 40)
    result = run(catalog, AnswerSheet(), io, lambda p: saves.append(dict(p.answers)))
    assert result.answers["reward_type"] == "binary" and result.answers["action_space"] == "few"
    assert "slate_size" not in result.answers and "n_features" not in result.answers
    assert any("Skipped slate_size: asked only when action_structure is slate" in s for s in io.said)
    assert len(saves) == len(result.answers) + len(result.left_unanswered)  # saved after every answer
    for trait in catalog.traits:
        assert any(trait.question in s for s in io.said) or skip_reason(trait, result.answers)


def test_help_defaults_skips_and_retries(catalog: Catalog) -> None:
    io = Scripted(["", "?", "", "lots", "delayed", "-"])
    sheet = AnswerSheet()
    with pytest.raises(Interrupted):
        run(catalog, sheet, io, lambda p: None)
    reward = catalog.trait("reward_type")
    assert reward.help in io.said
    assert sheet.answers == {"formulation": "bandit", "reward_type": "binary", "feedback_delay": "delayed"}
    assert sheet.left_unanswered == ["delay_bound"]
    assert any("'lots' is not a value of feedback_delay" in s for s in io.said)


def test_contradicting_answer_is_asked_again(catalog: Catalog) -> None:
    sheet = AnswerSheet({"action_space": "few"}, [t.id for t in catalog.traits
                                                   if t.id not in ("action_space", "n_actions")])
    io = Scripted(["100000", "12"])
    run(catalog, sheet, io, lambda p: None)
    assert sheet.answers["n_actions"] == 12
    assert any("contradicts action_space=few" in s for s in io.said)


def test_interpret_by_number_name_and_default(catalog: Catalog) -> None:
    env = catalog.trait("environment")
    assert interpret(env, "3") == "abrupt" and interpret(env, "drifting") == "drifting"
    assert interpret(env, "") == "stationary"
    assert interpret(catalog.trait("n_actions"), "") is None


ANSWERS = "\n".join(["", "2", "", "", "", "", "", "1", "8", "", "", "2", "16", "", "", "", "500000"]) + "\n"


def test_ask_piped_saves_a_profile_usable_by_recommend(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "shop.yaml"
    result = runner.invoke(app, ["ask", "--save", str(target)], input=ANSWERS)
    assert result.exit_code == 0, result.output
    assert "Shortlist for shop" in result.output
    saved = yaml.safe_load(target.read_text())["profile"]
    assert saved["reward_type"] == "continuous" and saved["context"] == "linear" and saved["n_features"] == 16
    assert not (tmp_path / "shop.yaml.partial.yaml").exists()
    again = runner.invoke(app, ["recommend", "--profile", str(target), "--format", "json"])
    assert again.exit_code == 0 and '"lin-ts"' in again.output


def test_interrupted_ask_keeps_answers_and_resumes(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "shop.yaml"
    first = runner.invoke(app, ["ask", "--save", str(target)], input="\n2\n3\n")
    partial = tmp_path / "shop.yaml.partial.yaml"
    assert first.exit_code != 0 and str(partial) in first.output
    kept = yaml.safe_load(partial.read_text())
    assert kept["profile"] == {"formulation": "bandit", "reward_type": "continuous", "feedback_delay": "batched"}
    rest = "\n" + "\n".join(ANSWERS.splitlines()[3:]) + "\n"  # one more question: update_batch, for batched
    second = runner.invoke(app, ["ask", "--resume", str(partial), "--save", str(target)], input=rest)
    assert second.exit_code == 0, second.output
    saved = yaml.safe_load(target.read_text())["profile"]
    assert saved["feedback_delay"] == "batched" and saved["n_features"] == 16
    assert not partial.exists()


def test_resume_of_a_broken_file_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("profile:\n  reward_type: sometimes\n")
    result = runner.invoke(app, ["ask", "--resume", str(bad)])
    assert result.exit_code == 2 and f"{bad}:2: profile.reward_type" in result.output


def test_ask_without_terminal_or_input_refuses(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "banditmap", "ask"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "ask needs a terminal, or answers piped on standard input" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_back_takes_the_previous_answer_back_and_asks_it_again(catalog: Catalog) -> None:
    io = Scripted(["<", "", "2", "<", "3", "delayed"])
    sheet = AnswerSheet()
    saves: list[dict] = []
    with pytest.raises(Interrupted):
        run(catalog, sheet, io, lambda p: saves.append(dict(p.answers)), lambda p: f"{len(p.answers)} so far")
    assert "nothing to go back to" in " ".join(io.said)  # `<` at the first question
    assert sheet.answers == {"formulation": "bandit", "reward_type": "heavy_tailed", "feedback_delay": "delayed"}
    assert {"formulation": "bandit"} in saves  # the answer taken back was saved as taken back
    assert any("Back to reward_type" in s for s in io.said) and "  3 so far" in io.said


def test_an_answer_leaving_the_map_ends_the_questions_with_advice(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "p.yaml"
    result = runner.invoke(app, ["ask", "--save", str(target)], input="long_term\n")
    assert result.exit_code == 0, result.output
    assert "reinforcement learning" in result.output and "Shortlist" not in result.output
    assert yaml.safe_load(target.read_text())["profile"] == {"formulation": "long_term"}

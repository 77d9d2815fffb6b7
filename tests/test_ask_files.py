"""`ask` never loses an answer or a file: unfinished answers beside the target, resumed profiles untouched,
nothing replaced without --force, and a real terminal interrupted by Ctrl-C or end of input loses nothing."""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from banditmap.cli.app import app

ROOT = Path(__file__).resolve().parent.parent


def one_error_line(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.startswith("banditmap: error:")]
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


def test_a_new_session_refuses_to_overwrite_unfinished_answers(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "s.yaml"
    partial = tmp_path / "s.yaml.partial.yaml"
    first = runner.invoke(app, ["ask", "--save", str(target)], input="\n1\n2\n")
    assert first.exit_code != 0 and partial.exists()
    kept = partial.read_bytes()
    again = runner.invoke(app, ["ask", "--save", str(target)], input="1\n")
    assert again.exit_code == 2
    line = one_error_line(again.output)
    assert str(partial) in line and "--resume" in line and "--force" in line
    assert partial.read_bytes() == kept and not target.exists()
    restart = runner.invoke(app, ["ask", "--save", str(target), "--force"], input="\n2\n")
    assert restart.exit_code != 0
    assert yaml.safe_load(partial.read_text())["profile"] == {"formulation": "bandit", "reward_type": "continuous"}


@pytest.mark.parametrize("text", ["n_actions: 5\n", "name: mine\nprofile:\n  n_actions: 5\n"])
def test_resuming_a_hand_written_profile_never_changes_or_removes_it(runner: CliRunner, tmp_path: Path,
                                                                     text: str) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(text)
    result = runner.invoke(app, ["ask", "--resume", str(mine)], input="\n" * 30)
    assert result.exit_code == 0, result.output
    assert mine.read_text() == text
    finished = tmp_path / "mine-2.yaml"
    assert yaml.safe_load(finished.read_text())["profile"]["n_actions"] == 5
    assert not (tmp_path / "mine.yaml.partial.yaml").exists()


def test_resuming_a_hand_written_profile_keeps_partial_answers_beside_it(runner: CliRunner,
                                                                         tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("n_actions: 5\n")
    result = runner.invoke(app, ["ask", "--resume", str(mine)], input="\n2\n")
    assert result.exit_code != 0
    partial = tmp_path / "mine.yaml.partial.yaml"
    assert yaml.safe_load(partial.read_text())["profile"] == {"formulation": "bandit", "reward_type": "continuous",
                                                               "n_actions": 5}
    assert mine.read_text() == "n_actions: 5\n"


def test_save_never_replaces_an_existing_file_unasked(runner: CliRunner, tmp_path: Path) -> None:
    notes = tmp_path / "notes.yaml"
    notes.write_text("my notes\n")
    refused = runner.invoke(app, ["ask", "--save", str(notes)], input="\n" * 30)
    assert refused.exit_code == 2 and "exists already" in one_error_line(refused.output)
    assert notes.read_text() == "my notes\n"
    forced = runner.invoke(app, ["ask", "--save", str(notes), "--force"], input="\n" * 30)
    assert forced.exit_code == 0, forced.output
    assert "profile" in yaml.safe_load(notes.read_text())


@pytest.mark.parametrize("where", ["folder", "missing/p.yaml"])
def test_save_to_a_folder_or_a_missing_folder_is_one_line(runner: CliRunner, tmp_path: Path, where: str) -> None:
    (tmp_path / "folder").mkdir()
    result = runner.invoke(app, ["ask", "--save", str(tmp_path / where)], input="1\n")
    assert result.exit_code == 2
    one_error_line(result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


@pytest.mark.parametrize("left", ["[[1]]", "notalist", "[{a: 1}]", "[no_such_trait]", "[1, 2]"])
def test_malformed_left_unanswered_is_one_line(runner: CliRunner, tmp_path: Path, left: str) -> None:
    partial = tmp_path / "p.yaml"
    partial.write_text(f"profile:\n  n_actions: 5\nleft_unanswered: {left}\n")
    result = runner.invoke(app, ["ask", "--resume", str(partial)], input="\n")
    assert result.exit_code == 2
    assert f"{partial}:3: left_unanswered: expected a list of trait ids" in one_error_line(result.output)


# --- a real terminal -----------------------------------------------------------------------------------------

class Terminal:
    """`banditmap ask` on a pseudo-terminal: what a user at a keyboard sees and sends."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        import pty
        env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(ROOT), COLUMNS="120")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the pseudo-terminal is its controlling terminal
            # as at a keyboard: Ctrl-C interrupts, even when the suite itself was started in the background
            # (a shell starts background jobs with SIGINT ignored, and a program inherits that)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.chdir(cwd)
            os.execve(sys.executable, [sys.executable, "-m", "banditmap", "ask", *args], env)
        self.seen = ""

    def read_until(self, *texts: str, timeout: float = 20.0) -> str:
        """Read until one of `texts` is shown; returns the one that was."""
        deadline = time.monotonic() + timeout
        text = texts[0]
        while not any(t in self.seen for t in texts):
            left = deadline - time.monotonic()
            assert left > 0, f"waited for {text!r}; the terminal shows:\n{self.seen[-2000:]}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"the program ended before {text!r}:\n{self.seen[-2000:]}"
                self.seen += chunk.decode("utf-8", "replace")
        return next(t for t in texts if t in self.seen)

    def answer(self, reply: str) -> None:
        self.read_until("Answer (")
        self.seen = ""
        os.write(self.fd, reply.encode() + b"\r")

    def send(self, raw: bytes) -> None:
        self.read_until("Answer (")
        os.write(self.fd, raw)

    def wait(self, timeout: float = 20.0, again: bytes = b"") -> int:
        """The exit status; `again` is sent every few seconds meanwhile, as a user presses Ctrl-C again when a
        busy machine delays the first one (readline may take a signal only at its next read)."""
        deadline = time.monotonic() + timeout
        resend = time.monotonic() + 3
        while time.monotonic() < deadline:
            if again and time.monotonic() > resend:
                os.write(self.fd, again)
                resend = time.monotonic() + 3
            try:
                if select.select([self.fd], [], [], 0.1)[0]:
                    self.seen += os.read(self.fd, 4096).decode("utf-8", "replace")
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"ask did not end:\n{self.seen[-2000:]}")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_ctrl_c_then_end_of_input_then_resume_loses_nothing(tmp_path: Path) -> None:
    target = tmp_path / "shop.yaml"
    partial = tmp_path / "shop.yaml.partial.yaml"

    first = Terminal(["--save", str(target)], tmp_path)
    first.answer("")  # formulation: a bandit
    first.answer("2")  # reward_type: continuous
    first.answer("delayed")
    first.send(b"\x03")  # Ctrl-C at the fourth question
    assert first.wait(again=b"\x03") == 130
    assert "Traceback" not in first.seen and "continue with: banditmap ask --resume" in first.seen
    assert yaml.safe_load(partial.read_text())["profile"] == {"formulation": "bandit", "reward_type": "continuous",
                                                               "feedback_delay": "delayed"}

    second = Terminal(["--resume", str(partial), "--save", str(target)], tmp_path)
    second.answer("")  # the next question (delay_bound): its default
    second.send(b"\x04")  # Ctrl-D: end of input at the next question
    assert second.wait() == 130
    assert "Traceback" not in second.seen
    kept = yaml.safe_load(partial.read_text())["profile"]
    assert kept == {"formulation": "bandit", "reward_type": "continuous", "feedback_delay": "delayed",
                    "delay_bound": "bounded"}

    third = Terminal(["--resume", str(partial), "--save", str(target)], tmp_path)
    while third.read_until("Answer (", "Saved to") == "Answer (":
        third.answer("")  # every default
    assert third.wait() == 0, third.seen
    saved = yaml.safe_load(target.read_text())["profile"]
    assert {k: saved[k] for k in kept} == kept and "environment" in saved
    assert not partial.exists()

"""The one printer: every format of a Report, drawn on a fixed-width in-memory console, and the one progress facility."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path

import pytest

from banditmap.model import Catalog, Profile
from banditmap.recommend.matching import shortlist
from banditmap.recommend.profile import build_profile
from banditmap.render.catalog import listing_report
from banditmap.render.progress import ProgressBars
from banditmap.render.report import FORMATS, Report, from_rows, print_report
from banditmap.render.shortlist import shortlist_report

GOLDEN = Path(__file__).parent / "golden"

RACE = from_rows("A race", ["id", "regret"], [["ucb1", "12.5"], ["thompson | beta", "9.0"]],
                 {"schema": "x/1", "regret": [12.5, 9.0]}, footer="Unanswered: n_actions", extras="\ncurves\n",
                 verdict="thompson wins.", notes=("one rep", "short race"), warnings=("slow", "few rows"))


def printed(report: Report, fmt: str, width: int = 40) -> str:
    out = io.StringIO()
    print_report(report, fmt, out, width=width)
    return out.getvalue()


def test_a_table_is_drawn_in_ascii_at_the_width_given_with_the_words_below_it_in_order() -> None:
    assert printed(RACE, "table") == (
        "A race                      \n"  # the title is padded to the table's width
        "+--------------------------+\n"
        "| id              | regret |\n"
        "|-----------------+--------|\n"
        "| ucb1            | 12.5   |\n"
        "| thompson | beta | 9.0    |\n"
        "+--------------------------+\n"
        "Unanswered: n_actions\n"
        "\ncurves\n"
        "\nthompson wins.\n"
        "Notes: one rep; short race\n"
        "Warnings:\n  - slow\n  - few rows\n")


def test_a_narrow_console_folds_cells_and_never_cuts_them() -> None:
    text = printed(from_rows("T", ["id", "why"], [["ucb1", "built for reward_type=binary; handles 12 answers"]]),
                   "table", width=30)
    assert max(len(line) for line in text.splitlines()) <= 30
    assert "".join(text.split()).count("handles12answers") == 1


def test_markdown_has_the_title_in_bold_escaped_cells_and_the_words_as_paragraphs() -> None:
    assert printed(RACE, "markdown") == (
        "**A race**\n\n"
        "| id | regret |\n|---|---|\n| ucb1 | 12.5 |\n| thompson \\| beta | 9.0 |\n"
        "\nthompson wins.\n"
        "\nNotes: one rep; short race\n"
        "\nWarnings:\n- slow\n- few rows\n")


def test_a_listing_in_markdown_is_the_table_alone() -> None:
    listing = from_rows("3 algorithms", ["id"], [["ucb1"]], markdown_title=False)
    assert printed(listing, "markdown") == "| id |\n|---|\n| ucb1 |\n"


def test_csv_is_the_table_alone_and_json_the_data_alone() -> None:
    assert printed(RACE, "csv") == 'id,regret\nucb1,12.5\nthompson | beta,9.0\n'
    assert json.loads(printed(RACE, "json")) == {"schema": "x/1", "regret": [12.5, 9.0]}


def test_json_has_no_nan_and_says_which_values_are_null() -> None:
    data = json.loads(printed(Report("r", data={"a": [1.0, math.nan], "b": math.inf}), "json"))
    assert data["a"] == [1.0, None] and data["b"] is None
    assert data["notes"] == ["2 value(s) could not be computed (not a finite number) and are null: a[1], b"]


def test_a_message_takes_the_place_of_the_table_but_not_of_the_csv_rows() -> None:
    advice = from_rows("Not a bandit", ["id"], [["x"]], message="Use a forecast instead.", footer="never shown")
    assert printed(advice, "table") == "Not a bandit\n\nUse a forecast instead.\n"
    assert printed(advice, "markdown") == "**Not a bandit**\n\nUse a forecast instead.\n"
    assert printed(advice, "csv") == "id\nx\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_printer_only_reads_the_report(fmt: str) -> None:
    """Printing twice gives the same text: nothing in the report is used up or changed."""
    assert printed(RACE, fmt) == printed(RACE, fmt)


def test_a_shortlist_report_prints_the_golden_json(catalog: Catalog) -> None:
    result = shortlist(build_profile(catalog, "homepage-banner"), catalog, 5)
    assert printed(shortlist_report(result), "json") == (GOLDEN / "recommend-homepage-banner.json").read_text()


def test_a_shortlist_table_lists_what_was_ruled_out_only_when_explained(catalog: Catalog) -> None:
    result = shortlist(Profile({"reward_type": "binary"}, "binary"), catalog, 3)
    plain, explained = shortlist_report(result), shortlist_report(result, explain=True)
    assert len(plain.rows) == 3 and len(explained.rows) == 3 + len(result.excluded)
    assert all(row[3] == "ruled out" for row in explained.rows[3:])
    assert plain.title.startswith("Shortlist for binary: top 3 of ")


def test_a_listing_report_has_one_row_per_algorithm_and_the_catalog_schema(catalog: Catalog) -> None:
    report = listing_report(catalog.algorithms[:4])
    assert [row[0] for row in report.rows] == [a.id for a in catalog.algorithms[:4]]
    assert report.title == "4 algorithms" and report.data["schema"] == "banditmap.catalog/1"


# --- progress ---------------------------------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_are_silent_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressBars(["ucb1"], 10, overall="all") as bars:
        bars("ucb1", 5, 10)
    assert bars.progress is None and capsys.readouterr().err == ""


def test_progress_bars_follow_each_task_and_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", Terminal())
    with ProgressBars(["ucb1", "exp3"], 100, overall="all algorithms") as bars:
        bars("ucb1", 40, 100)
        bars("ucb1", 100, 100)
        bars("exp3", 30, 100)
        assert bars.progress is not None
        done = {t.description: t.completed for t in bars.progress.tasks}
    assert done == {"all algorithms": 130, "ucb1": 100, "exp3": 30}


def test_a_task_not_expected_gets_its_bar_and_label_when_first_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", Terminal())
    with ProgressBars(labels={"replay": "replaying learners"}) as bars:
        bars("replay", 10, 50)
        bars("score", 5, 50)
        assert bars.progress is not None
        tasks = {t.description: (t.completed, t.total) for t in bars.progress.tasks}
    assert tasks == {"replaying learners": (10, 50), "score": (5, 50)}

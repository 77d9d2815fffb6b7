"""The questionnaire: asks the traits of traits.yaml in order, skips what cannot matter, keeps every answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import yaml

from banditmap.catalog.profiles import answers_in, check_answers, first_violation, parse_value
from banditmap.catalog.yamlio import Document, load_file
from banditmap.errors import BanditmapError
from banditmap.files import write_atomic
from banditmap.model import Answer, Catalog, Trait

HELP, SKIP, BACK = "?", "-", "<"
PARTIAL_MARK = "# Unfinished answers of `banditmap ask`"  # first line of a file that ask may replace and remove
PARTIAL_SUFFIX = ".partial.yaml"


class Prompter(Protocol):
    def ask(self, prompt: str) -> str: ...  # raises EOFError or KeyboardInterrupt when the user stops
    def say(self, text: str) -> None: ...


@dataclass
class AnswerSheet:
    """Answers so far and the questions deliberately left unanswered; saved after every answer."""

    answers: dict[str, Answer] = field(default_factory=dict)
    left_unanswered: list[str] = field(default_factory=list)

    def done(self, trait_id: str) -> bool:
        return trait_id in self.answers or trait_id in self.left_unanswered


class Interrupted(Exception):
    """The user stopped (Ctrl-C or end of input) before the last question."""


class Back(Exception):
    """The user asked to go back one question."""


def skip_reason(trait: Trait, answers: dict[str, Answer]) -> str | None:
    """Why a question cannot matter given earlier answers, or None when it should be asked."""
    failing = [c for c in trait.ask_if if not c.holds(answers)]
    if not failing:
        return None
    return "asked only when " + " and ".join(c.describe() for c in failing)


def pending(catalog: Catalog, sheet: AnswerSheet) -> list[Trait]:
    return [t for t in catalog.traits if not sheet.done(t.id)]


def interpret(trait: Trait, reply: str) -> Answer | None:
    """A typed reply as an answer: a choice's number or name, a number, or the default for an empty reply."""
    text = reply.strip()
    if text == "":
        return trait.default
    if trait.is_choice and text.isascii() and text.isdigit() and len(text) < 6 and 1 <= int(text) <= len(trait.choices):
        return trait.choices[int(text) - 1].id
    return parse_value(trait, text, BanditmapError)


def question_text(trait: Trait, number: int, total: int, group_title: str, preference: bool = False) -> str:
    kind = "  (a preference: it ranks the candidates, never rules one out)" if preference else ""
    lines = [f"\n[{number}/{total}] {group_title} · {trait.id}{kind}", trait.question]
    for i, choice in enumerate(trait.choices, 1):
        lines.append(f"  {i}) {choice.id} - {choice.meaning}")
    if not trait.is_choice:
        low = "" if trait.minimum is None else f"{trait.minimum:g}"
        high = "" if trait.maximum is None else f"{trait.maximum:g}"
        lines.append(f"  a number from {low} to {high}" if low or high else "  a number")
    return "\n".join(lines)


def prompt_text(trait: Trait) -> str:
    kind = "number or name" if trait.is_choice else "a number"
    default = f" [{trait.default}]" if trait.default is not None else " [leave unanswered]"
    return f"Answer ({kind}, ? for help, - to skip, < to go back){default}: "


def run(catalog: Catalog, sheet: AnswerSheet, io: Prompter, save: Callable[[AnswerSheet], None],
        standing: Callable[[AnswerSheet], str] | None = None) -> AnswerSheet:
    """Ask every pending question; `save` is called after each answer so nothing typed is lost. `<` goes back
    one question (its answer is taken back); `standing` says after each answer how many candidates remain. An
    answer that leaves the map (not a bandit problem) ends the questions."""
    from banditmap.recommend.coverage import preferences
    groups = {g.id: g.title for g in catalog.groups}
    total = len(catalog.traits)
    ranking_only = preferences(catalog)
    asked = [t.id for t in catalog.traits if sheet.done(t.id)]  # in the order they were answered
    index = 0
    while index < len(catalog.traits):
        trait = catalog.traits[index]
        index += 1
        if sheet.done(trait.id):
            continue
        reason = skip_reason(trait, sheet.answers)
        if reason:
            io.say(f"\nSkipped {trait.id}: {reason}.")
            continue
        io.say(question_text(trait, catalog.traits.index(trait) + 1, total, groups.get(trait.group, trait.group),
                             trait.id in ranking_only))
        try:
            answer = ask_one(trait, catalog, sheet, io, can_go_back=bool(asked))
        except Back:
            previous = asked.pop()
            sheet.answers.pop(previous, None)
            if previous in sheet.left_unanswered:
                sheet.left_unanswered.remove(previous)
            index = next(i for i, t in enumerate(catalog.traits) if t.id == previous)
            save(sheet)
            io.say(f"  Back to {previous}; its answer is taken back.")
            continue
        if answer is None:
            sheet.left_unanswered.append(trait.id)
        else:
            sheet.answers[trait.id] = answer
        asked.append(trait.id)
        save(sheet)
        if catalog.exit(sheet.answers):
            break
        if standing is not None:
            io.say(f"  {standing(sheet)}")
    return sheet


def ask_one(trait: Trait, catalog: Catalog, sheet: AnswerSheet, io: Prompter,
            can_go_back: bool = False) -> Answer | None:
    while True:
        try:
            reply = io.ask(prompt_text(trait))
        except (EOFError, KeyboardInterrupt):
            raise Interrupted from None
        if reply.strip() == HELP:
            io.say(trait.help)
            continue
        if reply.strip() == BACK:
            if can_go_back:
                raise Back
            io.say("  This is the first question; there is nothing to go back to.")
            continue
        if reply.strip() == SKIP:
            return None
        try:
            answer = interpret(trait, reply)
        except BanditmapError as exc:
            io.say(f"  {exc.message}")
            continue
        if answer is None:
            return None
        violation = first_violation({**sheet.answers, trait.id: answer}, catalog.rules)
        if violation is not None:
            io.say(f"  {violation[1]}")
            continue
        return answer


# --- files ----------------------------------------------------------------------------------------------------

def sheet_yaml(sheet: AnswerSheet, catalog: Catalog, complete: bool) -> str:
    order = [t.id for t in catalog.traits]
    answers = {k: sheet.answers[k] for k in order if k in sheet.answers}
    header = ("# banditmap profile, written by `banditmap ask`.\n" if complete else
              PARTIAL_MARK + "; continue with: banditmap ask --resume THIS_FILE\n")
    body: dict[str, object] = {"profile": answers}
    if not complete and sheet.left_unanswered:
        body["left_unanswered"] = list(sheet.left_unanswered)
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def read_sheet(path: Path, catalog: Catalog) -> AnswerSheet:
    """Load answers to resume from: a file of unfinished answers, or any profile (flat or under `profile:`)."""
    doc = load_file(path)
    where = answers_in(doc)
    left = doc.data.get("left_unanswered") or [] if where else []
    known = {t.id for t in catalog.traits}
    if not isinstance(left, list) or any(not isinstance(item, str) or item not in known for item in left):
        raise doc.error(("left_unanswered",), "expected a list of trait ids")
    data = {k: v for k, v in doc.data.items() if k != "left_unanswered"}
    answers = check_answers(Document(doc.source, data, doc.lines), where, catalog.traits, catalog.rules)
    return AnswerSheet(dict(answers), list(left))


# --- the interactive session ----------------------------------------------------------------------------------

class ConsolePrompter:
    """Reads replies from standard input (a terminal or a pipe) and echoes piped replies for a readable log."""

    def __init__(self) -> None:
        import sys
        self.stdin = sys.stdin
        self.stdout = sys.stdout
        self.piped = not self.stdin.isatty()
        self.replies = 0

    def ask(self, prompt: str) -> str:
        self.stdout.write(prompt)
        self.stdout.flush()
        if not self.piped:
            reply = input()
        else:
            line = self.stdin.readline()
            if line == "":
                raise EOFError
            reply = line.rstrip("\r\n")
            self.stdout.write(reply + "\n")
        self.replies += 1
        return reply

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")


def is_partial(path: Path) -> bool:
    """True for a file of unfinished answers written by ask (which ask may update and remove when done)."""
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(PARTIAL_MARK)
    except (OSError, UnicodeDecodeError):
        return False


def partial_path(save: Path | None, resume: Path | None) -> Path:
    """Where unfinished answers are kept: the resumed file if ask wrote it, else a file beside --save, beside
    the resumed profile (which is never changed), or in the working folder."""
    if resume is not None:
        return resume if is_partial(resume) else resume.with_name(resume.name + PARTIAL_SUFFIX)
    if save is not None:
        return save.with_name(save.name + PARTIAL_SUFFIX)
    return Path("banditmap-answers" + PARTIAL_SUFFIX)


def final_path(save: Path | None, resume: Path | None) -> Path:
    """Where the finished profile goes: --save, else beside the resumed file, else the working folder; an
    existing file is never replaced unasked (a free name such as `stem-2.yaml` is taken instead)."""
    if save is not None:
        return save
    if resume is not None:
        base = resume.name[:-len(PARTIAL_SUFFIX)] if resume.name.endswith(PARTIAL_SUFFIX) else resume.name
        return free_path(resume.with_name(base or "banditmap-profile.yaml"))
    return free_path(Path("banditmap-profile.yaml"))


def free_path(path: Path) -> Path:
    """`path`, or `stem-2.yaml`, `stem-3.yaml`... so an earlier file is never overwritten unasked."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def run_questionnaire(catalog: Catalog, save: Path | None, resume: Path | None, top: int | None,
                      force: bool = False) -> int:
    """The whole `ask` session; returns the exit status. Answers are written after every reply, to a file of
    unfinished answers beside the target, and the finished profile replaces nothing the user did not name."""
    import sys

    from banditmap.files import check_destination
    from banditmap.model import Profile
    from banditmap.recommend.matching import shortlist
    from banditmap.render.report import from_rows, print_report
    from banditmap.render.shortlist import shortlist_report

    if save is not None:
        check_destination(save, "--save", force=force)
    sheet = read_sheet(resume, catalog) if resume else AnswerSheet()
    keep = partial_path(save, resume)
    if keep != resume:
        if keep.exists() and not force:
            raise BanditmapError(f"unfinished answers of an earlier `ask` are kept here; continue with: banditmap "
                                 f"ask --resume {keep} (or pass --force to start over)", source=str(keep))
        check_destination(keep, "--save", force=True)
    io = ConsolePrompter()
    if io.piped and not resume and sys.stdin.readable() and _stdin_empty(io):
        raise BanditmapError("ask needs a terminal, or answers piped on standard input (one per line)",
                             field="stdin")
    io.say("banditmap ask: answer each question by number or name; Enter takes the default, ? explains, "
           "- leaves it unanswered, < goes back one question.")
    if resume:
        io.say(f"Resuming {resume}: {len(sheet.answers)} answers so far.")

    def persist(state: AnswerSheet) -> None:
        write_atomic(keep, sheet_yaml(state, catalog, complete=False))

    def standing(state: AnswerSheet) -> str:
        result = shortlist(Profile(dict(state.answers)), catalog)
        if not result.exact:
            return "No candidate handles every answer so far; the nearest will be shown at the end."
        composed = sum(1 for m in result.ranked if m.composed)
        return (f"{result.kept_total} candidates still standing ({result.kept_total - composed} catalog entries, "
                f"{composed} composed with adapters).")

    try:
        run(catalog, sheet, io, persist, standing)
    except Interrupted:
        if sheet.answers or sheet.left_unanswered:
            persist(sheet)
            count = len(sheet.answers)
            io.say(f"\nStopped. Your {count} {'answers are' if count != 1 else 'answer is'} kept in {keep}; "
                   f"continue with: banditmap ask --resume {keep}")
        else:
            io.say("\nStopped before the first answer; nothing to keep.")
        return 130 if not io.piped else 1
    target = final_path(save, resume)
    if save is not None and not force and target.exists():  # appeared while the questions were answered
        target = free_path(target)
    write_atomic(target, sheet_yaml(sheet, catalog, complete=True))
    if keep != target and is_partial(keep):
        keep.unlink()
    profile = Profile(sheet.answers, target.stem, str(target))
    io.say("")
    print_report(from_rows("Your answers", ["trait", "answer"],
                           [[t.id, str(sheet.answers.get(t.id, "(unanswered)"))] for t in catalog.traits
                            if t.id in sheet.answers or not catalog.exit(sheet.answers)]))
    print_report(shortlist_report(shortlist(profile, catalog, top)))
    io.say(f"Saved to {target}; reuse with: banditmap recommend --profile {target}")
    return 0


def _stdin_empty(io: ConsolePrompter) -> bool:
    """True when piped standard input holds nothing at all (closed, or /dev/null)."""
    stream = io.stdin
    try:
        peek = stream.buffer.peek(1) if hasattr(stream, "buffer") and hasattr(stream.buffer, "peek") else None
    except (OSError, ValueError):
        return True
    if peek is None:
        return False
    return len(peek) == 0

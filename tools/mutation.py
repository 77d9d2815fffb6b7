"""Mutation score of the core modules: mutmut over each module against the tests that exercise it.

Each module is mutated in a scratch copy of the project (the work tree is never touched), against its own test
selection, run fastest-first so that a caught mutant stops at the first test that fails. Equivalent mutants
(changes that cannot alter behaviour) are listed with a reason in tests/mutation-equivalent.txt; each entry names
the mutant and the line it writes, and an entry that no longer matches its mutant (the code moved on) is reported
and excluded from nothing. The score is caught / (all mutants - equivalent ones); a timeout counts as caught.

    python tools/mutation.py                        # every module below
    python tools/mutation.py banditmap/recommend/matching.py  # some of them
    python tools/mutation.py --at HEAD              # as committed (others may be editing the work tree)
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "tests" / "mutation-equivalent.txt"

# module -> the tests that exercise it, in the order they should run (exact, fast tests first)
MODULES: dict[str, tuple[str, ...]] = {
    "banditmap/recommend/matching.py": ("tests/test_matching_exact.py", "tests/test_compose.py",
                                        "tests/test_matching.py", "tests/test_evidence.py"),
    "banditmap/catalog/profiles.py": ("tests/test_profiles.py",),
    "banditmap/recommend/compose.py": ("tests/test_compose.py", "tests/test_matching_exact.py",
                                       "tests/test_matching.py"),
    "banditmap/ope/estimators.py": ("tests/test_estimators.py", "tests/test_replay.py"),
    # the weighted, per-position and estimated-propensity tests reach the branches replay.py gained with them
    "banditmap/ope/replay.py": ("tests/test_replay_exact.py", "tests/test_replay_verdicts.py",
                                "tests/test_replay_weighted.py", "tests/test_replay_positions.py",
                                "tests/test_replay_propensities.py", "tests/test_replay_compositions.py",
                                "tests/test_replay.py"),
    # what replay's sums and findings say: verdicts, intervals, per-position and slate estimates, propensities,
    # the log's lint
    "banditmap/ope/results.py": ("tests/test_ope_results_exact.py", "tests/test_replay_verdicts.py"),
    "banditmap/ope/summary.py": ("tests/test_ope_summary_exact.py", "tests/test_replay_verdicts.py"),
    "banditmap/ope/positions.py": ("tests/test_ope_positions_exact.py", "tests/test_replay_positions.py"),
    "banditmap/ope/propensity.py": ("tests/test_ope_propensity_exact.py", "tests/test_replay_propensities.py"),
    "banditmap/ope/slates.py": ("tests/test_ope_slates_exact.py", "tests/test_ope_slates.py"),
    "banditmap/ope/check.py": ("tests/test_ope_check_exact.py", "tests/test_replay_check.py"),
    # what the ranking takes from the evidence
    "banditmap/recommend/evidence.py": ("tests/test_evidence_exact.py", "tests/test_evidence.py"),
    "banditmap/sim/stats.py": ("tests/test_stats.py",),
    "banditmap/sim/policies/mab.py": ("tests/test_mab_indices.py",),
    # what every policy shares: ties, the registry, hyperparameter domains
    "banditmap/sim/policies/base.py": ("tests/test_policies_base_exact.py", "tests/test_policies_ties.py"),
    # arms.py's bookkeeping (account, due, drop...) also keeps the linear race's books
    "banditmap/sim/kernels/arms.py": ("tests/test_kernels_exact.py", "tests/test_kernels_books_exact.py",
                                      "tests/test_kernels_linear_exact.py"),
    # the samplers on states[r] and on a state held in a local (rng.*_step), against the published Gamma test
    "banditmap/sim/kernels/rng.py": ("tests/test_kernels_exact.py", "tests/test_rng_steps.py"),
    # linear.py also holds the world the forgetting linear policies race on, and the factor and solve they reuse;
    # the contextual policies' exact tests reach its logistic and epsilon-greedy kernels, the safe policies' ones
    # (cases by hand) and the conservative races (compiled against the loop) its conservative LinUCB
    "banditmap/sim/kernels/linear.py": ("tests/test_kernels_linear_exact.py",
                                        "tests/test_policies_forgetting_exact.py",
                                        "tests/test_policies_contextual_exact.py",
                                        "tests/test_policies_safe_exact.py",
                                        "tests/test_compiled_conservative.py",
                                        "tests/test_compiled.py::"
                                        "test_a_counting_policy_races_the_contextual_world_with_the_loops_numbers"),
    # D-LinUCB's and SW-LinUCB's kernels: their policies' exact tests, and their race against the loop
    "banditmap/sim/kernels/moving.py": ("tests/test_policies_forgetting_exact.py",
                                        "tests/test_compiled.py::test_the_moving_race_gives_the_loops_numbers"),
    # the compiled policies beyond counting ones (forgetting, delays, exponential weights, best-arm tests) and
    # the compiled forms of the adapters
    "banditmap/sim/kernels/policies.py": ("tests/test_kernels_policies_exact.py", "tests/test_kernels_exact.py",
                                          "tests/test_kernels_books_exact.py", "tests/test_policies_bestarm_exact.py",
                                          "tests/test_mab_indices.py"),
    "banditmap/sim/kernels/wrappers.py": ("tests/test_kernels_wrappers_exact.py", "tests/test_kernels_exact.py",
                                          "tests/test_kernels_books_exact.py", "tests/test_mab_indices.py",
                                          "tests/test_kernels_ranked_exact.py", "tests/test_kernels_multi_exact.py"),
    # the MNL world, its oracle, the epoch policies and their race; the policies' classes call the same kernels;
    # the slate policies' race on it
    "banditmap/sim/kernels/assortment.py": ("tests/test_kernels_assortment_exact.py",
                                            "tests/test_policies_assortment_exact.py",
                                            "tests/test_kernels_slate_offers_exact.py"),
    # the pricing world, the continuous-price policies' kernels and their whole race
    "banditmap/sim/kernels/pricing.py": ("tests/test_kernels_pricing_exact.py", "tests/test_policies_pricing_exact.py"),
    # the dueling world, policies, sparring template and race
    "banditmap/sim/kernels/dueling.py": ("tests/test_kernels_dueling_exact.py",
                                         "tests/test_policies_dueling_exact.py"),
    # which races run compiled and how: each world's dispatch is checked by that world's exact tests
    "banditmap/sim/compiled.py": ("tests/test_kernels_exact.py", "tests/test_kernels_assortment_exact.py",
                                  "tests/test_kernels_lists_exact.py", "tests/test_kernels_dueling_exact.py",
                                  "tests/test_kernels_pricing_exact.py", "tests/test_kernels_ranked_exact.py",
                                  "tests/test_kernels_multi_exact.py"),
    # the multi-objective world and its race (scalarization's template is wrappers.py's)
    "banditmap/sim/kernels/multi.py": ("tests/test_kernels_multi_exact.py",),
    # the budget world, its LP, the budget policies and their race (the policies' classes call these kernels)
    "banditmap/sim/kernels/budget.py": ("tests/test_kernels_budget_exact.py",),
    # the combination world, pages as arms, multivariate Thompson sampling and its race
    "banditmap/sim/kernels/combination.py": ("tests/test_kernels_combination_exact.py",
                                             "tests/test_policies_combination_exact.py"),
    # the list policies' kernels, the cascade and slate worlds and their race
    "banditmap/sim/kernels/lists.py": ("tests/test_kernels_lists_exact.py", "tests/test_policies_lists_exact.py"),
    **{f"banditmap/sim/adapters/{name}.py": ("tests/test_adapters_exact.py",)
       for name in ("base", "delays", "instances", "safety", "statistics")},
    "banditmap/sim/adapters/views.py": ("tests/test_sim_views.py",),
    # the race's policies beyond the K-armed indices: each module against its own exact tests
    **{f"banditmap/sim/policies/{name}.py": (f"tests/test_policies_{name}_exact.py",)
       for name in ("contextual", "forgetting", "lists", "pricing", "nonstationary", "bestarm", "delayed",
                    "adversarial", "dueling", "assortment", "combination", "multiobjective", "safe")},
    "banditmap/sim/policies/budget.py": ("tests/test_kernels_budget_exact.py",),  # its exact tests went with its kernels
    # successive elimination's exact tests stayed with the other K-armed indices'
    "banditmap/sim/policies/bestarm.py": ("tests/test_policies_bestarm_exact.py", "tests/test_mab_indices.py"),
}
# Environment of a module's test runs. The compiled kernels run as plain Python (NUMBA_DISABLE_JIT): compiling each
# mutant would take minutes (their disk cache is keyed by a digest of the kernels' sources, so every mutant misses
# it), and numba would refuse mutants it cannot type before a test could catch them.
# One thread: races run by threads over blocks of repetitions (compiled.by_repetitions), and the plain-Python bind
# below swaps a race's kernels into its module's globals for the length of a call, which threads would share.
PLAIN_PYTHON = {"NUMBA_DISABLE_JIT": "1", "NUMBA_NUM_THREADS": "1"}
ENVIRONMENT: dict[str, dict[str, str]] = {
    "banditmap/sim/kernels/arms.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/rng.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/linear.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/moving.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/policies.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/wrappers.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/assortment.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/pricing.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/lists.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/dueling.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/multi.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/budget.py": PLAIN_PYTHON,
    "banditmap/sim/kernels/combination.py": PLAIN_PYTHON,
    "banditmap/sim/compiled.py": PLAIN_PYTHON,
}
# Tests of a selection left out: test_replay.py's command-line tests run the same evaluate() through the CLI on
# larger logs (seconds each, for every mutant they reach), and check the command and the log reader, not replay.
DESELECT: dict[str, tuple[str, ...]] = {
    "banditmap/ope/replay.py": tuple(f"tests/test_replay.py::{name}" for name in (
        "test_replay_command_on_generated_logs",
        "test_replay_reads_the_open_bandit_dataset_layout_with_default_columns",
        "test_replay_without_a_profile_reads_the_problem_off_the_log", "test_plot_is_written", "test_other_bad_input",
        "test_bad_algorithm_choices", "test_parquet_logs_when_pyarrow_is_installed")) + (
        "tests/test_replay_compositions.py::test_replay_command_runs_named_compositions",),
    # a race in one thread against several: in plain Python (PLAIN_PYTHON's bind) threads would share the
    # globals a race's kernels are bound in; the one-thread numbers are checked by the rest of each file
    "banditmap/sim/kernels/linear.py": ("tests/test_compiled_conservative.py::"
                                        "test_a_conservative_race_gives_the_same_numbers_in_one_thread_or_several",),
    "banditmap/sim/kernels/assortment.py": (
        "tests/test_kernels_slate_offers_exact.py::test_the_offers_race_is_the_same_in_one_thread_or_several",),
    # the evidence tests that race (a build, a Dask cluster) check the build, not the ranking's arithmetic
    **{module: tuple(f"tests/test_evidence.py::{name}" for name in (
        "test_the_build_races_every_class_candidate_on_shared_problems_and_resumes",
        "test_a_dask_cluster_builds_the_same_file", "test_the_shipped_evidence_was_built_from_the_shipped_grid"))
       for module in ("banditmap/recommend/matching.py", "banditmap/recommend/evidence.py")},
}
CAUGHT = {"killed", "timeout", "segfault", "caught by type check"}

# Loaded by pytest in the scratch copy: tests run in the order of the module's selection, so a caught mutant
# fails fast; hypothesis draws the same examples on every run, so a run can be repeated, and sets no deadline (the
# first example of a run may compile kernels, and the machine is shared).
ORDER_PLUGIN = '''
from hypothesis import settings

settings.register_profile("mutation", derandomize=True, database=None, print_blob=False, deadline=None)
settings.load_profile("mutation")
ORDER = {order!r}


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: ORDER.index(item.nodeid.split("::")[0]) if item.nodeid.split("::")[0] in ORDER
               else len(ORDER))
'''


# In the scratch copy, a kernel's `@jit` is applied after its definition instead (`f = jit(f)`, the same
# object under NUMBA_DISABLE_JIT): mutmut leaves decorated functions unmutated. And arms.bind, which compiles a race
# template with its free names (choose, learn) bound to a policy's kernels by copying the template's code object,
# instead binds them in the template module's globals for the length of each call: mutmut's trampoline is a closure
# whose code cannot be copied so, and it calls the template's original or mutated copy, which reads those globals.
BIND = '''
def bind(template, name, nogil=False, namespace=None, **kernels):  # pragma: no mutate block
    scope = globals() if namespace is None else namespace

    def bound(*args):
        saved = {key: scope[key] for key in kernels}
        scope.update(kernels)
        try:
            return template(*args)
        finally:
            scope.update(saved)

    bound.__name__ = bound.__qualname__ = name
    return bound
'''


def names_jit(decorator: ast.expr) -> bool:
    """`@jit` or `@jit(...)` (kernels/__init__.py)."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Name) and target.id == "jit"


def plain_python(source: str) -> str:
    """The kernels' source as mutmut can mutate it and plain Python can run it (see BIND)."""
    lines = source.splitlines()
    tree = ast.parse(source)
    for node in reversed(tree.body):
        if not isinstance(node, ast.FunctionDef):
            continue
        if node.name == "bind":
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            lines[start:node.end_lineno] = BIND.strip("\n").splitlines()
            continue
        jit = [d for d in node.decorator_list if names_jit(d)]
        if not jit:
            continue
        if len(node.decorator_list) != 1:
            sys.exit(f"{node.name}: a kernel with decorators besides jit is not handled")
        decorator = ast.get_source_segment(source, jit[0])
        assert node.end_lineno is not None and jit[0].end_lineno is not None
        lines[node.end_lineno:node.end_lineno] = [f"{node.name} = {decorator}({node.name})"]
        del lines[jit[0].lineno - 1:jit[0].end_lineno]
    return "\n".join(lines) + "\n"


@dataclass
class Entry:
    """One reviewed equivalent mutant: its name, the line it writes, why it cannot change behaviour."""

    name: str
    line: str
    reason: str
    used: bool = False


@dataclass
class Outcome:
    module: str
    statuses: dict[str, str] = field(default_factory=dict)
    equivalent: list[str] = field(default_factory=list)
    survivors: list[tuple[str, str, str]] = field(default_factory=list)  # name, status, the changed line
    stale: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.statuses) - len(self.equivalent)

    @property
    def caught(self) -> int:
        return sum(s in CAUGHT for n, s in self.statuses.items() if n not in self.equivalent)

    def line(self) -> str:
        score = 100.0 * self.caught / self.total if self.total else 100.0
        return (f"{self.module}: {self.caught}/{self.total} ({score:.1f}%)  "
                f"[{len(self.equivalent)} equivalent excluded, {self.seconds / 60:.1f} min]")


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, Entry]:
    """`mutant name | the line the mutant writes | reason`, one a line; # starts a comment."""
    entries: dict[str, Entry] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        name, _, rest = text.partition(" | ")
        line, _, reason = rest.rpartition(" | ")  # the mutated line may hold " | " itself; the reason may not
        parts = [name.strip(), line.strip(), reason.strip()]
        if not all(parts):
            sys.exit(f"{path}:{number}: expected `mutant name | mutated line | reason`")
        entries[parts[0]] = Entry(parts[0], parts[1], parts[2])
    return entries


COPIED = ("banditmap", "catalog", "tests", "pyproject.toml")  # what a scratch copy holds of the project


def copy_project(work: Path, at: str | None) -> None:
    """The project's sources into `work`: from the work tree, or as committed at `at` (a commit or branch)."""
    if at is None:
        ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
        for name in COPIED[:-1]:
            shutil.copytree(ROOT / name, work / name, ignore=ignore)
        shutil.copy(ROOT / COPIED[-1], work / COPIED[-1])
        return
    done = subprocess.run(["git", "archive", "--format=tar", at, *COPIED], cwd=ROOT, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"git archive {at}: {done.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(work, filter="data")


def measured(at: str | None, modules: list[str]) -> str:
    """Which state of the project a run measures: a commit, and the files it differs in from the work tree."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.rstrip()
    commit = git("rev-parse", "--short", at or "HEAD")
    if at is not None:
        return f"commit {commit} (as committed)"
    changed = [p for p in git("status", "--porcelain", "--", *COPIED).splitlines()
               if any(m in p for m in modules) or "tests/" in p]
    return f"work tree at {commit}" + (f", uncommitted: {', '.join(c[3:] for c in changed)}" if changed else "")


def scratch_copy(module: str, tests: tuple[str, ...], where: Path, at: str | None = None) -> Path:
    work = where / module.replace("/", "_").removesuffix(".py")
    copy_project(work, at)
    present = tuple(t for t in tests if (work / t.split("::")[0]).exists())  # a file, or a test in one (node id)
    if not present:  # mutmut would run the whole suite instead, and call slow timeouts caught
        sys.exit(f"{module}: none of its tests is present ({', '.join(tests)}): nothing to measure it against")
    if present != tests:
        print(f"  {module}: not present, so not run: {', '.join(t for t in tests if t not in present)}")
        tests = present
    if module.startswith("banditmap/sim/kernels/"):
        for kernel in (work / "banditmap" / "sim" / "kernels").glob("*.py"):
            kernel.write_text(plain_python(kernel.read_text()))
    (work / "_mutation_order.py").write_text(ORDER_PLUGIN.format(order=list(tests)))
    lines = "\n    ".join
    (work / "setup.cfg").write_text(f"""[mutmut]
source_paths = banditmap
only_mutate = {module}
also_copy =
    catalog
    _mutation_order.py
pytest_add_cli_args_test_selection =
    {lines(tests + tuple(f"--deselect={t}" for t in DESELECT.get(module, ())))}
pytest_add_cli_args =
    -p
    _mutation_order
    -p
    no:cacheprovider
    -m
    not slow
timeout_multiplier = 1.5
""")
    return work


def mutmut(work: Path, *args: str, extra: dict[str, str] | None = None) -> str:
    tool = Path(sys.executable).parent / "mutmut"
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", **(extra or {}))
    env.pop("BANDITMAP_CATALOG", None)
    done = subprocess.run([str(tool), *args], cwd=work, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"mutmut {' '.join(args)} failed in {work}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def changed_line(work: Path, name: str) -> str:
    """The line a mutant writes (the diff's added lines, joined), as `mutmut show` gives it."""
    diff = mutmut(work, "show", name).splitlines()
    added = [line[1:].strip() for line in diff if line.startswith("+") and not line.startswith("+++")]
    return " ".join(added) if added else "(a line removed)"


def run_module(module: str, tests: tuple[str, ...], where: Path, jobs: int, known: dict[str, Entry],
               at: str | None = None) -> Outcome:
    work = scratch_copy(module, tests, where, at)
    started = time.monotonic()
    log = mutmut(work, "run", "--max-children", str(jobs), extra=ENVIRONMENT.get(module))
    (work / "mutmut-run.log").write_text(log)
    outcome = Outcome(module, seconds=time.monotonic() - started)
    for line in mutmut(work, "results", "--all", "true").splitlines():
        found = re.match(r"\s*(\S+): (.+)$", line)
        if found:
            outcome.statuses[found[1]] = found[2].strip()
    prefix = module.removesuffix(".py").replace("/", ".") + "."
    listed = {name: entry for name, entry in known.items()
              if name.startswith(prefix) and "." not in name[len(prefix):]}
    shown = {name for name, status in outcome.statuses.items() if name in listed or status not in CAUGHT}
    with ThreadPoolExecutor(max(jobs, 1)) as pool:  # one `mutmut show` each, a second or two apiece
        lines = dict(zip(sorted(shown), pool.map(lambda name: changed_line(work, name), sorted(shown))))
    for name, entry in listed.items():
        entry.used = True
        if name in outcome.statuses and lines[name] == entry.line:
            outcome.equivalent.append(name)
        else:
            outcome.stale.append(name)
    for name, status in sorted(outcome.statuses.items()):
        if status not in CAUGHT and name not in outcome.equivalent:
            outcome.survivors.append((name, status, lines[name]))
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default: all of {', '.join(MODULES)})")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants tested at once")
    parser.add_argument("--keep", type=Path, help="keep the scratch copies here (default: a temporary folder)")
    parser.add_argument("--at", metavar="COMMIT", help="mutate the project as committed at COMMIT (e.g. HEAD) "
                        "instead of the work tree")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"not a core module: {', '.join(unknown)}; expected one of {', '.join(MODULES)}")
    if args.at is not None:  # fixed once: a branch or HEAD may move while the run goes on
        done = subprocess.run(["git", "rev-parse", "--verify", f"{args.at}^{{commit}}"], cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode != 0:
            parser.error(f"--at {args.at}: not a commit")
        args.at = done.stdout.strip()
    known = read_equivalent()
    where = args.keep or Path(tempfile.mkdtemp(prefix="banditmap-mutation-"))
    where.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    outcomes = []
    print(f"measuring the {measured(args.at, args.modules or list(MODULES))}", flush=True)
    try:
        for module in args.modules or list(MODULES):
            outcome = run_module(module, MODULES[module], where, args.jobs, known, args.at)
            outcomes.append(outcome)
            print(outcome.line(), flush=True)
            for name, status, line in outcome.survivors:
                print(f"    {status}: {name}: {line}")
            for name in outcome.stale:
                print(f"    stale entry in {EQUIVALENT.name} (no such mutant, or it now writes another line): {name}")
    finally:
        if args.keep is None:
            shutil.rmtree(where, ignore_errors=True)
    print(f"mutation run: {(time.monotonic() - started) / 60:.1f} min on {args.jobs} workers")
    if not args.modules:
        orphans = [e.name for e in known.values() if not e.used]
        for name in orphans:
            print(f"stale entry in {EQUIVALENT.name} (names no core module): {name}")
    else:
        orphans = []
    return 1 if orphans or any(o.stale for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Mutation testing of the rule modules (``[tool.mutmut]`` in pyproject.toml): runs mutmut, then
writes each module's score to the docs.

Every surviving mutant is either killed by a test or listed in ``EQUIVALENT`` below with the reason
no test can tell it from the original. A survivor that is neither, or an entry of ``EQUIVALENT``
that no longer survives (its function changed, so mutmut renumbered its mutants), fails the run.

    python bench/mutation.py --out docs/mutation.md            # a fresh mutmut run, the report
    python bench/mutation.py --resume                          # keep mutmut's cache (mutants/)
    python bench/mutation.py --no-run --out docs/mutation.md   # report on the last run only
    python bench/mutation.py --mutants 'pipelines.audit.log.x*'  # (re-)test these, keep the rest

mutmut keeps each mutant's result and re-tests only functions whose code changed, not survivors
of a function that new tests now cover: so the default starts from scratch. While killing
survivors, re-test them by name instead (``--mutants``, or ``mutmut run NAME...``). A change to
``pytest_add_cli_args_test_selection`` makes mutmut forget every result.

The machine's cores are shared: mutmut runs under ``nice -n 10`` with 2 children by default, each
with one polars thread (``POLARS_MAX_THREADS=1``); under mutmut the Hypothesis tests of matching
and retention draw 25 fixed examples and do not shrink a failure (they read mutmut's own
``MUTANT_UNDER_TEST``).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.90  # issue 12: at least 90 % of each module's mutants killed

# Survivors no test can kill: the mutant behaves as the original for every input. Keyed by
# mutmut's name (see it with `mutmut show NAME`); one line each, why it is equivalent.
_CHECKS = "pipelines.ingest.checks.x_"
_PLATES = "pipelines.recognition.plates.x_"
_CONFIG = "pipelines.config.x"
_PARSE = "pipelines.hotlists.parse.x_"
_SUPPRESS = "pipelines.matching.suppress.x_"
_MATCH = "pipelines.matching.match.x_"
_KEYS = "pipelines.matching._keys.x_"
_POLICY = "pipelines.retention.policy.x_"
_LOG = "pipelines.audit.log.x_"
_CAST_AT_END = "a null column of any type: _finish casts the entries to PARSED_SCHEMA"
_NEVER_NULL = (
    "no sort key is ever null: read and entry ids are their tables' keys, and every read has "
    "a camera and a capture time (ingest refuses an image without them)"
)
_UNREACHABLE_SIZE = (
    "unreachable: PIL's open refuses an image with a zero side and the JPEG fast path refuses "
    "one itself, so no image reaches this guard"
)
EQUIVALENT: dict[str, str] = {
    f"{_CHECKS}inspect_image__mutmut_57": "PIL sets format on every image its open returns",
    f"{_CHECKS}inspect_image__mutmut_58": "PIL sets format on every image its open returns",
    **{
        f"{_CHECKS}inspect_image__mutmut_{n}": _UNREACHABLE_SIZE
        for n in (113, 114, 116, 118, 119, 120, 121)
    },
    **{
        f"{_CHECKS}_jpeg_frame__mutmut_{n}": "a frame header of length 8 has room for no "
        "component, and a count of 0 is refused just after"
        for n in (52, 53)
    },
    **{
        f"{_CHECKS}_webp_size__mutmut_{n}": "the extra byte lands above the bits the 14-bit "
        "masks keep"
        for n in (19, 29, 47)
    },
    f"{_CHECKS}_tiff_size__mutmut_41": "the range ends 4 bytes sooner but still takes the last "
    "entry, which starts 12 bytes before its end",
    f"{_CHECKS}_timestamp__mutmut_8": "Python 3.11's fromisoformat reads 'Z' itself",
    f"{_CHECKS}resolve_capture__mutmut_35": "the default source is never used: no time raises",
    **{
        f"{_PLATES}fit_lookalikes__mutmut_{n}": "zip of equal lengths (formats of another length "
        "are skipped just before): strict or not, the same pairs"
        for n in (21, 24, 25)
    },
    f"{_PLATES}fit_lookalikes__mutmut_38": "without confidences every fix costs the same constant, "
    "so the ranking is unchanged",
    f"{_PLATES}guess_jurisdiction__mutmut_15": "errors are whole numbers: errors <= n/4 exactly "
    "when errors <= n//4",
    **{
        f"{_PLATES}_substring_distance__mutmut_{n}": "a wider mask keeps bits above the pattern "
        "length, which never flow down (carries and left shifts move up) and are never read"
        for n in (18, 19)
    },
    **{
        f"{_CONFIG}__coerce__mutmut_{n}": "the quoted type names are dead alternatives: _build "
        "resolves annotations with get_type_hints, so _coerce only ever gets the types"
        for n in (2, 3, 27, 28, 31, 32, 35, 36, 39, 40, 41)
    },
    f"{_CONFIG}ǁSettingsǁas_env__mutmut_40": "an empty prefix and None are both falsy in walk",
    **{
        f"{_CONFIG}ǁSettingsǁmasked__mutmut_{n}": "url.split('/', k)[0] and [2] are the same for "
        "any maxsplit k of 2 or more, or none"
        for n in (46, 49, 54, 57)
    },
    f"{_CONFIG}ǁHotlistSourceǁ__post_init____mutmut_40": "split('/', 2)[0] is split('/', 1)[0]",
    f"{_CONFIG}ǁHotlistSourceǁ__post_init____mutmut_36": "split('/')[0] is split('/', 1)[0]",
    f"{_CHECKS}_exif_time__mutmut_16": "also stripping 'X': an EXIF date never starts or ends so",
    **{
        f"{_PLATES}plate_candidates__mutmut_{n}": "zip of equal lengths (checked just before): "
        "strict or not, the same pairs"
        for n in (20, 23, 24, 135, 138, 139)
    },
    f"{_PLATES}plate_candidates__mutmut_67": "no look-alikes: dict.fromkeys of nothing is {} too",
    f"{_PLATES}plate_candidates__mutmut_72": "look-alike weights are divided by their total",
    f"{_PLATES}plate_candidates__mutmut_77": "a total of 0 means no alternatives to add",
    f"{_PLATES}plate_candidates__mutmut_124": "readings in the pool are unique (one per index "
    "vector, distinct characters per column), so there is never an earlier score to keep",
    # pipelines/hotlists/parse.py
    f"{_PARSE}_lines__mutmut_4": "UTF-8 is bytes.decode's default",
    f"{_PARSE}_lines__mutmut_7": "codec names are case-insensitive",
    f"{_PARSE}_lines__mutmut_11": "the last newline kept gives one more, empty, line: blank lines "
    "are dropped and the line numbers before it are the same",
    **{
        f"{_PARSE}_lines__mutmut_{n}": "the frame names the column 'text' by its key, whatever "
        "the series' own name"
        for n in (16, 19, 22, 23)
    },
    **{
        f"{_PARSE}_lines__mutmut_{n}": "a list of str is String without being told"
        for n in (18, 21)
    },
    f"{_PARSE}_split__mutmut_11": "int_range makes Int64 already: the cast changes nothing",
    **{f"{_PARSE}parse_ncic__mutmut_{n}": _CAST_AT_END for n in (14, 54, 56)},
    **{
        f"{_PARSE}_ncic_records__mutmut_{n}": "'0' has no regex metacharacter: replaced the same "
        "as a literal"
        for n in (67, 77)
    },
    **{
        f"{_PARSE}_fixed_width_header_problem__mutmut_{n}": "the header probe's line number and "
        "its column name are never read: only its problem is"
        for n in (13, 14, 15)
    },
    **{f"{_PARSE}_ccic_records__mutmut_{n}": _CAST_AT_END for n in (51, 52, 53)},
    **{f"{_PARSE}_ccic_records__mutmut_{n}": _CAST_AT_END for n in (102, 104, 105, 107, 108, 110)},
    **{f"{_PARSE}parse_csv__mutmut_{n}": _CAST_AT_END for n in (101, 157, 159)},
    f"{_PARSE}parse_csv__mutmut_51": "a line without a plate field fails the check before "
    "(6 comma-separated fields expected); its raw plate is never read",
    **{
        f"{_PARSE}parse_csv__mutmut_{n}": "_finish casts expires_at to PARSED_SCHEMA's UTC: a "
        "naive midnight (taken as UTC) or one in 'utc' is the same instant"
        for n in (168, 174)
    },
    f"{_PARSE}_unquote__mutmut_3": "a field the line pattern accepts starts with a quote exactly "
    "when it ends with one",
    **{
        f"{_PARSE}_unquote__mutmut_{n}": "'\"\"' has no regex metacharacter and '\"' no group "
        "reference: replaced the same as literals"
        for n in (16, 26)
    },
    **{
        f"{_PARSE}_finish__mutmut_{n}": "zip of two columns of one frame: strict or not, the "
        "same pairs"
        for n in (12, 15, 20)
    },
    **{
        f"{_PARSE}_merge_duplicates__mutmut_{n}": "the merged rows are sorted by line right "
        "after: the group order does not count"
        for n in (32, 35)
    },
    # pipelines/matching/suppress.py
    **{f"{_SUPPRESS}suppress_duplicates__mutmut_{n}": _NEVER_NULL for n in (18, 23, 35, 50)},
    # pipelines/matching/match.py
    **{
        f"{_MATCH}lookup__mutmut_{n}": "the probe read's id is never shown: any id joins the same"
        for n in (13, 14)
    },
    **{
        f"{_MATCH}lookup__mutmut_{n}": "a str literal is String without being told"
        for n in (16, 18)
    },
    **{
        f"{_MATCH}lookup__mutmut_{n}": "the order key's integer type or the larger rank of "
        "'lenient' sorts the same"
        for n in (60, 62, 71)
    },
    **{
        f"{_MATCH}match_reads__mutmut_{n}": "match_key is idempotent: an entry's match key "
        "normalized and folded again is the same key"
        for n in (36, 38, 41)
    },
    **{
        f"{_MATCH}_exact_hits__mutmut_{n}": "a read's text is normalize_plate output "
        "(PlateRead guarantees it): normalizing it again changes nothing"
        for n in (15, 17, 20)
    },
    **{
        f"{_MATCH}_read_texts__mutmut_{n}": "a candidate's rank null (sorted last) or 2 still "
        "sorts after the read's own text at 0"
        for n in (27, 52, 56)
    },
    **{
        f"{_MATCH}_lenient_pairs__mutmut_{n}": "a fold two or more characters longer or "
        "shorter than every entry's is never within one edit: the window only saves work"
        for n in (18, 20)
    },
    f"{_MATCH}_lenient_pairs__mutmut_25": "at exactly BALL_MAX_ENTRIES the other plan runs, "
    "which gives the same hits (match_both_ways checks both on every test)",
    f"{_MATCH}_neighbourhood_pairs__mutmut_48": "a position past every fold's end deletes "
    "nothing (null), and null joins no key",
    **{
        f"{_MATCH}_neighbourhood_pairs__mutmut_{n}": "parallel only schedules the collection of "
        "concat's inputs: the same rows"
        for n in (81, 90)
    },
    **{f"{_MATCH}_as_matches__mutmut_{n}": _NEVER_NULL for n in (10, 70)},
    # pipelines/matching/_keys.py
    f"{_KEYS}edit_ball__mutmut_19": "int_ranges(n) is int_ranges(0, n)",
    f"{_KEYS}edit_ball__mutmut_21": "the positions are only sliced at and compared: Int64 or "
    "Int16, the same keys",
    **{
        f"{_KEYS}edit_ball__mutmut_{n}": "the extra position is at or past the end: a deletion "
        "or substitution there leaves the key whole, an insertion there appends, as at the end: "
        "repeated keys only, the ball is the same set"
        for n in (24, 57, 70)
    },
    # pipelines/retention/policy.py
    f"{_POLICY}plan_deletions__mutmut_25": "held_images holds image_id and a constant: unique "
    "over every column is unique over image_id",
    f"{_POLICY}plan_deletions__mutmut_65": "nulls_equal=False is the join's default",
    # pipelines/audit/log.py
    **{
        f"{_LOG}verify_chain__mutmut_{n}": "the rows come in batches of another size or all at "
        "once: the same rows in the same order"
        for n in (3, 4)
    },
    f"{_LOG}_lock_chain__mutmut_8": "WHERE false updates no row: no value is ever written",
    f"{_LOG}_lock_chain__mutmut_9": "where(None) renders WHERE NULL, which updates no row either",
    f"{_LOG}_canonical__mutmut_4": "json.dumps reads ensure_ascii=None as false",
}

# Survivors of mutmut's pure selection that a test outside it kills, each checked by hand:
# ``cd mutants && MUTANT_UNDER_TEST=<name> pytest <test>`` fails (and passes with no mutant).
# Counted as killed; listed in the docs with the test.
_ON_POSTGRES = "tests/pipelines/audit/test_log.py on PostgreSQL (the engine fixture)"
KILLED_ELSEWHERE: dict[str, str] = {
    f"{_LOG}verify_chain__mutmut_5": f"{_ON_POSTGRES}: an updated row moves to the end of the "
    "heap, so rows read without ORDER BY come out of event order",
    **{
        f"{_LOG}_lock_chain__mutmut_{n}": f"{_ON_POSTGRES}: the advisory lock is PostgreSQL's "
        "branch; without it concurrent writers fork the chain (unique prev_hash violated)"
        for n in (2, 3, 4, 5, 6)
    },
}

# Survivors that are not equivalent but stay, with why: counted as survived, shown in the docs.
OPEN: dict[str, str] = {
    **{
        f"{_CHECKS}inspect_image__mutmut_{n}": "decodes JPEG and PNG as well: stricter, told "
        "apart only by a corrupt middle with a clean end, which the end-marker design accepts"
        for n in (95, 96, 97, 98)
    },
    f"{_CHECKS}_timestamp__mutmut_9": "also accepts a lower-case 'z' zone, which RFC 3339 "
    "allows; refusing it is no policy rule either way",
    **{
        f"{_PARSE}_merge_duplicates__mutmut_{n}": "unique() without maintain_order: polars 2.1 "
        "keeps a group's first-seen order anyway (checked with 5,000 values on one thread), "
        "so no test tells them apart; the API does not promise it, hence maintain_order"
        for n in (49, 53, 59, 63)
    },
}

# mutmut's exit codes (mutmut.stats.status_by_exit_code): a timeout or crash is a detected mutant.
KILLED = {1, 3, 24, -24, 36, 152, 255, -9, -11}
TIMEOUT = {24, -24, 36, 152, 255}  # of KILLED: stopped by the time limit, not a failing test
SURVIVED = {0}
NO_TESTS = {5, 33}
NOT_RUN = {None}


@dataclass
class ModuleScore:
    path: str
    total: int = 0
    killed: int = 0
    timeouts: int = 0
    survived: list[str] = field(default_factory=list)
    no_tests: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)  # generated, not tested yet
    other: list[str] = field(default_factory=list)  # suspicious, type check

    @property
    def equivalent(self) -> list[str]:
        return [m for m in self.survived if m in EQUIVALENT]

    @property
    def open(self) -> list[str]:
        return [m for m in self.survived if m in OPEN]

    @property
    def killed_elsewhere(self) -> list[str]:
        return [m for m in self.survived if m in KILLED_ELSEWHERE]

    @property
    def unexplained(self) -> list[str]:
        listed = EQUIVALENT.keys() | OPEN.keys() | KILLED_ELSEWHERE.keys()
        return [
            m for m in self.survived + self.no_tests + self.not_run + self.other if m not in listed
        ]

    @property
    def score(self) -> float:
        """Killed (by mutmut's selection or, checked by hand, by a test outside it) among the
        mutants that a test could kill (equivalent ones left out)."""
        killable = self.total - len(self.equivalent)
        killed = self.killed + len(self.killed_elsewhere)
        return killed / killable if killable else 1.0


def mutmut_config() -> dict[str, list[str]]:
    config: dict[str, list[str]] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "mutmut"
    ]
    return config


def mutated_modules(config: dict[str, list[str]]) -> list[str]:
    sources = [p for s in config["source_paths"] for p in sorted((ROOT / s).rglob("*.py"))]
    relative = [str(p.relative_to(ROOT)) for p in sources]
    return [p for p in relative if any(fnmatch.fnmatch(p, g) for g in config["only_mutate"])]


def scores(modules: list[str]) -> list[ModuleScore]:
    out = []
    for module in modules:
        meta = ROOT / "mutants" / f"{module}.meta"
        if not meta.exists():
            raise SystemExit(f"{meta} is missing: run mutmut first (make mutate)")
        score = ModuleScore(module)
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            score.total += 1
            if code in KILLED:
                score.killed += 1
                score.timeouts += code in TIMEOUT
            elif code in SURVIVED:
                score.survived.append(name)
            elif code in NO_TESTS:
                score.no_tests.append(name)
            elif code in NOT_RUN:
                score.not_run.append(name)
            else:
                score.other.append(name)
        out.append(score)
    return out


def report(results: list[ModuleScore], command: str, seconds: float | None) -> str:
    stale = _stale(results)
    lines = [
        "# Mutation testing",
        "",
        "Small deliberate bugs (mutants) made by [mutmut](https://pypi.org/project/mutmut/) in the",
        "pure modules that carry the policy's rules; each mutant must make a test fail. Modules and",
        "the fast pure tests run against them (no SeaweedFS, PostgreSQL or model): `[tool.mutmut]`",
        "in pyproject.toml. Too slow for CI: run it before resolving an issue that touches these",
        "modules. A surviving mutant is killed with a test that asserts behaviour, or listed below",
        "as equivalent (no input tells it from the original) in `EQUIVALENT` of",
        "`bench/mutation.py`; the score leaves the equivalent ones out. A survivor that a test",
        "outside the selection kills (PostgreSQL's), checked by hand, counts as killed and is",
        "listed with that test. A timeout counts as killed, as mutmut counts it.",
        "",
        "How it runs: each mutant's tests run in a process forked from mutmut's fork server",
        '(`process_isolation = "forkserver"`): forked from the main process, which has run',
        "polars' thread pool, a child hangs on its first parallel operation, and every such hang",
        "was counted as a kill (the scores of earlier runs of suppress.py and retention policy",
        "were inflated so). Under `nice -n 10`, 2 children, `POLARS_MAX_THREADS=1`; a run is",
        "stopped after 4x (its tests' time + 5 s) of wall time. Under mutmut the Hypothesis tests",
        "of matching and retention draw 25 fixed (derandomised) examples and do not shrink.",
        "",
        f"- command: `{command}`",
        f"- date: {datetime.now(UTC):%Y-%m-%d}, mutmut {_mutmut_version()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores",
    ]
    lines.append(f"- code: {_revision()}")
    if seconds is not None:
        lines.append(f"- runtime: {seconds / 60:.1f} min")
    lines += [
        "",
        "| module | total | killed | (timeouts) | survived | equivalent | killed by other tests "
        "| no test | not run | score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        mark = "" if r.score >= TARGET else " (below 90 %)"
        lines.append(
            f"| `{r.path}` | {r.total} | {r.killed} | {r.timeouts} | {len(r.survived)} | "
            f"{len(r.equivalent)} | {len(r.killed_elsewhere)} | {len(r.no_tests)} | "
            f"{len(r.not_run)} | {100 * r.score:.1f} %{mark} |"
        )
    lines += ["", "## Equivalent mutants", ""]
    for r in results:
        if r.equivalent:
            lines += [f"`{r.path}`:", ""]
            lines += [f"- `{_short(m)}`: {EQUIVALENT[m]}" for m in sorted(r.equivalent, key=_key)]
            lines.append("")
    if any(r.killed_elsewhere for r in results):
        lines += ["## Survivors killed by tests outside the selection", ""]
        for r in results:
            lines += [
                f"- `{r.path}` `{_short(m)}`: {KILLED_ELSEWHERE[m]}"
                for m in sorted(r.killed_elsewhere, key=_key)
            ]
        lines.append("")
    if any(r.open for r in results):
        lines += ["## Survivors kept, not equivalent", ""]
        for r in results:
            lines += [f"- `{r.path}` `{_short(m)}`: {OPEN[m]}" for m in sorted(r.open, key=_key)]
        lines.append("")
    unexplained = [m for r in results for m in r.unexplained]
    if unexplained or stale:
        lines += ["## Not reviewed yet", ""]
        not_run = {m for r in results for m in r.not_run}
        lines += [
            f"- `{m}`: "
            + ("not run yet" if m in not_run else "survived, neither killed nor explained")
            for m in unexplained
        ]
        lines += [f"- `{m}`: listed above but no longer survives" for m in stale]
    return "\n".join(lines).rstrip() + "\n"


def _stale(results: list[ModuleScore]) -> list[str]:
    """Listed survivors of the modules run that no longer survive (renumbered or now killed)."""
    listed = EQUIVALENT.keys() | OPEN.keys() | KILLED_ELSEWHERE.keys()
    seen = {m for r in results for m in r.survived + r.not_run}
    modules = {r.path.removesuffix(".py").replace("/", ".") for r in results}
    return sorted(m for m in listed - seen if m.split(".x", 1)[0] in modules)


def _short(name: str) -> str:
    """``x__coerce__mutmut_2`` as ``_coerce__mutmut_2``, ``xǁCǁm__mutmut_1`` as ``C.m__mutmut_1``."""
    if ".x" not in name:
        return name
    rest = name.split(".x", 1)[1]
    return rest[1:].replace("ǁ", ".", 1) if rest.startswith("ǁ") else rest[1:]


def _key(name: str) -> tuple[str, int]:
    match = re.search(r"^(.*)__mutmut_(\d+)$", name)
    return (match.group(1), int(match.group(2))) if match else (name, 0)


def _revision() -> str:
    """The commit the mutated modules come from, and whether they had changes on top of it."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", *mutated_modules(mutmut_config())],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    changed = ", ".join(line[3:] for line in dirty.splitlines())
    return f"{head}, with uncommitted changes to {changed}" if dirty else head


def _mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="markdown file to write the scores to")
    parser.add_argument("--no-run", action="store_true", help="report on the last run only")
    parser.add_argument("--resume", action="store_true", help="keep mutmut's cached results")
    parser.add_argument(
        "--mutants", nargs="+", metavar="NAME", help="(re-)test only these (globs); keeps the rest"
    )
    parser.add_argument("--max-children", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--runtime", type=float, help="with --no-run: the run's minutes, for the docs"
    )
    args = parser.parse_args()
    command = f"mutmut run --max-children {args.max_children}"
    seconds = args.runtime * 60 if args.runtime else None
    if not args.no_run:
        mutmut = Path(sys.executable).with_name("mutmut")
        if not (args.resume or args.mutants):
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        env = os.environ | {"POLARS_MAX_THREADS": "1"}  # the children are the parallelism
        start = time.monotonic()
        subprocess.run(
            ["nice", "-n", "10", str(mutmut), *command.split()[1:], *(args.mutants or [])],
            cwd=ROOT,
            env=env,
            check=False,
        )
        seconds = time.monotonic() - start
    results = scores(mutated_modules(mutmut_config()))
    text = report(results, "make mutate", seconds)
    if args.out:
        args.out.write_text(text)
    print(text.split("\n## ")[0])
    failed = [r for r in results if r.score < TARGET or r.unexplained]
    stale = _stale(results)
    for r in failed:
        print(f"{r.path}: {100 * r.score:.1f} %, {len(r.unexplained)} survivors not reviewed")
    for m in sorted(stale):
        print(f"{m}: listed as equivalent but no longer survives (renumbered?)")
    return 1 if failed or stale else 0


if __name__ == "__main__":
    sys.exit(main())

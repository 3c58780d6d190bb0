"""Seeded mutations of lesson 3's lesson.yaml: no input makes quizkit crash, hang or run out of memory.

Every mutation (truncation, byte flips, deleted, duplicated or swapped lines, indentation changes,
alias tricks, deep nesting, huge or special numbers, wrong types, unclosed quotes, odd case values
and random blocks, ...) is loaded in-process: the loader returns a lesson with no problems or
problems without a lesson, never raises, and a lesson that loads can be built by numpy (every case
argument and every random draw), which is what grading does first. A sample goes through the
commands (``list``, ``check``) in-process under a memory and time cap, and a smaller one through the
real console script (``list``, ``check``, ``validate --no-mutants``) under a CPU-time and memory
limit: each ends with exit 0, 1 or 2, a one-line message for exit 2, and no traceback.

The mutations are a pure function of their number, so a failure names a mutation that can be
reproduced with ``mutate(number)``.
"""

from __future__ import annotations

import os
import random
import re
import resource
import shutil
import subprocess
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import capped, console_script

from quizkit.cli import main
from quizkit.lesson import read_lesson

REPO = Path(__file__).resolve().parent.parent
LESSON3 = REPO / "exercises" / "lesson3"
ORIGINAL = (LESSON3 / "lesson.yaml").read_bytes()
MUTATIONS = 320
# 25 mutations through the commands; a step prime to the number of kinds covers every kind. Each
# run of the console script costs a Python start (and, for validate, a sandbox and a SymPy worker),
# so a smaller sample of it checks what only a real process shows: the exit code and stderr of the
# script itself, within CPU-time and memory limits.
CLI_SAMPLE = range(0, MUTATIONS, 13)
SCRIPT_SAMPLE = CLI_SAMPLE[::5]
CPU_SECONDS = 20
MEMORY_BYTES = 2 << 30  # address space: the sandbox's numpy process needs room, an alias bomb far more

Mutation = Callable[[random.Random, bytes], bytes]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        buffer[rng.randrange(len(buffer))] = rng.choice(
            [rng.randrange(256), ord(":"), ord("-"), ord("'"), ord("\t"), 0xFF]
        )
    return bytes(buffer)


def delete_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    start = rng.randrange(len(lines))
    del lines[start : start + rng.randint(1, 4)]
    return b"".join(lines)


def duplicate_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    start = rng.randrange(len(lines))
    block = lines[start : start + rng.randint(1, 6)]
    return b"".join(lines[:start] + block + lines[start:])


def swap_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    first, second = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[first], lines[second] = lines[second], lines[first]
    return b"".join(lines)


def reindent(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(lines))
        change = rng.choice([b" ", b"  ", b"    ", b"\t", b""])
        stripped = lines[index].lstrip(b" ")
        indent = len(lines[index]) - len(stripped)
        lines[index] = (b" " * max(indent - 2, 0) if change == b"" else b" " * indent + change) + stripped
    return b"".join(lines)


_NUMBER = re.compile(rb"(?<=[\s\[{,:])-?\d+(\.\d+)?(e[-+]?\d+)?(?=[\s\]},])")
HUGE_NUMBERS = [
    b"1e308",
    b"-1e308",
    b"1e400",
    b".nan",
    b".inf",
    b"-.inf",
    b"99999999999999999999999",
    b"-0",
    b"1e-400",
    b"0.5",
    b"100000",
    b"-1",
    b"0",
]


def huge_number(rng: random.Random, data: bytes) -> bytes:
    matches = list(_NUMBER.finditer(data))
    match = rng.choice(matches)
    return data[: match.start()] + rng.choice(HUGE_NUMBERS) + data[match.end() :]


_VALUE = re.compile(rb"(?m)^(\s*-?\s*[a-z_]+): (.+)$")
WRONG_TYPES = [
    b"[]",
    b"{}",
    b"null",
    b"true",
    b"no",
    b"''",
    b"[1, [2]]",
    b"{a: 1}",
    b"!!binary aGVsbG8=",
    b"!!python/object:os.system {}",
    b"2001-12-14",
    b"&x 1",
    b"*undefined",
    b"|\n  text",
    b"-",
]


def wrong_type(rng: random.Random, data: bytes) -> bytes:
    match = rng.choice(list(_VALUE.finditer(data)))
    return data[: match.start(2)] + rng.choice(WRONG_TYPES) + data[match.end(2) :]


def unclosed_quote(rng: random.Random, data: bytes) -> bytes:
    match = rng.choice(list(_VALUE.finditer(data)))
    return data[: match.start(2)] + rng.choice([b'"', b"'"]) + data[match.start(2) :]


def deep_nesting(rng: random.Random, data: bytes) -> bytes:
    depth = rng.choice([50, 99, 101, 500, 950, 990, 5000])
    nested = rng.choice([b"[" * depth + b"]" * depth, b"{a: " * depth + b"1" + b"}" * depth, b"[" * depth])
    return data.replace(b"title: L1 regularization (Lasso)", b"title: " + nested, 1)


def alias_trick(rng: random.Random, data: bytes) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return data.replace(b"title: L1 regularization (Lasso)", b"title: &a [*a]", 1)
    if kind == 1:
        levels, width = rng.choice([(9, 9), (5, 20), (3, 100), (12, 3)])
        bomb = [b"bomb0: &b0 [" + b", ".join([b"lol"] * width) + b"]"]
        bomb += [
            f"bomb{i}: &b{i} [".encode() + b", ".join([f"*b{i - 1}".encode()] * width) + b"]" for i in range(1, levels)
        ]
        return data + b"\n".join(bomb) + b"\n"
    if kind == 2:  # a whole question repeated through an alias: a duplicate id
        data = data.replace(b"  - id: l1-exact-zeros", b"  - &q1\n    id: l1-exact-zeros", 1)
        return data.replace(b"exercises:\n", b"  - *q1\nexercises:\n", 1)
    if kind == 3:
        return data.replace(b"title: L1 regularization (Lasso)", b"title: *nothing", 1)
    return data.replace(b"    hints:\n", b"    hints: &h\n", 1).replace(b"    hints:\n", b"    hints: *h\n    x:\n", 1)


CASE_VALUES = [
    b"[[1, 2], [3]]",
    b"{array: [1, 2, 3], shape: [2, 2]}",
    b"{array: [1, .nan], dtype: int64}",
    b"{array: [1e300], dtype: int64}",
    b"{array: [0.5], dtype: int64}",
    b"{array: [1e39], dtype: float32}",
    b"{array: " + b"[" * 70 + b"1" + b"]" * 70 + b"}",
    b"{array: [], shape: [0, 99999999999]}",
    b"{array: [], shape: [-1]}",
    b"{array: 1, dtype: complex128}",
    b"[]",
    b"[[]]",
    b"{array: [[1, 2], [3, 4]], shape: [4]}",
    b"{array: [1, 2], shape: [2.5]}",
    b".nan",
    b"[1, 2, three]",
]
GENERATORS = [
    b"{low: -1e308, high: 1e308}",
    b"{low: 0.5, high: 0.6, dtype: int64}",
    b"{shape: [100000, 100000], low: 0, high: 1}",
    b"{shape: [3000, 3000], low: 0, high: 1}",
    b"{low: 1, high: 0}",
    b"{low: .nan, high: 1}",
    b"{low: 0, high: 1e300, dtype: int64}",
    b"{low: 0, high: 1e300, dtype: float32}",
    b"{shape: [" + b", ".join([b"1"] * 70) + b"], low: 0, high: 1}",
    b"{low: 0, high: 1, zeros: 2}",
    b"{low: 0, high: 1, ties_with: w, ties: 0.5}",
    b"{shape: [2], low: -9.3e18, high: 9.3e18, dtype: int64}",
]


def odd_case_value(rng: random.Random, data: bytes) -> bytes:
    if rng.random() < 0.5:
        matches = list(re.finditer(rb"(?m)(?<=args: \{w: )(\{[^}]*\}|\[[^\]]*\]|[-\d.e]+)", data))
        match = rng.choice(matches)
        return data[: match.start()] + rng.choice(CASE_VALUES) + data[match.end() :]
    matches = list(re.finditer(rb"(?m)(?<=^          w: )\{.*\}$", data))
    match = rng.choice(matches)
    return data[: match.start()] + rng.choice(GENERATORS) + data[match.end() :]


def odd_count(rng: random.Random, data: bytes) -> bytes:
    matches = list(re.finditer(rb"(?<=count: )\d+", data))
    match = rng.choice(matches)
    count = rng.choice([b"0", b"1", b"1000", b"1001", b"10000", b"1e9", b"-5", b"2.5", b"many"])
    return data[: match.start()] + count + data[match.end() :]


def rename_key(rng: random.Random, data: bytes) -> bytes:
    match = rng.choice(list(_VALUE.finditer(data)))
    key = match.group(1)
    return data[: match.start(1)] + key[:-1] + rng.choice([b"x", b"", key[-1:] * 2]) + data[match.end(1) :]


def odd_characters(rng: random.Random, data: bytes) -> bytes:
    position = rng.randrange(len(data))
    insert = rng.choice(
        [
            b"\x00",
            b"\xef\xbb\xbf",
            "\u2028".encode(),
            b"\r",
            b"%YAML 1.1\n",
            b"---\n",
            b"...\n",
            b"\x1b[31m",
            b"{{",
            b"? ",
        ]
    )
    return data[:position] + insert + data[position:]


KINDS: list[Mutation] = [
    truncate,
    flip_bytes,
    delete_lines,
    duplicate_lines,
    swap_lines,
    reindent,
    huge_number,
    wrong_type,
    unclosed_quote,
    deep_nesting,
    alias_trick,
    odd_case_value,
    odd_count,
    rename_key,
    odd_characters,
]


def mutate(number: int) -> bytes:
    """Mutation ``number``: one kind in turn, applied once or (every fifth time) twice."""
    rng = random.Random(f"lesson3-fuzz-{number}")
    data = ORIGINAL
    for _ in range(2 if number % 5 == 4 else 1):
        data = KINDS[(number + _) % len(KINDS)](rng, data)
    return data


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of lesson 3 (starters and references) whose lesson.yaml each test overwrites."""
    root = tmp_path_factory.mktemp("fuzz") / "course"
    shutil.copytree(LESSON3, root / "exercises" / "lesson3")
    shutil.copytree(REPO / "solutions" / "lesson3", root / "solutions" / "lesson3")
    return root


def write(course: Path, number: int) -> Path:
    path = course / "exercises" / "lesson3" / "lesson.yaml"
    path.write_bytes(mutate(number))
    return path


def test_mutations_are_deterministic_and_mostly_different() -> None:
    first = [mutate(number) for number in range(60)]
    assert first == [mutate(number) for number in range(60)]
    assert len(set(first)) > 50
    assert sum(data == ORIGINAL for data in first) < 5


@pytest.mark.parametrize("number", range(MUTATIONS))
def test_mutated_lesson_loads_or_reports_problems(course: Path, number: int) -> None:
    with capped():  # a loader that expanded an alias bomb would fail here, not eat the machine
        lesson, problems = read_lesson(write(course, number))
    assert (lesson is None) == bool(problems)
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1
        assert "\n" not in problem.message.strip(), problem
    if lesson is not None:
        # What grading does first: every argument and every random draw is built by numpy.
        from quizkit.exercises import draw_random_cases, to_argument

        for exercise in lesson.exercises:
            for case in exercise.cases:
                for _, value in case.args:
                    to_argument(value)
            for group in exercise.random:
                assert len(draw_random_cases(group, exercise.parameters)) == group.count


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_limited(course: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*console_script(), "--course", str(course), *args],
        input="",
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env={**os.environ, "QUIZKIT_HOME": str(home), "PYTHONIOENCODING": "utf-8"},
        preexec_fn=_limits,
        timeout=CPU_SECONDS * 3,
    )


def copies_of(course: Path, home: Path, numbers: Sequence[int]) -> dict[int, Path]:
    """One course per mutation, so that two runs can overlap."""
    copies = {}
    for number in numbers:
        root = home / f"m{number}"
        shutil.copytree(course, root, ignore=shutil.ignore_patterns("lesson.yaml"))
        write(root, number)
        copies[number] = root
    return copies


def failure(number: int, returncode: int, output: str, errors: str) -> str:
    """What went wrong in one run, or "" (``errors``: what the run wrote on stderr)."""
    if returncode not in (0, 1, 2) or "Traceback" in output:
        return f"mutation {number}: exit {returncode}\n{output[-2000:]}"
    if returncode == 2 and not errors.startswith(("quizkit: error: ", "Usage: ")):
        return f"mutation {number}: exit 2 without a one-line message\n{output[-2000:]}"
    return ""


def run_sample(course: Path, home: Path, numbers: Sequence[int], *args: str) -> list[str]:
    """Run the console script ``quizkit ARGS`` on each mutation (two at a time); returns what went wrong."""
    copies = copies_of(course, home, numbers)

    def run(number: int) -> str:
        result = run_limited(copies[number], home / "home", *args)
        return failure(number, result.returncode, result.stdout + result.stderr, result.stderr)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [problem for problem in pool.map(run, numbers) if problem]


def run_sample_in_process(course: Path, home: Path, numbers: Sequence[int], *args: str) -> list[str]:
    """Run ``quizkit ARGS`` on each mutation in this process, under a memory and time cap."""
    problems = []
    for number, root in copies_of(course, home, numbers).items():
        with capped():
            result = CliRunner().invoke(main, ["--course", str(root), *args], prog_name="quizkit")
        output = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            assert result.exc_info is not None
            output += "".join(traceback.format_exception(*result.exc_info))  # what the script would print
        # Exit 2 prints nothing but its message, so the output is what stderr would be.
        problems.append(failure(number, result.exit_code, output, result.output))
    return [problem for problem in problems if problem]


def test_mutated_lessons_through_list(course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIZKIT_HOME", str(tmp_path / "home"))
    assert run_sample_in_process(course, tmp_path, CLI_SAMPLE, "list") == []


def test_mutated_lessons_through_check(course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIZKIT_HOME", str(tmp_path / "home"))
    assert run_sample_in_process(course, tmp_path, CLI_SAMPLE[::4], "check", "lesson3", "l1-exact-zeros", "a") == []


@pytest.mark.slow
def test_mutated_lessons_through_the_console_script_list(course: Path, tmp_path: Path) -> None:
    assert run_sample(course, tmp_path, SCRIPT_SAMPLE, "list") == []


@pytest.mark.slow
def test_mutated_lessons_through_the_console_script_check(course: Path, tmp_path: Path) -> None:
    assert run_sample(course, tmp_path, SCRIPT_SAMPLE[::2], "check", "lesson3", "l1-exact-zeros", "a") == []


@pytest.mark.slow
def test_mutated_lessons_through_the_console_script_validate(course: Path, tmp_path: Path) -> None:
    # A lesson that loads makes validate start the sandbox (seconds): the sample has a few of those.
    sample = CLI_SAMPLE[::3]
    assert sum(read_lesson(write(course, number))[0] is not None for number in sample) >= 2
    assert run_sample(course, tmp_path, sample, "validate", "--no-mutants") == []

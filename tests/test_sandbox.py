"""The sandbox runs learner code in an isolated child process and reports plain data.

These tests use the real SubprocessRunner (real processes, real limits); a few compare it with the
InProcessRunner. Limits are small (1 s) so the hostile cases finish quickly; duration checks are
generous on purpose.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from quizkit import isolation
from quizkit.sandbox import (
    CallOutcome,
    InProcessRunner,
    Job,
    Limits,
    RunResult,
    RunStatus,
    SandboxError,
    SubprocessRunner,
    wire,
)
from quizkit.sandbox.forked import QUEUE_DEPTH, _wait_for_exit

HOSTILE_DIR = Path(__file__).parent / "hostile"
LIMITS = Limits(wall_seconds=1.0, cpu_seconds=1.0, memory_bytes=512 << 20)
CALLS = ((np.array([2.0, 0.5, -1.0]), 0.5), (1.5, 0.5))
# Enough for a run stopped at the wall limit plus the kill, the sweep and a loaded machine.
IS_ROOT = os.geteuid() == 0


def reference(w: object, threshold: float) -> np.ndarray:
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def learner_file(tmp_path: Path, body: str, name: str = "soft_threshold.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def job_for(
    path: Path, calls: tuple[tuple[object, ...], ...] = CALLS, limits: Limits = LIMITS, function: str = "soft_threshold"
) -> Job:
    return Job(source=path, function=function, calls=calls, limits=limits)


def passes(result: RunResult, calls: tuple[tuple[object, ...], ...] = CALLS) -> bool:
    """Would a judge accept this run? (every call returned the reference value)"""
    if result.status is not RunStatus.OK or len(result.outcomes) != len(calls):
        return False
    return all(
        outcome.value is not None
        and outcome.value.shape == np.shape(reference(*call))
        and np.allclose(outcome.value, reference(*call))
        for outcome, call in zip(result.outcomes, calls, strict=True)
    )


def _process_table() -> dict[int, tuple[int, str, bytes]]:
    """pid -> (parent pid, state, command line) for every process we can see."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            table[int(entry)] = (int(fields[1]), fields[0], cmdline)
    return table


def leftover_processes(runner: SubprocessRunner) -> list[int]:
    """Processes a job left behind: descendants of a fork server, or orphans forked from one.

    A forked learner process keeps the fork server's command line (which names the sandbox
    script), so an orphan reparented to init is recognisable too.
    """
    servers = set(runner.supervisor_pids())
    table = _process_table()
    scripts = tuple(
        path.encode()
        for path in (wire.__file__, isolation.SANDBOX_WIRE, isolation.SANDBOX_WIRE_BYTECODE, wire.__cached__)
        if path
    )
    left = []
    for pid, (ppid, _state, cmdline) in table.items():
        if pid in servers:
            continue
        ancestor, hops = ppid, 0
        while ancestor > 1 and ancestor not in servers and hops < 100:
            ancestor, hops = table.get(ancestor, (0, "", b""))[0], hops + 1
        if ancestor in servers or (ppid == 1 and any(script in cmdline for script in scripts)):
            left.append(pid)
    return left


def assert_nothing_left(runner: SubprocessRunner) -> None:
    # Normally nothing is left when run() returns; only if a learner killed its supervisor does
    # the kernel's parent-death signal need a moment to reach the orphaned child.
    deadline = time.monotonic() + 2.0
    while (left := leftover_processes(runner)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == [], f"processes left behind: {[_process_table().get(pid) for pid in left]}"


@pytest.fixture(scope="module")
def runner():
    with SubprocessRunner() as shared:
        yield shared


# ---------------------------------------------------------------------------------------------
# Correct code
# ---------------------------------------------------------------------------------------------

CORRECT = """
    import numpy as np

    def soft_threshold(w, threshold):
        return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
"""


def test_correct_file_returns_values_for_float_0d_1d_2d_and_empty_inputs(runner, tmp_path):
    calls = (
        (1.5, 0.5),
        (np.array(-3.0), 1.0),
        (np.array([2.0, 0.5, -1.0, 0.0]), 0.5),
        (np.arange(-3.0, 3.0).reshape(2, 3), 1.0),
        (np.zeros((0, 4)), 1.0),
    )
    result = runner.run(job_for(learner_file(tmp_path, CORRECT), calls))

    assert result.status is RunStatus.OK, result.message
    assert result.message == ""
    assert passes(result, calls)
    assert [outcome.value.shape for outcome in result.outcomes] == [(), (), (4,), (2, 3), (0, 4)]
    assert result.outcomes[0].return_type == "float64"
    assert result.outcomes[2].return_type == "ndarray"
    assert all(outcome.error is None and outcome.inputs_modified == (False, False) for outcome in result.outcomes)


def test_arguments_keep_their_python_and_numpy_types(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import numpy as np

        def kind(w, threshold):
            return float(["float", "int", "float32", "ndarray"].index(
                type(w).__name__) * 10 + (w.ndim if isinstance(w, np.ndarray) else 0))
    """,
    )
    calls = ((1.5, 0.0), (3, 0.0), (np.float32(2.0), 0.0), (np.ones((2, 2), dtype=np.int32), 0.0))
    result = runner.run(job_for(path, calls, function="kind"))

    assert [float(outcome.value) for outcome in result.outcomes] == [0.0, 10.0, 20.0, 32.0]


def test_value_dtypes_and_exact_bits_survive_the_round_trip(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import numpy as np

        def echo(w):
            return w
    """,
    )
    values = (
        np.array([np.nan, -0.0, np.inf, 1e-300]),
        np.array([True, False]),
        np.arange(6, dtype=np.int16).reshape(3, 2),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.array([1 + 2j]),
    )
    result = runner.run(job_for(path, tuple((value,) for value in values), function="echo"))

    for outcome, value in zip(result.outcomes, values, strict=True):
        assert outcome.value.dtype == value.dtype
        assert outcome.value.tobytes() == np.ascontiguousarray(value).tobytes()


def test_exception_in_a_call_is_reported_with_learner_only_traceback_and_later_calls_still_run(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import numpy as np

        def helper(threshold):
            return 1 / threshold

        def soft_threshold(w, threshold):
            scale = helper(threshold)
            return np.asarray(w) * scale
    """,
    )
    calls = ((np.array([1.0]), 0.0), (np.array([1.0]), 2.0))
    result = runner.run(job_for(path, calls))

    assert result.status is RunStatus.OK
    failed, succeeded = result.outcomes
    assert failed.value is None and failed.return_type == ""
    assert failed.error.splitlines() == [
        "ZeroDivisionError: float division by zero",
        '  File "soft_threshold.py", line 8, in soft_threshold',
        "    scale = helper(threshold)",
        '  File "soft_threshold.py", line 5, in helper',
        "    return 1 / threshold",
    ]
    assert "quizkit" not in failed.error and "_sandbox" not in failed.error
    assert succeeded.error is None and succeeded.value.tolist() == [0.5]


def test_inputs_modified_in_place_are_detected_per_argument(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        def clamp_to_zero(w_before, w_after):
            w_after[w_before * w_after < 0] = 0.0
            return w_after
    """,
    )
    calls = (
        (np.array([1.0, -1.0]), np.array([-0.5, -2.0])),  # one sign flip: w_after is written
        (np.array([1.0, np.nan]), np.array([0.5, np.nan])),  # nothing flips; NaN equals NaN here
    )
    result = runner.run(job_for(path, calls, function="clamp_to_zero"))

    assert [outcome.inputs_modified for outcome in result.outcomes] == [(False, True), (False, False)]


def test_a_forged_frame_saying_inputs_are_intact_is_overruled_by_what_the_parent_measures(runner, tmp_path):
    # The child changes its input, then writes its own well-formed frames claiming nothing changed
    # and exits before the runner can report anything.
    path = learner_file(
        tmp_path,
        """
        import json, os
        import numpy as np

        def frame(header, payload=b""):
            text = json.dumps({**header, "payload": len(payload)}).encode()
            return len(text).to_bytes(4, "big") + text + payload

        def soft_threshold(w, threshold):
            result = np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
            w[:] = 7.0
            call = {"t": "call", "i": 0, "type": "ndarray", "error": None, "note": None,
                    "reshaped": [False, False], "seconds": 0.0,
                    "array": {"dtype": "<f8", "shape": [result.size]}}
            os.write(3, frame(call, result.tobytes())
                     + frame({"t": "end", "status": "ok", "reason": "", "detail": "", "defined": []}))
            os._exit(0)
    """,
    )
    result = runner.run(job_for(path, ((np.array([1.0, -2.0]), 0.5),)))

    assert result.status is RunStatus.OK, result.message  # the frames themselves are well formed
    assert result.outcomes[0].inputs_modified == (True, False)


def test_reshaping_an_input_in_place_counts_as_modifying_it(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        def soft_threshold(w, threshold):
            w.shape = (w.size,)
            return w * 0
    """,
    )
    result = runner.run(job_for(path, ((np.zeros((2, 2)), 0.5),)))

    assert result.outcomes[0].inputs_modified == (True, False)


def test_non_numeric_returns_have_no_value_but_a_type_name(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import numpy as np

        def f(case):
            return [
                lambda: [1.0, 2.0],
                lambda: None,
                lambda: "0.5",
                lambda: np.array([{}, 1], dtype=object),
                lambda: np.ma.masked_array([1.0, 2.0]),
                lambda: 10**30,
            ][int(case)]()
    """,
    )
    result = runner.run(job_for(path, tuple((float(case),) for case in range(6)), function="f"))

    assert result.status is RunStatus.OK
    assert [outcome.return_type for outcome in result.outcomes] == [
        "list",
        "NoneType",
        "str",
        "ndarray",
        "MaskedArray",
        "int",
    ]
    assert all(outcome.value is None and outcome.error is None for outcome in result.outcomes)
    assert "not numeric" in result.outcomes[3].note
    assert "subclass of ndarray" in result.outcomes[4].note


def test_a_returned_array_over_ten_million_elements_is_an_error_not_a_value(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import numpy as np

        def soft_threshold(w, threshold):
            return np.zeros(10_000_001, dtype=bool)
    """,
    )
    result = runner.run(job_for(path, ((1.0, 0.0),)))

    assert result.outcomes[0].value is None
    assert "10,000,001 elements" in result.outcomes[0].error


def test_output_is_captured_and_truncated_at_the_limit(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import sys

        def soft_threshold(w, threshold):
            print("to stdout")
            print("to stderr", file=sys.stderr)
            print("y" * 100_000)
            return w
    """,
    )
    result = runner.run(job_for(path, ((1.0, 0.0),), Limits(wall_seconds=2.0, output_bytes=1000)))

    assert result.status is RunStatus.OK
    assert result.output.startswith("to stdout\nto stderr\n")
    assert len(result.output.encode()) == 1000
    assert result.output_truncated


def test_missing_function_message_suggests_the_close_name(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        def soft_treshold(w, threshold):
            return w
    """,
    )
    result = runner.run(job_for(path))

    assert result.status is RunStatus.MISSING_FUNCTION
    assert (
        result.message
        == "soft_threshold.py does not define a function named soft_threshold (did you mean soft_treshold?)"
    )
    assert result.outcomes == ()


def test_a_name_that_is_not_a_function_is_not_callable(runner, tmp_path):
    result = runner.run(job_for(learner_file(tmp_path, "soft_threshold = 0.5\n")))

    assert result.status is RunStatus.NOT_CALLABLE
    assert "as a float" in result.message


def test_exception_at_import_is_an_import_error_with_its_traceback(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import numpy as np

        table = np.ones(3)[5]
    """,
    )
    result = runner.run(job_for(path))

    assert result.status is RunStatus.IMPORT_ERROR
    assert result.message.startswith("soft_threshold.py raised IndexError: index 5 is out of bounds")
    assert result.message.endswith("while being imported")
    assert "line 4" in result.detail and "table = np.ones(3)[5]" in result.detail


def test_missing_file_is_unreadable_without_starting_a_process(runner, tmp_path):
    result = runner.run(job_for(tmp_path / "nowhere.py"))

    assert result.status is RunStatus.UNREADABLE
    assert "nowhere.py" in result.message


def test_passing_an_unsupported_argument_type_is_a_caller_error(runner, tmp_path):
    with pytest.raises(TypeError, match="call argument"):
        runner.run(job_for(learner_file(tmp_path, CORRECT), (("a string", 0.5),)))


def test_limits_reject_nonsense():
    with pytest.raises(ValueError, match="wall_seconds"):
        Limits(wall_seconds=0)


# ---------------------------------------------------------------------------------------------
# Hostile learner files
# ---------------------------------------------------------------------------------------------

# file -> (statuses that count as handled, text the message must contain). Files whose status may
# be OK must still fail judging (checked with `passes`), except where noted in CORRECT_ANYWAY.
HOSTILE: dict[str, tuple[set[RunStatus], str]] = {
    "exit_at_import.py": ({RunStatus.EXITED}, "called sys.exit(0) while being imported"),
    "os_exit_at_import.py": ({RunStatus.EXITED}, "exit code 0 while being imported"),
    "os_exit_in_function.py": ({RunStatus.EXITED}, "in call 1 of 2"),
    "system_exit_in_function.py": ({RunStatus.EXITED}, "called sys.exit() in call 1 of 2"),
    "keyboard_interrupt_in_function.py": ({RunStatus.EXITED}, "raised KeyboardInterrupt in call 1 of 2"),
    "base_exception_in_function.py": ({RunStatus.EXITED}, "raised Sneaky in call 1 of 2"),
    "infinite_loop_at_import.py": ({RunStatus.TIMEOUT}, "while being imported"),
    "infinite_loop_in_function.py": ({RunStatus.TIMEOUT}, "in call 1 of 2"),
    "sleep_ignoring_sigterm.py": ({RunStatus.TIMEOUT}, "ran longer than 0.4 s in call 1 of 2"),
    "memory_bomb_bytearray.py": ({RunStatus.MEMORY_LIMIT}, "out of memory in call 1 of 2"),
    "memory_bomb_list.py": ({RunStatus.MEMORY_LIMIT}, "out of memory while being imported"),
    "fork_setsid_sleeper.py": ({RunStatus.OK}, ""),
    "double_fork_daemon.py": ({RunStatus.OK}, ""),
    "fork_bomb.py": ({RunStatus.OK, RunStatus.TIMEOUT}, ""),
    "monkeypatch_everything.py": ({RunStatus.OK, RunStatus.PROTOCOL_ERROR}, ""),
    "fake_pass_output.py": ({RunStatus.OK}, ""),
    "forge_every_fd.py": ({RunStatus.PROTOCOL_ERROR}, "middle of a frame"),
    "forge_valid_frames.py": ({RunStatus.PROTOCOL_ERROR}, "after 0 of 2 calls"),
    "close_channel.py": ({RunStatus.PROTOCOL_ERROR}, "result channel"),
    "always_equal.py": ({RunStatus.OK}, ""),
    "ndarray_subclass.py": ({RunStatus.OK}, ""),
    "recursion_bomb.py": ({RunStatus.CRASHED, RunStatus.TIMEOUT, RunStatus.MEMORY_LIMIT, RunStatus.OK}, ""),
    "huge_print.py": ({RunStatus.OUTPUT_LIMIT}, "printed more than 8 MiB in call 1 of 2"),
    "syntax_error.py": ({RunStatus.SYNTAX_ERROR}, "is not valid Python: expected ':' (line 4)"),
    "empty.py": ({RunStatus.EMPTY_FILE}, "empty.py is empty"),
    "binary_garbage.py": ({RunStatus.SYNTAX_ERROR}, "is not valid Python"),
    "deletes_itself.py": ({RunStatus.OK}, ""),
    "reads_secrets.py": ({RunStatus.OK}, ""),
    "imports_solutions.py": ({RunStatus.IMPORT_ERROR}, "No module named 'solutions"),
    "imports_quizkit.py": ({RunStatus.IMPORT_ERROR}, "No module named 'quizkit"),
    "kills_supervisor.py": ({RunStatus.IMPORT_ERROR, RunStatus.CRASHED}, ""),
    "huge_file_write.py": ({RunStatus.OK}, ""),
    "reads_stdin.py": ({RunStatus.OK}, ""),
}
CORRECT_ANYWAY = {"reads_secrets.py"}  # a correct solution that snoops: checked in its own test
# Files that never end are ended by the clock whatever its limit: a short one ends them sooner.
NEVER_ENDS = Limits(wall_seconds=0.4, cpu_seconds=1.0, memory_bytes=512 << 20)
HOSTILE_LIMITS = {
    # Filling memory page by page takes a while; give it time so the memory limit, not the clock, stops it.
    "memory_bomb_list.py": Limits(wall_seconds=4.0, cpu_seconds=4.0, memory_bytes=256 << 20),
    "infinite_loop_at_import.py": NEVER_ENDS,
    "infinite_loop_in_function.py": NEVER_ENDS,
    "sleep_ignoring_sigterm.py": NEVER_ENDS,
}


def test_every_hostile_file_has_an_expectation():
    assert {path.name for path in HOSTILE_DIR.glob("*.py")} == set(HOSTILE)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_ends_in_a_clear_failing_verdict_and_leaves_nothing_behind(runner, name):
    statuses, phrase = HOSTILE[name]
    limits = HOSTILE_LIMITS.get(name, LIMITS)

    result = runner.run(job_for(HOSTILE_DIR / name, limits=limits))

    assert result.status in statuses, (result.status, result.message)
    assert phrase in result.message
    if result.status is not RunStatus.OK:
        assert result.message  # every non-OK status explains itself
    assert passes(result) is (name in CORRECT_ANYWAY)
    assert_nothing_left(runner)
    assert (HOSTILE_DIR / name).exists()
    # The grader survived and its runner still works.
    assert runner.run(job_for(HOSTILE_DIR / "reads_secrets.py")).status is RunStatus.OK


def test_monkeypatched_numpy_and_builtins_cannot_change_the_reported_values(runner):
    result = runner.run(job_for(HOSTILE_DIR / "monkeypatch_everything.py"))

    assert result.status is RunStatus.OK, result.message
    assert result.outcomes[0].value.tolist() == [12345.0] * 3
    assert result.outcomes[1].value.tolist() == 12345.0


def test_printed_fake_results_stay_in_the_output(runner):
    result = runner.run(job_for(HOSTILE_DIR / "fake_pass_output.py"))

    assert "PASS 10/10" in result.output
    assert [outcome.return_type for outcome in result.outcomes] == ["NoneType", "NoneType"]


def test_an_object_claiming_equality_is_reported_by_type_without_calling_it(runner):
    result = runner.run(job_for(HOSTILE_DIR / "always_equal.py"))

    assert [(o.value, o.return_type, o.error) for o in result.outcomes] == [(None, "AlwaysEqual", None)] * 2


def test_a_file_that_deletes_itself_still_gets_a_traceback_with_its_source(runner):
    result = runner.run(job_for(HOSTILE_DIR / "deletes_itself.py"))

    assert result.outcomes[1].error.splitlines()[1:] == [
        '  File "deletes_itself.py", line 10, in soft_threshold',
        "    return w / (threshold - threshold)",
    ]


def test_writing_a_huge_file_fails_inside_the_child(runner):
    result = runner.run(job_for(HOSTILE_DIR / "huge_file_write.py"))

    assert result.outcomes[0].error.startswith("OSError: [Errno 27] File too large")


def test_every_run_starts_with_empty_streams_that_behave_like_pipes(runner, tmp_path):
    # The first run leaves text in its stdout buffer and never flushes it (os._exit); the text
    # must not show up in a later run, whose streams must be those of a pipe, as they really are.
    path = learner_file(
        tmp_path,
        """
        import os, sys

        def soft_threshold(w, threshold):
            if threshold > 0:
                sys.stdout.write("left in the buffer")
                os._exit(0)
            print(sys.stdout.seekable(), sys.stderr.seekable(), repr(sys.stdin.read()), sys.stdout.line_buffering)
            return w
    """,
    )
    first = runner.run(job_for(path, ((1.0, 1.0),)))
    second = runner.run(job_for(path, ((1.0, 0.0),)))

    assert "left in the buffer" not in first.output + second.output
    assert second.status is RunStatus.OK and second.output == "False False '' True\n"


def test_reading_stdin_gets_end_of_file_instead_of_hanging(runner):
    result = runner.run(job_for(HOSTILE_DIR / "reads_stdin.py"))

    assert result.outcomes[0].error.startswith("EOFError")


def test_fork_bomb_is_bounded_and_swept(runner):
    result = runner.run(job_for(HOSTILE_DIR / "fork_bomb.py"))

    assert result.status in {RunStatus.OK, RunStatus.TIMEOUT}
    assert_nothing_left(runner)


# ---------------------------------------------------------------------------------------------
# Isolation of the child
# ---------------------------------------------------------------------------------------------


def test_grader_secrets_are_not_visible_to_the_child(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZKIT_TEST_SECRET", "hunter2-do-not-leak")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with SubprocessRunner() as fresh:
        result = fresh.run(job_for(HOSTILE_DIR / "reads_secrets.py"))

    assert result.status is RunStatus.OK
    assert "ENVIRON" in result.output and "PARENT" in result.output
    assert "hunter2-do-not-leak" not in result.output
    assert "PYTHONPATH" not in result.output
    environment = json.loads(result.output.split("ENVIRON ", 1)[1].split("\n", 1)[0].replace("'", '"'))
    assert set(environment) == {
        "PATH",
        "LANG",
        "HOME",
        "TMPDIR",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    }


def test_reference_solutions_cannot_be_imported_from_the_graders_directory(tmp_path, monkeypatch):
    course = tmp_path / "course"
    (course / "solutions" / "lesson3").mkdir(parents=True)
    (course / "solutions" / "__init__.py").write_text("")
    (course / "solutions" / "lesson3" / "__init__.py").write_text("")
    (course / "solutions" / "lesson3" / "soft_threshold.py").write_text("def soft_threshold(w, t):\n    return w\n")
    monkeypatch.chdir(course)
    monkeypatch.setenv("PYTHONPATH", str(course))
    probe = learner_file(
        tmp_path,
        """
        import os, sys
        print(repr(sys.path), os.getcwd())
        from solutions.lesson3.soft_threshold import soft_threshold
    """,
    )
    with SubprocessRunner() as fresh:
        result = fresh.run(job_for(probe))

    assert result.status is RunStatus.IMPORT_ERROR
    assert "No module named 'solutions'" in result.message
    assert str(course) not in result.output.split(" ")[0]


def test_waiting_for_a_server_to_exit_tells_an_ended_one_from_one_still_running():
    ended = subprocess.Popen(["true"])
    running = subprocess.Popen(["sleep", "30"])
    try:
        assert _wait_for_exit(ended, 10.0) and ended.returncode == 0
        assert not _wait_for_exit(running, 0.05) and running.poll() is None
    finally:
        running.kill()
        running.wait()


def test_a_sandbox_that_cannot_start_says_why_in_one_error(tmp_path):
    # An interpreter that dies at once, with a reason on stderr, as a Python without numpy would.
    python = tmp_path / "python3"
    python.write_text('#!/bin/sh\necho "this Python cannot run the sandbox" >&2\nexit 3\n')
    python.chmod(0o755)
    with SubprocessRunner(python=str(python), servers=0) as broken, pytest.raises(SandboxError) as raised:
        broken.run(job_for(HOSTILE_DIR / "reads_stdin.py"))

    assert "this Python cannot run the sandbox" in str(raised.value)


def test_temporary_files_of_learner_code_go_to_its_own_folder_and_random_is_seeded_afresh(runner, tmp_path):
    # The server imports neither tempfile nor random (random would reseed itself in every child):
    # the learner's own import of them must still find its job folder and a fresh seed.
    path = learner_file(
        tmp_path,
        """
        import sys
        inherited = "random" in sys.modules or "tempfile" in sys.modules
        import os, random, tempfile

        def soft_threshold(w, threshold):
            print(inherited, tempfile.gettempdir() == os.getcwd() == os.environ["TMPDIR"], random.random())
            return w
    """,
    )
    first, second = (runner.run(job_for(path, ((1.0, 0.0),))) for _ in range(2))

    assert [run.output.split()[:2] for run in (first, second)] == [["False", "True"]] * 2
    assert first.output.split()[2] != second.output.split()[2]


def test_child_runs_in_a_fresh_temporary_directory_that_is_removed_afterwards(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import os

        def soft_threshold(w, threshold):
            print(os.getcwd(), os.environ["HOME"])
            open("scratch.txt", "w").write("left over")
            return w
    """,
    )
    first = runner.run(job_for(path, ((1.0, 0.0),)))
    second = runner.run(job_for(path, ((1.0, 0.0),)))

    workdir, home = first.output.split()
    assert workdir == home and workdir != str(tmp_path)
    assert not Path(workdir).exists()
    assert second.output.split()[0] != workdir


def test_child_leads_its_own_session_and_process_group(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import os

        def soft_threshold(w, threshold):
            print(os.getsid(0) == os.getpid(), os.getpgid(0) == os.getpid())
            return w
    """,
    )
    result = runner.run(job_for(path, ((1.0, 0.0),)))

    assert result.output.split() == ["True", "True"]


def test_child_has_resource_limits_set(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import resource

        def soft_threshold(w, threshold):
            for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NPROC"):
                print(name, *resource.getrlimit(getattr(resource, name)))
            return w
    """,
    )
    limits = Limits(wall_seconds=2.0, cpu_seconds=1.5, memory_bytes=600 << 20, file_bytes=1 << 20)
    result = runner.run(job_for(path, ((1.0, 0.0),), limits))

    found = {line.split()[0]: tuple(map(int, line.split()[1:])) for line in result.output.splitlines()}
    assert found["RLIMIT_CPU"] == (2, 3)
    assert found["RLIMIT_AS"] == (600 << 20, 600 << 20)
    assert found["RLIMIT_FSIZE"] == (1 << 20, 1 << 20)
    assert found["RLIMIT_CORE"] == (0, 0)
    assert 0 < found["RLIMIT_NPROC"][0] < 100_000


def test_child_has_only_standard_streams_and_the_result_channel_open(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import os

        def soft_threshold(w, threshold):
            open_fds = []
            for fd in range(1024):
                try:
                    os.fstat(fd)
                    open_fds.append(fd)
                except OSError:
                    pass
            print(open_fds)
            return w
    """,
    )
    result = runner.run(job_for(path, ((1.0, 0.0),)))

    assert result.output.strip() == "[0, 1, 2, 3]"


@pytest.mark.skipif(not IS_ROOT, reason="privileges are only dropped when the grader runs as root")
def test_as_root_the_child_runs_as_nobody_and_cannot_write_the_users_files(runner, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = learner_file(
        tmp_path,
        f"""
        import os

        def soft_threshold(w, threshold):
            print(os.getuid(), os.getgid())
            with open({str(victim)!r}, "w") as handle:
                handle.write("overwritten")
            return w
    """,
    )
    result = runner.run(job_for(path, ((1.0, 0.0),)))
    if runner.privileges.startswith("children stay root"):
        pytest.skip(runner.privileges)  # the server proved the drop does not work on this system

    assert result.output.split() == ["65534", "65534"]
    # Denied, or (inside the namespaces) not even there to be denied.
    assert result.outcomes[0].error.startswith(("PermissionError", "FileNotFoundError"))
    assert victim.read_text() == "precious"


def test_wall_limit_stops_the_run_and_names_the_call_that_hung(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        import time

        def soft_threshold(w, threshold):
            if threshold > 1:
                time.sleep(60)
            return w
    """,
    )
    calls = ((1.0, 0.0), (1.0, 5.0), (1.0, 0.0))
    result = runner.run(job_for(path, calls, Limits(wall_seconds=0.5)))

    assert result.status is RunStatus.TIMEOUT
    assert result.message == "your code ran longer than 0.5 s in call 2 of 3 (an infinite loop?)"
    assert len(result.outcomes) == 1


def test_cpu_limit_is_enforced_by_the_kernel_when_the_wall_limit_is_generous(runner, tmp_path):
    path = learner_file(
        tmp_path,
        """
        def soft_threshold(w, threshold):
            while True:
                pass
    """,
    )
    result = runner.run(job_for(path, ((1.0, 0.0),), Limits(wall_seconds=10.0, cpu_seconds=1.0)))

    assert result.status is RunStatus.TIMEOUT
    assert "CPU time" in result.message


# ---------------------------------------------------------------------------------------------
# The result channel: forged data never crashes or hangs the grader
# ---------------------------------------------------------------------------------------------


def _frame(header: dict, payload: bytes = b"") -> bytes:
    return wire.encode_frame(header, payload)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _pickled_npy() -> bytes:
    return _npy(np.array([{"evil": 1}, 2], dtype=object))


def _array(dtype: str, shape: list[int]) -> dict[str, object]:
    return {"array": {"dtype": dtype, "shape": shape}}


def _call(payload: bytes, **changes: object) -> bytes:
    header = {
        "t": "call",
        "i": 0,
        "type": "ndarray",
        "error": None,
        "note": None,
        "reshaped": [False, False],
        "seconds": 0.1,
        "array": {"dtype": "<f8", "shape": [len(payload) // 8]},
    }
    return _frame({"t": "loaded"}) + _frame({**header, **changes}, payload)


FORGERIES = {
    "random bytes": bytes(range(256)) * 8,
    "header length too large": (10**9).to_bytes(4, "big") + b"{}",
    "header not json": (5).to_bytes(4, "big") + b"\xff\xfe{{{",
    "header a json list": (2).to_bytes(4, "big") + b"[]",
    "deeply nested json": (200_000).to_bytes(4, "big") + b"[" * 100_000 + b"]" * 100_000,
    "payload size negative": _frame({"t": "loaded"}).replace(b'"payload":0', b'"payload":-1'),
    "payload size too large": _frame({"t": "loaded"}).replace(b'"payload":0', b'"payload":99999999999'),
    "unknown frame type": _frame({"t": "verdict", "passed": True}),
    "call before loaded": _frame(
        {"t": "call", "i": 0, "type": "x", "error": None, "note": None, "reshaped": [], "seconds": 0}
    ),
    "pickled object array": _call(_pickled_npy(), **_array("|O", [2])),
    "npy file instead of raw data": _call(_npy(np.zeros(2)), **_array("<f8", [2])),
    "shape claiming 1e11 elements": _call(bytes(16), **_array("<f8", [99999999999])),
    "negative dimension": _call(bytes(16), **_array("<f8", [-2])),
    "truncated array data": _call(bytes(24), **_array("<f8", [4])),
    "string array": _call(bytes(8), **_array("<U2", [1])),
    "record dtype": _call(bytes(16), array={"dtype": [("a", "<f8")], "shape": [2]}),
    "data without a description": _call(bytes(16), array=None),
    "wrong number of reshaped flags": _call(bytes(16), reshaped=[False]),
    "call index out of order": _call(bytes(16), i=5),
    "duration not a number": _call(bytes(16), seconds="fast"),
    "extra field": _call(bytes(16), passed=True),
    "end claims success early": _frame({"t": "loaded"})
    + _frame({"t": "end", "status": "ok", "reason": "", "detail": "", "defined": []}),
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_channel_data_is_a_protocol_error_and_the_grader_survives(runner, tmp_path, forgery):
    path = learner_file(
        tmp_path,
        f"""
        import os

        data = bytes.fromhex({FORGERIES[forgery].hex()!r})
        view = memoryview(data)
        while view:
            view = view[os.write(3, view):]

        def soft_threshold(w, threshold):
            return w
    """,
    )
    result = runner.run(job_for(path, limits=Limits(wall_seconds=2.0)))

    assert result.status is RunStatus.PROTOCOL_ERROR, (result.status, result.message)
    assert "result channel" in result.message
    assert result.outcomes == ()


@pytest.mark.parametrize(
    "forgery",
    ["pickled object array", "shape claiming 1e11 elements", "string array", "truncated array data", "record dtype"],
)
def test_result_arrays_that_are_unsafe_or_malformed_are_refused_before_allocating(forgery):
    frames = wire.FrameReader(wire.MAX_RESULT_PAYLOAD).feed(FORGERIES[forgery])
    header, payload = frames[1]
    with pytest.raises(wire.ProtocolError):
        wire.decode_result_array(header["array"], payload)


# ---------------------------------------------------------------------------------------------
# Many jobs
# ---------------------------------------------------------------------------------------------


def test_run_many_returns_one_result_per_job_each_isolated(runner, tmp_path):
    good = learner_file(tmp_path, CORRECT)
    jobs = [job_for(good) if index % 3 else job_for(HOSTILE_DIR / "os_exit_at_import.py") for index in range(12)]
    jobs.append(job_for(HOSTILE_DIR / "empty.py"))

    results = list(runner.run_many(jobs, workers=2))

    assert sorted(id(job) for job, _ in results) == sorted(id(job) for job in jobs)
    for job, result in results:
        expected = {
            "soft_threshold.py": RunStatus.OK,
            "os_exit_at_import.py": RunStatus.EXITED,
            "empty.py": RunStatus.EMPTY_FILE,
        }
        assert result.status is expected[job.source.name]
    assert_nothing_left(runner)


def test_run_many_consumes_jobs_lazily(runner, tmp_path):
    good = learner_file(tmp_path, CORRECT)
    # After the first job, only jobs that never end by themselves: no other finishes and frees a place.
    forever = Limits(wall_seconds=3600, cpu_seconds=3600)
    taken = []

    def jobs():
        for index in range(10):
            taken.append(index)
            yield job_for(good) if index == 0 else job_for(HOSTILE_DIR / "sleep_ignoring_sigterm.py", limits=forever)

    results = runner.run_many(jobs(), workers=2)
    try:
        next(results)
        # Each worker holds the job it runs and the next one; one more was taken for a free place.
        assert len(taken) <= 2 * QUEUE_DEPTH + 1
    finally:
        results.close()
    assert_nothing_left(runner)


def test_closing_run_many_early_kills_the_jobs_still_running(runner, tmp_path):
    quick = learner_file(tmp_path, CORRECT)
    # A limit no test run reaches: close() returns only if it kills the sleeper instead of waiting.
    forever = Limits(wall_seconds=3600, cpu_seconds=3600)
    jobs = [job_for(quick), job_for(HOSTILE_DIR / "sleep_ignoring_sigterm.py", limits=forever)]

    results = runner.run_many(jobs, workers=2)
    first_job, _ = next(results)
    results.close()

    assert first_job.source == quick
    assert_nothing_left(runner)


def test_a_job_queued_behind_another_gets_its_whole_time_limit(runner, tmp_path):
    # Two runs back to back take longer than one limit: the second one's clock starts with it.
    slow = learner_file(tmp_path, "import time\ntime.sleep(0.7)\n" + textwrap.dedent(CORRECT))
    limits = Limits(wall_seconds=1.2, cpu_seconds=1.0, memory_bytes=512 << 20)

    results = list(runner.run_many([job_for(slow, limits=limits), job_for(slow, limits=limits)], workers=1))

    assert [result.status for _, result in results] == [RunStatus.OK, RunStatus.OK]


def test_closing_run_many_early_cancels_a_queued_job_without_losing_the_server(runner, tmp_path):
    quick = learner_file(tmp_path, CORRECT)
    # A limit no test run reaches: close() returns only if it kills the one and cancels the other.
    sleeper = job_for(HOSTILE_DIR / "sleep_ignoring_sigterm.py", limits=Limits(wall_seconds=3600, cpu_seconds=3600))
    results = runner.run_many([job_for(quick), sleeper, sleeper], workers=1)
    next(results)  # the first sleeper runs now, the second waits in the server's queue
    servers = runner.supervisor_pids()

    results.close()

    assert runner.supervisor_pids() == servers
    assert_nothing_left(runner)


@pytest.mark.parametrize("isolation", ["preferred", "off"])
def test_a_supervisor_killed_by_the_learner_is_reported_and_replaced(tmp_path, isolation):
    with SubprocessRunner(isolation=isolation) as fresh:
        result = fresh.run(job_for(HOSTILE_DIR / "kills_supervisor.py"))
        after = fresh.run(job_for(learner_file(tmp_path, CORRECT)))
        layers = fresh.layers()
        children_have_own_uid = fresh.privileges.startswith("children run as uid")

    assert layers is not None
    if children_have_own_uid or layers.landlock >= 6:
        # A root grader's children run as nobody, and Landlock (ABI 6) scopes signals to the child's
        # own domain: either way the learner may not signal its supervisor at all.
        assert result.status is RunStatus.IMPORT_ERROR
        assert "PermissionError" in result.message
    else:
        assert result.status is RunStatus.CRASHED
        assert result.message.startswith("the sandbox's supervisor process stopped unexpectedly")
    assert after.status is RunStatus.OK
    assert not Path(result.output.strip()).exists()  # its temporary directory was removed anyway


def test_a_lost_server_inside_namespaces_signals_no_process_group_of_this_machine_by_a_namespace_pid(
    monkeypatch,
):
    import signal
    import threading

    with SubprocessRunner(isolation="preferred") as fresh:
        if not fresh.check_isolation().namespaces:
            pytest.skip("no namespaces on this machine")
        supervisors = set(fresh.supervisor_pids())
        signalled = []
        real_killpg = os.killpg

        def killpg(pgid: int, sig: int) -> None:
            signalled.append(pgid)
            if pgid in supervisors:  # never a group picked by a number that means something else here
                real_killpg(pgid, sig)

        monkeypatch.setattr(os, "killpg", killpg)
        sleeper = job_for(HOSTILE_DIR / "sleep_ignoring_sigterm.py", limits=Limits(wall_seconds=60))
        killer = threading.Timer(0.5, os.kill, (fresh.supervisor_pids()[-1], signal.SIGKILL))
        killer.start()
        try:
            result = fresh.run(sleeper)
        finally:
            killer.cancel()

    assert result.status is RunStatus.CRASHED
    assert set(signalled) <= supervisors


# ---------------------------------------------------------------------------------------------
# InProcessRunner parity, and import cost
# ---------------------------------------------------------------------------------------------

PARITY = """
    import numpy as np

    def soft_threshold(w, threshold):
        if threshold < 0:
            raise ValueError("threshold must be >= 0")
        print("called")
        w[...] = w if np.ndim(w) else w
        return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
"""


def test_in_process_runner_reports_what_the_subprocess_runner_reports(runner, tmp_path):
    calls = ((np.array([2.0, -0.2]), 0.5), (np.array(1.0), -1.0), (np.zeros((2, 0)), 0.0))
    job = job_for(learner_file(tmp_path, PARITY), calls)

    isolated = runner.run(job)
    with InProcessRunner() as trusted_runner:
        trusted = trusted_runner.run(job)

    assert (isolated.status, isolated.output) == (trusted.status, trusted.output) == (RunStatus.OK, "called\ncalled\n")
    for a, b in zip(isolated.outcomes, trusted.outcomes, strict=True):
        assert (a.return_type, a.inputs_modified, a.note) == (b.return_type, b.inputs_modified, b.note)
        assert (a.value is None and b.value is None) or (
            a.value.dtype == b.value.dtype and a.value.tobytes() == b.value.tobytes()
        )
        assert (a.error is None) == (b.error is None)
    assert (
        isolated.outcomes[1].error.splitlines()[0]
        == trusted.outcomes[1].error.splitlines()[0]
        == "ValueError: threshold must be >= 0"
    )


@pytest.mark.parametrize(
    "body, status",
    [
        ("import sys\nsys.exit(3)\n", RunStatus.EXITED),
        ("def soft_threshold(w, t)\n", RunStatus.SYNTAX_ERROR),
        ("x = 1\n", RunStatus.MISSING_FUNCTION),
        ("raise RuntimeError('no')\n", RunStatus.IMPORT_ERROR),
    ],
)
def test_in_process_runner_classifies_failures_like_the_subprocess_runner(runner, tmp_path, body, status):
    job = job_for(learner_file(tmp_path, body))

    assert runner.run(job).status is InProcessRunner().run(job).status is status


def test_in_process_runner_lets_a_real_keyboard_interrupt_through(tmp_path):
    job = job_for(learner_file(tmp_path, "def soft_threshold(w, t):\n    raise KeyboardInterrupt\n"))

    with pytest.raises(KeyboardInterrupt):
        InProcessRunner().run(job)


def test_importing_the_sandbox_does_not_import_numpy():
    code = "import sys, quizkit.sandbox; print('numpy' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert output.strip() == "False"


def test_call_outcome_and_run_result_are_plain_frozen_data(runner, tmp_path):
    result = runner.run(job_for(learner_file(tmp_path, CORRECT)))

    with pytest.raises(AttributeError):
        result.status = RunStatus.OK  # type: ignore[misc]
    assert isinstance(result.outcomes[0], CallOutcome)
    assert isinstance(result.outcomes[0].value, np.ndarray)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--serve", "--control-fd", "3", "--bogus"], "unknown option: --bogus"),
        (["--serve", "--control-fd"], "--control-fd needs a value"),
        (["--serve", "--control-fd", "three"], "take whole numbers"),
        (["--control-fd", "3"], "usage:"),
    ],
)
def test_the_fork_server_refuses_options_it_does_not_know(argv: list[str], says: str) -> None:
    from quizkit.sandbox import wire

    done = subprocess.run([sys.executable, "-I", wire.__file__, *argv], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert says in done.stderr

"""`quizkit take`: scripted sessions through CliRunner, and the real console script with pipes and a pty.

The demo lesson has four items: [1/4] pick-one (choice, answer b), [2/4] pick-many (multi, answer
a,c), [3/4] step-size (numeric, answer 0.3; 0.7 is a known wrong answer) and [4/4] the exercise
``double``, which these tests only present and skip (grading is tested elsewhere).
"""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from conftest import default_sigint

Run = Callable[..., Result]
TIMEOUT = 60.0

QUESTIONS_RIGHT = "b\na,c\n0.3\n"
SKIP_EXERCISE_TWICE = "s\ns\n"


def take(run_cli: Run, input: str, *options: str) -> Result:
    return run_cli("take", "demo", *options, input=input)


def progress_file(home: Path) -> Path:
    return home / "progress" / "demo.json"


def saved(home: Path) -> dict:
    return json.loads(progress_file(home).read_text(encoding="utf-8"))


# --- answering --------------------------------------------------------------------------------


def test_right_answer_is_marked_correct_and_explained(run_cli: Run) -> None:
    output = take(run_cli, "b\nq\n").output
    assert "✓ Correct (1/1)" in output
    assert "The L1 gradient has the same size however small the weight is." in output


def test_wrong_choice_shows_feedback_and_the_correct_option(run_cli: Run) -> None:
    output = take(run_cli, "a\nq\n").output
    assert "✗ Not quite (0/1)" in output
    assert "The L2 push fades near zero." in output
    assert "Answer: b) The L1 penalty" in output


def test_known_wrong_number_gets_its_feedback(run_cli: Run) -> None:
    output = take(run_cli, "b\na,c\n0.7\nq\n").output
    assert "You added the step instead of subtracting it." in output
    assert "Answer: 0.3" in output


def test_partly_right_multi_answer_earns_partial_credit(run_cli: Run, home: Path) -> None:
    output = take(run_cli, "b\na\nq\n").output
    assert "Partly right (0.5/1)" in output
    assert saved(home)["items"]["pick-many"]["score"] == 0.5


def test_invalid_answer_is_asked_again(run_cli: Run) -> None:
    output = take(run_cli, "z\nb\nq\n").output
    assert output.index("Could not read that answer") < output.index("✓ Correct")
    assert "there is no option z" in output


def test_invalid_answer_is_not_counted_as_an_attempt(run_cli: Run, home: Path) -> None:
    take(run_cli, "z\nb\nq\n")
    record = saved(home)["items"]["pick-one"]
    assert (record["status"], record["attempts"], record["answer"]) == ("correct", 1, "b")


def test_blank_line_asks_again(run_cli: Run, home: Path) -> None:
    take(run_cli, "\n\nb\nq\n")
    assert saved(home)["items"]["pick-one"]["status"] == "correct"


def test_question_mark_shows_the_commands(run_cli: Run) -> None:
    output = take(run_cli, "?\nq\n").output
    assert output.count("h = hint, s = skip for now, q = save and quit") >= 2


# --- hints ------------------------------------------------------------------------------------


def test_hints_are_shown_one_at_a_time(run_cli: Run) -> None:
    output = take(run_cli, "h\nh\nb\nq\n").output
    first = output.index("Hint 1/2: Think about the gradient near zero.")
    second = output.index("Hint 2/2: Which gradient keeps its size as the weight shrinks?")
    assert first < second < output.index("✓ Correct")


def test_asking_past_the_last_hint_says_no_more_hints(run_cli: Run) -> None:
    output = take(run_cli, "h\nh\nh\nb\nq\n").output
    assert output.index("Hint 2/2") < output.index("No more hints")


def test_hints_used_are_recorded(run_cli: Run, home: Path) -> None:
    take(run_cli, "h\nh\nb\nq\n")
    assert saved(home)["items"]["pick-one"]["hints_used"] == 2


def test_question_without_hints_says_so(run_cli: Run) -> None:
    assert "No hints for this one." in take(run_cli, "b\nh\nq\n").output


# --- skipping ---------------------------------------------------------------------------------


def test_skipped_question_is_offered_again_at_the_end_of_the_run(run_cli: Run) -> None:
    output = take(run_cli, "s\na,c\n0.3\ns\nb\ns\n").output
    first, again = [i for i in range(len(output)) if output.startswith("[1/4]", i)]
    assert first < output.index("[3/4]") < again


def test_skipped_question_answered_later_counts(run_cli: Run, home: Path) -> None:
    take(run_cli, "s\na,c\n0.3\ns\nb\ns\n")
    assert saved(home)["items"]["pick-one"]["status"] == "correct"


def test_skipped_question_is_offered_only_once_more_per_run(run_cli: Run) -> None:
    output = take(run_cli, "s\na,c\n0.3\ns\ns\ns\n").output
    assert output.count("[1/4]") == 2
    assert "Score:" in output


# --- quitting, end of input, resuming ---------------------------------------------------------


def test_quit_exits_0_and_says_progress_is_saved(run_cli: Run, home: Path) -> None:
    result = take(run_cli, "b\nq\n")
    assert result.exit_code == 0
    assert "Progress saved. Run `quizkit take demo` to continue." in result.output
    assert saved(home)["items"]["pick-one"]["status"] == "correct"


def test_end_of_input_mid_lesson_exits_0_with_progress_saved(run_cli: Run, home: Path) -> None:
    result = take(run_cli, "b\na,c\n")
    assert result.exit_code == 0
    assert "End of input: progress saved" in result.output
    assert set(saved(home)["items"]) == {"pick-one", "pick-many"}


def test_resume_starts_at_the_first_unanswered_item(run_cli: Run) -> None:
    take(run_cli, "b\nq\n")
    output = take(run_cli, "q\n").output
    assert "Welcome back: 1 of 4 done, 3 to go." in output
    assert "[1/4]" not in output
    assert "[2/4]" in output


def test_resume_keeps_the_earlier_answers(run_cli: Run, home: Path) -> None:
    take(run_cli, "b\nq\n")
    take(run_cli, "a,c\nq\n")
    assert {k: v["status"] for k, v in saved(home)["items"].items()} == {"pick-one": "correct", "pick-many": "correct"}


def test_resume_keeps_the_option_seed(run_cli: Run, home: Path) -> None:
    take(run_cli, "b\nq\n")
    seed = saved(home)["seed"]
    take(run_cli, "a,c\nq\n")
    assert saved(home)["seed"] == seed


def test_restart_starts_over(run_cli: Run, home: Path) -> None:
    take(run_cli, "b\nq\n")
    output = take(run_cli, "q\n", "--restart").output
    assert "Welcome back" not in output
    assert "[1/4]" in output
    assert saved(home)["items"] == {}


def test_seed_option_is_stored(run_cli: Run, home: Path) -> None:
    take(run_cli, "q\n", "--seed", "1234")
    assert saved(home)["seed"] == 1234


# --- finishing --------------------------------------------------------------------------------


def test_finishing_shows_the_score_summary(run_cli: Run) -> None:
    output = take(run_cli, QUESTIONS_RIGHT + SKIP_EXERCISE_TWICE).output
    assert "Score: 3 / 4  (75%)" in output
    assert "1 item still open" in output


def test_finishing_without_full_marks_exits_1(run_cli: Run) -> None:
    assert take(run_cli, QUESTIONS_RIGHT + SKIP_EXERCISE_TWICE).exit_code == 1


def test_review_lists_missed_questions_with_the_correct_answer(run_cli: Run) -> None:
    output = take(run_cli, "a\na,c\n0.7\n" + SKIP_EXERCISE_TWICE).output
    review = output[output.index("To review:") :]
    assert "pick-one" in review and "correct: b) The L1 penalty" in review
    assert "step-size" in review and "you answered: 0.7" in review and "correct: 0.3" in review
    assert "pick-many" not in review


def test_summary_marks_each_item(run_cli: Run) -> None:
    output = take(run_cli, "a\na,c\n0.3\n" + SKIP_EXERCISE_TWICE).output
    summary = output[output.index("Score:") :]
    lines = {line.split()[1]: line for line in summary.splitlines() if line.startswith("  ") and len(line.split()) > 2}
    assert lines["pick-one"].split()[0] == "✗"
    assert lines["pick-many"].split()[0] == "✓"
    assert "not answered" in lines["double"]


# --- exercises (presentation only) ------------------------------------------------------------


def test_exercise_is_presented_with_title_and_signature(run_cli: Run) -> None:
    output = take(run_cli, QUESTIONS_RIGHT + "q\n").output
    assert "[4/4] coding exercise" in output
    assert "Double it: double(x)" in output
    assert "Write double(x) returning 2 * x." in output


def test_exercise_starter_is_copied_to_the_workspace(run_cli: Run, home: Path, course_dir: Path) -> None:
    output = take(run_cli, QUESTIONS_RIGHT + "q\n").output
    workspace_file = home / "workspace" / "demo" / "double.py"
    assert f"Your file: {workspace_file}" in output
    assert workspace_file.read_text(encoding="utf-8") == (course_dir / "exercises" / "demo" / "double.py").read_text(
        encoding="utf-8"
    )


def test_exercise_shows_the_submit_command(run_cli: Run, home: Path) -> None:
    output = take(run_cli, QUESTIONS_RIGHT + "q\n").output
    assert f"quizkit submit demo {home / 'workspace' / 'demo' / 'double.py'}" in output


def test_learner_workspace_file_is_never_overwritten(run_cli: Run, home: Path) -> None:
    workspace_file = home / "workspace" / "demo" / "double.py"
    workspace_file.parent.mkdir(parents=True)
    workspace_file.write_text("def double(x):\n    return x + x\n", encoding="utf-8")
    take(run_cli, QUESTIONS_RIGHT + "q\n")
    assert workspace_file.read_text(encoding="utf-8") == "def double(x):\n    return x + x\n"


def test_exercise_can_be_skipped(run_cli: Run, home: Path) -> None:
    output = take(run_cli, QUESTIONS_RIGHT + SKIP_EXERCISE_TWICE).output
    assert output.count("Skipped.") == 2
    assert saved(home)["items"]["double"]["status"] == "skipped"


def test_exercise_hint(run_cli: Run) -> None:
    assert "Hint 1/1: Multiply by two." in take(run_cli, QUESTIONS_RIGHT + "h\nq\n").output


def test_code_typed_at_the_exercise_prompt_is_not_graded(run_cli: Run) -> None:
    output = take(run_cli, QUESTIONS_RIGHT + "return 2 * x\nq\n").output
    assert "Type your code in the file above" in output


# --- damaged progress -------------------------------------------------------------------------


def test_damaged_progress_file_is_reported_and_backed_up(run_cli: Run, home: Path) -> None:
    progress_file(home).parent.mkdir(parents=True)
    progress_file(home).write_text('{"version": 1, "items": {', encoding="utf-8")
    result = take(run_cli, "b\nq\n")
    assert result.exit_code == 0
    assert "warning: progress file" in result.output and "damaged" in result.output
    [backup] = (home / "progress").glob("demo.corrupt-*.json")
    assert backup.read_text(encoding="utf-8") == '{"version": 1, "items": {'
    assert saved(home)["items"]["pick-one"]["status"] == "correct"


# --- the real console script ------------------------------------------------------------------


class Interactive:
    """A running ``quizkit`` with piped stdin/stdout, collecting stdout in the background."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            preexec_fn=default_sigint,
        )
        self._stdout = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := os.read(self.process.stdout.fileno(), 4096):
            with self._lock:
                self._stdout.extend(chunk)

    @property
    def stdout(self) -> str:
        with self._lock:
            return self._stdout.decode("utf-8", errors="replace")

    def wait_for(self, text: str, count: int = 1) -> None:
        deadline = time.monotonic() + TIMEOUT
        while self.stdout.count(text) < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"never saw {text!r} (x{count}); output so far:\n{self.stdout}")
            time.sleep(0.01)

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode("utf-8"))
        self.process.stdin.flush()

    def finish(self) -> tuple[int, str, str]:
        """Wait for the exit; returns (exit code, stdout, stderr)."""
        assert self.process.stderr is not None
        try:
            code = self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"quizkit did not exit; output so far:\n{self.stdout}")
        stderr = self.process.stderr.read().decode("utf-8", errors="replace")
        self._reader.join(timeout=TIMEOUT)
        return code, self.stdout, stderr

    def interrupt(self) -> None:
        """SIGINT, sent again if the first one went unnoticed.

        CPython acts on a signal between bytecodes or when a blocking read is interrupted; a SIGINT
        that lands just before the read starts waits for the next one, as a learner's second Ctrl-C.
        """
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGINT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def interactive(home: Path, course_dir: Path, quizkit_argv: list[str]) -> Iterator[Callable[[], Interactive]]:
    started: list[Interactive] = []

    def start() -> Interactive:
        session = Interactive([*quizkit_argv, "--course", str(course_dir), "take", "demo"])
        started.append(session)
        return session

    yield start
    for session in started:
        session.kill()


def test_piped_answers_work_with_the_console_script(
    run_quizkit: Callable[..., subprocess.CompletedProcess[str]], course_dir: Path
) -> None:
    result = run_quizkit("--course", course_dir, "take", "demo", input=QUESTIONS_RIGHT + SKIP_EXERCISE_TWICE)
    assert result.returncode == 1
    assert result.stdout.count("✓ Correct") == 3
    assert "Score: 3 / 4" in result.stdout
    assert "Traceback" not in result.stderr


def test_piped_answers_are_echoed_after_the_prompt(
    run_quizkit: Callable[..., subprocess.CompletedProcess[str]], course_dir: Path
) -> None:
    result = run_quizkit("--course", course_dir, "take", "demo", input="b\nq\n")
    assert "> b\n" in result.stdout


def test_ctrl_c_at_the_first_prompt_exits_130_with_progress_saved(
    interactive: Callable[[], Interactive], home: Path
) -> None:
    session = interactive()
    session.wait_for("> ")
    session.interrupt()
    code, stdout, stderr = session.finish()
    assert code == 130
    assert "progress saved" in stdout
    assert "Traceback" not in stderr
    assert saved(home)["items"] == {}


def test_ctrl_c_keeps_the_answers_given_so_far(interactive: Callable[[], Interactive], home: Path) -> None:
    session = interactive()
    session.wait_for("> ")
    session.send("b\n")
    session.wait_for("> ", count=2)
    session.interrupt()
    code, _, stderr = session.finish()
    assert code == 130
    assert "Traceback" not in stderr
    assert saved(home)["items"]["pick-one"]["status"] == "correct"


class Terminal:
    """The console script on a pseudo-terminal, as a learner runs it."""

    def __init__(self, argv: list[str]) -> None:
        pty = pytest.importorskip("pty")
        env = {**os.environ, "TERM": "dumb", "PYTHONIOENCODING": "utf-8"}
        try:
            self.pid, self.fd = pty.fork()
        except OSError as exc:
            pytest.skip(f"no pseudo-terminal available: {exc}")
        if self.pid == 0:  # the child: become quizkit
            try:
                default_sigint()
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.output = b""
        self.returncode: int | None = None

    def wait_for(self, text: str, count: int = 1) -> None:
        deadline = time.monotonic() + TIMEOUT
        while self.output.count(text.encode()) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"never saw {text!r}; output so far:\n{self.output.decode(errors='replace')}")
            if not self._read(0.05):
                pytest.fail(f"quizkit exited before {text!r}; output:\n{self.output.decode(errors='replace')}")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.output += chunk
        return bool(chunk)

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_code(self, within: float) -> int | None:
        """The exit code once quizkit exits within ``within`` seconds (output collected), else None."""
        deadline = time.monotonic() + within
        while self.returncode is None and time.monotonic() < deadline:
            self._read(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                while select.select([self.fd], [], [], 0.05)[0] and self._read(0):
                    pass
        return self.returncode

    def finish(self) -> int:
        code = self.exit_code(TIMEOUT)
        if code is None:
            pytest.fail(f"quizkit did not exit; output:\n{self.output.decode(errors='replace')}")
        return code

    def press_ctrl_c(self) -> None:
        """Ctrl-C, pressed again if the first one went unnoticed.

        CPython's readline only looks at signals while it waits for a key, so a SIGINT that lands
        between drawing the prompt and starting to wait is acted on at the next key press, which is
        what a learner's second Ctrl-C is. Unnoticed means: within a second, no exit and not a line
        of output (an interrupt is answered at once with a line; only the rest of the prompt's
        colour codes may still arrive; a second Ctrl-C while quizkit saves is harmless).
        """
        self.type("\x03")
        seen = len(self.output)
        if self.exit_code(within=1.0) is None and b"\n" not in self.output[seen:]:
            self.type("\x03")

    def close(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminal(home: Path, course_dir: Path, quizkit_argv: list[str]) -> Iterator[Terminal]:
    session = Terminal([*quizkit_argv, "--course", str(course_dir), "take", "demo"])
    yield session
    session.close()


def test_answers_typed_on_a_terminal_work(terminal: Terminal, home: Path) -> None:
    terminal.wait_for("> ")
    terminal.type("b\r")
    terminal.wait_for("Correct")
    terminal.wait_for("> ", count=2)
    terminal.type("q\r")
    assert terminal.finish() == 0
    assert saved(home)["items"]["pick-one"]["status"] == "correct"


def test_ctrl_c_on_a_terminal_exits_130_with_progress_saved(terminal: Terminal, home: Path) -> None:
    terminal.wait_for("> ")
    terminal.type("b\r")
    terminal.wait_for("> ", count=2)
    terminal.press_ctrl_c()
    assert terminal.finish() == 130
    assert b"progress saved" in terminal.output
    assert b"Traceback" not in terminal.output
    assert saved(home)["items"]["pick-one"]["status"] == "correct"


# --- lessons without exercises, and stale progress --------------------------------------------


@pytest.fixture
def questions_only(course_dir: Path) -> None:
    """Turn the demo lesson into one with questions only, so full marks are reachable."""
    path = course_dir / "exercises" / "demo" / "lesson.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("exercises:")], encoding="utf-8")


@pytest.mark.usefixtures("questions_only")
def test_full_marks_exit_0(run_cli: Run) -> None:
    result = take(run_cli, QUESTIONS_RIGHT)
    assert result.exit_code == 0
    assert "Score: 3 / 3  (100%)" in result.output
    assert "To review:" not in result.output


@pytest.mark.usefixtures("questions_only")
def test_finished_lesson_says_so_and_shows_the_summary_again(run_cli: Run) -> None:
    take(run_cli, QUESTIONS_RIGHT)
    result = take(run_cli, "")
    assert "You have finished this lesson. Use --restart to take it again." in result.output
    assert "Score: 3 / 3" in result.output
    assert result.exit_code == 0


@pytest.mark.usefixtures("questions_only")
def test_finished_lesson_is_listed_as_finished(run_cli: Run) -> None:
    take(run_cli, QUESTIONS_RIGHT)
    line = next(line for line in run_cli("list").output.splitlines() if "Demo lesson" in line)
    assert "finished, score 3/3" in line


def write_stale_progress(home: Path) -> None:
    """Progress saved when the lesson still had a question that has since been removed."""
    record = {"status": "correct", "score": 1, "max_score": 1}
    document = {"version": 1, "lesson": "demo", "seed": 1, "items": {"removed-question": record}}
    progress_file(home).parent.mkdir(parents=True)
    progress_file(home).write_text(json.dumps(document), encoding="utf-8")


def test_progress_for_a_removed_question_does_not_count(run_cli: Run, home: Path) -> None:
    write_stale_progress(home)
    result = take(run_cli, QUESTIONS_RIGHT + SKIP_EXERCISE_TWICE)
    assert "Score: 3 / 4" in result.output
    assert result.exit_code == 1


# --- nothing acknowledged is lost -------------------------------------------------------------


class SavedWhenShownIO:
    """Answers from a list; whenever a verdict or hint is shown, notes what the progress file holds."""

    color = False

    def __init__(self, answers: list[str], path: Path) -> None:
        self.answers = answers
        self.path = path
        self.on_disk_when_shown: list[tuple[str, dict]] = []

    def say(self, text: str = "") -> None:
        if re.search(r"\(\d+(\.\d+)?/1\)", text) or "Hint 1/" in text:
            data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
            self.on_disk_when_shown.append((text, data))

    def ask(self, prompt: str) -> str:
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)


def run_session(home: Path, answers: list[str]) -> SavedWhenShownIO:
    from quizkit.lesson import load_lesson
    from quizkit.progress import ProgressStore
    from quizkit.session import Session

    lesson = load_lesson(Path(__file__).resolve().parent / "data" / "course" / "exercises" / "demo" / "lesson.yaml")
    io = SavedWhenShownIO(answers, progress_file(home))
    Session(lesson, ProgressStore(home), io).run()
    return io


def test_each_verdict_is_on_disk_before_it_is_shown(home: Path) -> None:
    io = run_session(home, ["b", "a", "0.3", "q"])
    shown = io.on_disk_when_shown
    assert len(shown) == 3
    for (_, data), item in zip(shown, ["pick-one", "pick-many", "step-size"], strict=True):
        assert item in data.get("items", {})


def test_a_hint_is_on_disk_before_it_is_shown(home: Path) -> None:
    io = run_session(home, ["h", "q"])
    [(_, data)] = io.on_disk_when_shown
    assert data["hints_seen"] == {"pick-one": 1}


def test_second_session_on_the_same_lesson_is_refused_while_the_first_runs(
    interactive: Callable[[], Interactive], home: Path
) -> None:
    first = interactive()
    first.wait_for("> ")
    second = interactive()
    code, _, stderr = second.finish()
    assert code == 2
    assert "demo is open in another `quizkit take` session" in stderr
    assert len(stderr.strip().splitlines()) == 1
    first.send("b\nq\n")
    assert first.finish()[0] == 0
    assert saved(home)["items"]["pick-one"]["status"] == "correct"


def test_sessions_one_after_the_other_keep_each_others_answers(
    interactive: Callable[[], Interactive], home: Path
) -> None:
    first = interactive()
    first.wait_for("> ")
    first.send("b\nq\n")
    assert first.finish()[0] == 0
    second = interactive()
    second.wait_for("> ")
    second.send("a,c\nq\n")
    assert second.finish()[0] == 0
    assert set(saved(home)["items"]) == {"pick-one", "pick-many"}


def test_take_removes_temporary_files_left_by_a_killed_session(run_cli: Run, home: Path) -> None:
    folder = home / "progress"
    folder.mkdir(parents=True)
    (folder / ".demo.json.x7q2.tmp").write_text('{"version": 1', encoding="utf-8")
    take(run_cli, "b\nq\n")
    assert sorted(p.name for p in folder.glob(".demo.json.*")) == []


def cap_memory() -> None:
    """1 GB of address space for a child that might read /dev/zero forever (the old code did)."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


HOSTILE = ["binary", "deep", "fifo", "dev-zero-link"]


def plant_hostile_progress_file(home: Path, kind: str) -> Path:
    """Put something quizkit must not trust where the demo lesson's progress file belongs."""
    path = progress_file(home)
    path.parent.mkdir(parents=True)
    if kind == "binary":
        path.write_bytes(b"\xff\xfe" + os.urandom(64))
    elif kind == "deep":
        path.write_text('{"a":' * 100_000, encoding="utf-8")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


def run_capped(argv: list[str], input: str = "") -> subprocess.CompletedProcess[str]:
    """A real process with a timeout and a memory cap: the old code blocked on a FIFO forever and
    read /dev/zero until memory ran out."""
    return subprocess.run(
        argv,
        input=input,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        preexec_fn=cap_memory,
    )


@pytest.mark.parametrize("kind", HOSTILE)
def test_take_moves_a_hostile_progress_file_aside_with_one_warning(
    kind: str, home: Path, course_dir: Path, quizkit_argv: list[str]
) -> None:
    path = plant_hostile_progress_file(home, kind)
    result = run_capped([*quizkit_argv, "--course", str(course_dir), "take", "demo"], input="b\nq\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert next(line for line in result.stdout.splitlines() if "warning:" in line).count("damaged") == 1
    assert saved(home)["items"]["pick-one"]["status"] == "correct"
    assert len(list(path.parent.glob("demo.corrupt-*.json"))) == 1


@pytest.mark.parametrize("kind", HOSTILE)
def test_list_moves_a_hostile_progress_file_aside_without_hanging(
    kind: str, home: Path, course_dir: Path, quizkit_argv: list[str]
) -> None:
    path = plant_hostile_progress_file(home, kind)
    result = run_capped([*quizkit_argv, "--course", str(course_dir), "list"])
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    line = next(line for line in result.stdout.splitlines() if "Demo lesson" in line)
    assert "not started; warning: progress file" in line and "was damaged" in line
    assert len(list(path.parent.glob("demo.corrupt-*.json"))) == 1


def test_empty_workspace_starter_is_replaced_by_the_starter(run_cli: Run, home: Path, course_dir: Path) -> None:
    workspace_file = home / "workspace" / "demo" / "double.py"
    workspace_file.parent.mkdir(parents=True)
    workspace_file.write_bytes(b"")
    take(run_cli, QUESTIONS_RIGHT + "q\n")
    assert workspace_file.read_bytes() == (course_dir / "exercises" / "demo" / "double.py").read_bytes()


def test_full_disk_while_copying_the_starter_is_one_line_and_leaves_no_empty_file(
    run_cli: Run, home: Path, course_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import quizkit.files

    starter = (course_dir / "exercises" / "demo" / "double.py").read_bytes()
    write_progress = getattr(quizkit.files, "write_all", None)

    def disk_full(fd: int, data: bytes) -> None:
        if bytes(data) != starter and write_progress is not None:
            return write_progress(fd, data)  # progress saves still work; only the starter fails
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("quizkit.files.write_all", disk_full, raising=False)
    result = take(run_cli, QUESTIONS_RIGHT + "q\n")
    assert result.exit_code == 2
    [line] = [line for line in result.stderr.splitlines() if line]
    assert line.startswith("quizkit: error: cannot copy the starter file") and line.endswith("the disk is full")
    assert not (home / "workspace" / "demo" / "double.py").exists()

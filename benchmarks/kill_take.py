"""Kill -9 durability check for `quizkit take` (a script, not a timed test).

Runs a scripted ``quizkit take lesson3 --restart`` with piped answers again and again and kills it
with SIGKILL at a random moment: half of the runs at a random time, half right after the k-th
verdict appeared on its stdout (the moment a learner has just seen an answer acknowledged). Every
other run slows each fsync down by 30 ms, which widens the window between writing and renaming.
After each kill it checks that

* the progress file parses (quizkit's own strict reader), and
* every answer whose verdict was printed before the kill is in it.

It also counts the temporary files the kills left behind and checks that the next session removes
them. Prints the counts; exits 1 if an acknowledged answer was lost or a file did not parse.

    python benchmarks/kill_take.py [--runs 40] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from quizkit.lesson import ChoiceQuestion, MultiQuestion, NumericQuestion, load_lesson  # noqa: E402
from quizkit.progress import ProgressStore, read_progress_file  # noqa: E402

LESSON = REPO / "exercises" / "lesson3" / "lesson.yaml"
ITEM_HEADER = re.compile(r"^\[(\d+)/\d+\] ")
VERDICT = re.compile(r"^[✓✗◐] .*\(\d+(\.\d+)?/\d+(\.\d+)?\)\s*$")
# Run by every other session: the same CLI with each fsync 30 ms slower.
SLOW_FSYNC = (
    "import os, time\n"
    "_fsync = os.fsync\n"
    "def slow(fd):\n"
    "    time.sleep(0.03)\n"
    "    _fsync(fd)\n"
    "os.fsync = slow\n"
    "from quizkit.cli import main\n"
    "main(prog_name='quizkit')\n"
)


def scripted_answers() -> list[str]:
    """One answer that counts as an attempt for each question, in lesson order."""
    lesson = load_lesson(LESSON)
    answers = []
    for question in lesson.questions:
        if isinstance(question, (ChoiceQuestion, MultiQuestion)):
            answers.append("a")
        elif isinstance(question, NumericQuestion):
            answers.append(repr(question.answer))
        else:
            answers.append(question.answer)  # the key itself always parses
    return answers


class Run:
    """One `take` process whose stdout is read line by line as it arrives."""

    def __init__(self, argv: list[str], env: dict[str, str], answers: list[str]) -> None:
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=REPO,
        )
        self.acknowledged: list[int] = []  # item numbers whose verdict was printed
        self.verdict_seen = threading.Condition()
        self._item = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        assert self.process.stdin is not None
        try:
            self.process.stdin.write("".join(answer + "\n" for answer in answers).encode("utf-8"))
            self.process.stdin.close()
        except BrokenPipeError:
            pass

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", errors="replace")
            header = ITEM_HEADER.match(line)
            if header:
                self._item = int(header.group(1))
            elif VERDICT.match(line):
                with self.verdict_seen:
                    self.acknowledged.append(self._item)
                    self.verdict_seen.notify_all()

    def kill_after_verdicts(self, count: int, timeout: float) -> None:
        with self.verdict_seen:
            self.verdict_seen.wait_for(lambda: len(self.acknowledged) >= count, timeout=timeout)
        self.kill()

    def kill(self) -> None:
        # Whatever the reader has parsed up to the kill is what the learner saw.
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._reader.join(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    lesson = load_lesson(LESSON)
    answers = scripted_answers()
    home = Path(tempfile.mkdtemp(prefix="quizkit-kill-"))
    store = ProgressStore(home)
    progress_dir = home / "progress"
    env = {**os.environ, "QUIZKIT_HOME": str(home), "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    env.pop("QUIZKIT_COURSE", None)
    quizkit = [sys.executable, "-m", "quizkit"]
    totals = dict.fromkeys(
        [
            "runs",
            "killed_by_sigkill",
            "killed_right_after_a_verdict",
            "slow_fsync_runs",
            "acknowledged_answers",
            "lost_acknowledged_answers",
            "unparsable_progress_files",
            "kills_that_left_a_temp_file",
            "stale_temp_files_surviving_a_later_session",
        ],
        0,
    )

    def temp_files() -> set[str]:
        return {p.name for p in progress_dir.glob(".lesson3.json.*.tmp")} if progress_dir.exists() else set()

    for number in range(options.runs):
        slow = number % 2 == 1
        argv = [sys.executable, "-c", SLOW_FSYNC] if slow else quizkit
        argv = [*argv, "--course", str(REPO), "take", "lesson3", "--restart"]
        temp_before = temp_files()
        run = Run(argv, env, answers)
        if number % 4 < 2:
            run.kill_after_verdicts(rng.randint(1, 30), timeout=30)
            totals["killed_right_after_a_verdict"] += 1
        else:
            time.sleep(rng.uniform(0.3, 1.5))  # a whole scripted run takes one to three seconds
            run.kill()
        totals["runs"] += 1
        totals["slow_fsync_runs"] += slow
        totals["killed_by_sigkill"] += run.process.returncode == -signal.SIGKILL
        temp_after = temp_files()
        totals["kills_that_left_a_temp_file"] += bool(temp_after - temp_before)
        if run.acknowledged:  # this session took the lock, so it must have removed the older ones
            totals["stale_temp_files_surviving_a_later_session"] += len(temp_before & temp_after)
        try:
            progress = read_progress_file(store.path_for("lesson3"))
        except ValueError as exc:
            totals["unparsable_progress_files"] += 1
            print(f"run {number}: progress file does not parse: {exc}")
            continue
        saved = set(progress.items) if progress else set()
        acknowledged = {lesson.items[index - 1].id for index in run.acknowledged}
        lost = acknowledged - saved
        totals["acknowledged_answers"] += len(acknowledged)
        totals["lost_acknowledged_answers"] += len(lost)
        if lost:
            print(f"run {number}: lost acknowledged answers {sorted(lost)}")
    final = subprocess.run(
        [*quizkit, "--course", str(REPO), "take", "lesson3"], input=b"q\n", env=env, cwd=REPO, capture_output=True
    )
    totals["temp_files_after_a_final_clean_session"] = len(temp_files())
    totals["final_session_exit_code"] = final.returncode
    width = max(map(len, totals))
    for key, value in totals.items():
        print(f"{key:<{width}}  {value}")
    failed = totals["lost_acknowledged_answers"] or totals["unparsable_progress_files"]
    return 1 if failed or totals["temp_files_after_a_final_clean_session"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""`quizkit take`: an interactive session over one lesson.

The session talks to the learner only through an :class:`IO` object, so the same code serves a
terminal, piped input (one answer per line) and tests.

Nothing acknowledged is lost: every answer (and every hint) is saved durably before the learner sees
its verdict, so whatever was on screen when the process died is in the progress file. The session
holds the lesson's lock from start to end (see :mod:`quizkit.progress`), so a second ``take`` on the
same lesson is refused instead of overwriting this one's answers.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click

from quizkit.appstate import warn
from quizkit.errors import QuizkitError
from quizkit.lesson import (
    AnyQuestion,
    ChoiceQuestion,
    Exercise,
    InfoItem,
    Lesson,
    MultiQuestion,
    Plot,
    SymbolicQuestion,
)
from quizkit.progress import ItemRecord, ItemState, LessonProgress, ProgressStore, install_starter
from quizkit.questions import LETTERS, correct_answer_text, judge, option_order
from quizkit.render import render_options, render_verdict
from quizkit.text import plural, wrap

if TYPE_CHECKING:
    from quizkit.course import Course
    from quizkit.sandbox import SubprocessRunner
    from quizkit.symbolic import SymbolicChecker

EXIT_INTERRUPTED = 130

HELP = "Commands: h = hint, s = skip for now, q = save and quit, ? = this help."


class IO(Protocol):
    color: bool

    def say(self, text: str = "") -> None: ...

    def ask(self, prompt: str) -> str: ...  # raises EOFError at end of input


class TerminalIO:
    """A real terminal, or piped stdin (then each answer is echoed so a transcript reads well)."""

    def __init__(self) -> None:
        self.interactive = sys.stdin.isatty()
        self.color = sys.stdout.isatty()
        if self.interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (line editing and history for input())

    def say(self, text: str = "") -> None:
        click.echo(text, color=self.color)

    def ask(self, prompt: str) -> str:
        styled = click.style(prompt, fg="cyan", bold=True) if self.color else prompt
        if self.interactive:
            return input(styled)
        click.echo(styled, nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo()
            raise EOFError
        answer = line.rstrip("\r\n")
        click.echo(answer)
        return answer


def _variant(question: AnyQuestion, seed: int, attempt: int) -> int:
    """The learner's variant (0 for a question without parameters, without loading the engine)."""
    if not question.parameters:
        return 0
    from quizkit.variants import variant_for

    return variant_for(question, seed, attempt)


def _resolved(question: AnyQuestion, variant: int) -> AnyQuestion:
    if not question.parameters:
        return question
    from quizkit.variants import resolve

    return resolve(question, variant)


class _Quit(Exception):
    """The learner typed q."""


@dataclass
class _Command:
    """What the learner typed at a question: an answer or one of the command words."""

    name: str  # "hint" | "skip" | "quit" | "help" | "answer"
    text: str = ""


def _parse_command(text: str, reserved_letters: set[str]) -> _Command:
    word = text.strip().lower()
    names = {"h": "hint", "hint": "hint", "s": "skip", "skip": "skip", "q": "quit", "quit": "quit", "exit": "quit"}
    names |= {"?": "help", "help": "help"}
    # A single letter that is also an option letter is an answer, not a command.
    if word in names and not (len(word) == 1 and word in reserved_letters):
        return _Command(names[word])
    return _Command("answer", text)


class Session:
    """One run of `quizkit take`."""

    def __init__(
        self,
        lesson: Lesson,
        store: ProgressStore,
        io: IO,
        *,
        restart: bool = False,
        seed: int | None = None,
        course: Course | None = None,
        plots: bool = True,
    ) -> None:
        self.lesson = lesson
        self.plots = plots
        self.store = store
        self.io = io
        self.restart = restart
        self.seed = seed
        self.course = course
        self.progress: LessonProgress | None = None
        self._checker: SymbolicChecker | None = None
        self._runner: SubprocessRunner | None = None

    # -- top level -----------------------------------------------------------------------------

    def run(self) -> int:
        """Run the session; returns the exit code (0 full marks, 1 otherwise, 130 interrupted).

        Raises :class:`~quizkit.progress.LessonBusyError` when another session has the lesson open.
        """
        with self.store.lock(self.lesson.id):
            return self._run_locked()

    def _run_locked(self) -> int:
        try:
            self.progress = self._load_progress()
            return self._run_items()
        except _Quit:
            self._save()
            self.io.say(f"Progress saved. Run `quizkit take {self.lesson.id}` to continue.")
            return 0
        except EOFError:
            self._save()
            self.io.say(f"End of input: progress saved. Run `quizkit take {self.lesson.id}` to continue.")
            return 0
        except KeyboardInterrupt:
            self._save()
            self.io.say(f"\nInterrupted: progress saved. Run `quizkit take {self.lesson.id}` to continue.")
            return EXIT_INTERRUPTED
        finally:
            self._close_workers()

    def _load_progress(self) -> LessonProgress:
        if self.restart:
            self.store.reset(self.lesson.id)
        progress, warning = self.store.load(self.lesson.id)
        if warning:
            self.io.say(click.style("warning: ", fg="yellow") + warning + "; starting the lesson afresh")
        if progress is None:
            progress = self.store.fresh(self.lesson.id, self.seed)
        elif self.seed is not None:
            progress.seed = self.seed
        return progress

    def _save(self) -> None:
        if self.progress is not None:
            self.store.save(self.progress)

    def _pending(self) -> list[AnyQuestion | InfoItem | Exercise]:
        assert self.progress is not None
        return [item for item in self.lesson.sequence if not self._done(item)]

    def _done(self, item: AnyQuestion | InfoItem | Exercise) -> bool:
        """Read items and finally answered questions are done; an exercise stays open until it
        gets full marks; a question answered wrong with attempts left stays open."""
        assert self.progress is not None
        return self.progress.is_done(item.id, item.points, exercise=isinstance(item, Exercise))

    def _run_items(self) -> int:
        assert self.progress is not None
        lesson = self.lesson
        pending = self._pending()
        total = len(lesson.items)
        scored_pending = [item for item in pending if not isinstance(item, InfoItem)]
        self.io.say(click.style(f"{lesson.title}", bold=True) + f"  ({lesson.id})")
        if lesson.description:
            self.io.say(wrap(lesson.description, ""))
        if not pending:
            self.io.say("You have finished this lesson. Use --restart to take it again.")
            return self._summary()
        done = total - len(scored_pending)
        if done:
            self.io.say(f"Welcome back: {done} of {total} done, {len(scored_pending)} to go.")
        else:
            counts = (
                f"{plural(len(lesson.questions), 'question')} and {plural(len(lesson.exercises), 'coding exercise')}"
            )
            self.io.say(f"{counts}. {HELP}")
        # The SymPy worker takes seconds to start, and the learner reads for longer than that: it is
        # started once the first item is done (or before a symbolic question shown first), so the
        # first question is on screen without waiting for a process to be spawned.
        wants_checker = any(isinstance(item, SymbolicQuestion) for item in pending)
        queue = deque(pending)
        skipped_once: set[str] = set()
        while queue:
            item = queue.popleft()
            if wants_checker and self._checker is None and isinstance(item, SymbolicQuestion):
                self._start_symbolic_checker()
            self.io.say()
            if isinstance(item, InfoItem):
                self._info(item)
            else:
                number = lesson.items.index(item) + 1
                if isinstance(item, Exercise):
                    skipped = self._exercise(item, number, total)
                else:
                    skipped = self._question(item, number, total)
                if skipped and item.id not in skipped_once:
                    skipped_once.add(item.id)
                    queue.append(item)  # offered once more at the end of this run
            if wants_checker and self._checker is None:
                self._start_symbolic_checker()
        return self._summary()

    # -- questions -----------------------------------------------------------------------------

    def _question(self, question: AnyQuestion, number: int, total: int) -> bool:
        """Ask one question until it is answered for good (True if skipped).

        A wrong answer with attempts left is saved as such (status ``trying``), so a learner who
        quits and comes back resumes on the next attempt, with the same variant unless the
        question gives a new one per retry.
        """
        assert self.progress is not None
        io = self.io
        scoring = question.scoring
        previous = self.progress.items.get(question.id)
        attempt = previous.attempts + 1 if previous is not None and previous.status is ItemState.TRYING else 1
        kind = {"choice": "choose one", "multi": "select all that apply", "numeric": "number", "symbolic": "expression"}
        points = f"{question.points:g} point{'s' if question.points != 1 else ''}"
        shown_variant: int | None = None
        while True:
            variant = _variant(question, self.progress.seed, attempt)
            if variant != shown_variant:
                try:
                    shown = _resolved(question, variant)
                except QuizkitError as error:  # a variant validate would have refused
                    io.say(f"This question cannot be shown ({error}); it is skipped. Tell your instructor.")
                    return True
                shown_variant = variant
                tries = f" · attempt {attempt} of {scoring.attempts}" if scoring.attempts > 1 else ""
                io.say(click.style(f"[{number}/{total}] ", fg="blue") + f"{kind[question.type]} · {points}{tries}")
                io.say(wrap(shown.prompt))
                order = None
                reserved: set[str] = set()
                if isinstance(shown, (ChoiceQuestion, MultiQuestion)):
                    order = option_order(shown, self.progress.seed)
                    io.say(render_options(shown, order))
                    reserved = set(LETTERS[: len(order)])
                    if isinstance(shown, MultiQuestion):
                        io.say("  (several letters, e.g. a,c)")
            command = _parse_command(io.ask("> "), reserved)
            if command.name == "quit":
                raise _Quit
            if command.name == "help":
                io.say(HELP)
                continue
            if command.name == "hint":
                self._hint(question.id, shown.hints)
                continue
            if command.name == "skip":
                if previous is None or previous.status is ItemState.SKIPPED:
                    self._record(question.id, ItemRecord(ItemState.SKIPPED, 0.0, question.points))
                io.say("Skipped.")
                return True
            if not command.text.strip():
                continue
            verdict = judge(shown, command.text, order=order, symbolic=self._checker)
            if not verdict.counts_as_attempt:
                io.say(render_verdict(verdict, shown, order, reveal=True))
                continue
            hints = self.progress.hints_seen.get(question.id, 0)
            verdict = replace(verdict, score=round(verdict.score * scoring.fraction(attempt, hints), 4))
            final = verdict.is_correct or attempt >= scoring.attempts
            # Saved first, shown second: a verdict on screen is always a verdict on disk.
            previous = ItemRecord(
                status=ItemState.of(verdict.status) if final else ItemState.TRYING,
                score=verdict.score if final else 0.0,
                max_score=verdict.max_score,
                answer=command.text.strip(),
                hints_used=hints,
                attempts=attempt,
                feedback=list(verdict.feedback),
                variant=variant if question.parameters else None,
            )
            self._record(question.id, previous)
            io.say(render_verdict(verdict, shown, order, reveal=final))
            if final:
                if shown.explanation:
                    io.say(wrap(shown.explanation))
                if shown.plot is not None:
                    self._plot(shown.plot, dict(shown.values))
                return False
            attempt += 1
            again = "Try again" + (" with new numbers" if scoring.retry_variant and question.parameters else "")
            io.say(f"{again}: attempt {attempt} of {scoring.attempts}.")

    # -- reading items and plots ---------------------------------------------------------------

    def _info(self, item: InfoItem) -> None:
        """Show a reading item; Enter continues, q saves and quits."""
        io = self.io
        io.say(click.style("── " + (item.title or "Read this") + " ", bold=True) + "─" * max(0, 60 - len(item.title)))
        io.say(wrap(item.text))
        if item.plot is not None:
            self._plot(item.plot, {})
        while True:
            command = _parse_command(io.ask("[Enter] continue · q quit > "), set())
            if command.name == "quit":
                raise _Quit
            if command.name in ("help", "hint"):
                io.say("Press Enter to go on to the next item, or q to save and quit.")
                continue
            if command.name == "answer" and command.text.strip():
                # Typed text is not taken as "read": the learner may think it answered something.
                io.say("Nothing to answer here, this is a reading. Press Enter to go on, or q to save and quit.")
                continue
            break
        self._record(item.id, ItemRecord(ItemState.READ, 0.0, 0.0))

    def _plot(self, plot: Plot, values: dict[str, float]) -> None:
        if not self.plots:
            return
        from quizkit.errors import TemplateError
        from quizkit.formula import ParseError
        from quizkit.plots import render_plot

        try:
            self.io.say(render_plot(plot, values, color=self.io.color))
        except (ParseError, TemplateError) as error:  # validate reports it at its line
            message = error.message if isinstance(error, ParseError) else str(error)
            self.io.say(f"(This plot cannot be drawn: {message}. Tell your instructor.)")

    def _hint(self, item_id: str, hints: tuple[str, ...]) -> None:
        assert self.progress is not None
        seen = self.progress.hints_seen.get(item_id, 0)
        if not hints:
            self.io.say("No hints for this one.")
            return
        if seen >= len(hints):
            self.io.say("No more hints. Here they are again:")
            for index, hint in enumerate(hints, 1):
                self.io.say(wrap(f"Hint {index}/{len(hints)}: {hint}"))
            return
        self.progress.hints_seen[item_id] = seen + 1
        self._save()  # a hint counts against the score, so it is on disk before it is on screen
        label = f"Hint {seen + 1}/{len(hints)}:"
        text = wrap(f"{label} {hints[seen]}")
        self.io.say(text.replace(label, click.style(label, fg="yellow"), 1))

    def _record(self, item_id: str, record: ItemRecord) -> None:
        assert self.progress is not None
        record.updated = time.time()
        self.progress.items[item_id] = record
        self.progress.finished = not self._pending()
        self._save()

    # -- exercises -----------------------------------------------------------------------------

    def workspace_file(self, exercise: Exercise) -> Path:
        """The learner's copy of the starter: created on first visit, never overwritten once it has content."""
        target = self.store.workspace_for(self.lesson.id) / exercise.starter.name
        install_starter(exercise.starter, target)
        return target

    def _exercise(self, exercise: Exercise, number: int, total: int) -> bool:
        """Present a coding exercise and grade the learner's file on request (True if skipped)."""
        io = self.io
        io.say(
            click.style(f"[{number}/{total}] ", fg="blue")
            + f"coding exercise · {exercise.points:g} point{'s' if exercise.points != 1 else ''}"
        )
        io.say(click.style(f"  {exercise.title}: ", bold=True) + exercise.signature)
        io.say(wrap(exercise.prompt))
        path = self.workspace_file(exercise)
        io.say(f"  Your file: {path}")
        io.say(f"  Edit it, then press Enter here to grade it (or run: quizkit submit {self.lesson.id} {path}).")
        self._sandbox()  # the fork server starts (numpy's import) while the learner edits the file
        while True:
            command = _parse_command(io.ask("[Enter] grade · h hint · s skip · q quit > "), set())
            if command.name == "quit":
                raise _Quit
            if command.name == "help":
                io.say("Enter or g = grade your file, " + HELP)
                continue
            if command.name == "hint":
                self._hint(exercise.id, exercise.hints)
                continue
            if command.name == "skip":
                previous = self.progress.items.get(exercise.id) if self.progress else None
                if previous is None or not previous.done:
                    self._record(exercise.id, ItemRecord(ItemState.SKIPPED, 0.0, exercise.points))
                io.say("Skipped.")
                return True
            if command.text.strip().lower() not in ("", "g", "grade"):
                io.say("Type your code in the file above, not here. Press Enter to grade it.")
                continue
            if self._grade_exercise(exercise, path):
                return False

    def _grade_exercise(self, exercise: Exercise, path: Path) -> bool:
        """Grade the learner's file; records the best score and returns True at full marks."""
        from quizkit.grading import grade_file
        from quizkit.report import render_text

        assert self.progress is not None
        self.io.say("Grading ...")
        result = grade_file(self.lesson, exercise, path, self._sandbox())
        previous = self.progress.items.get(exercise.id)
        if previous is None or not previous.done or result.score >= previous.score:
            attempts = (previous.attempts if previous else 0) + 1
            record = ItemRecord(
                ItemState.of(result.status), result.score, result.max_score, answer=str(path), attempts=attempts
            )
            self._record(exercise.id, record)
        self.io.say(render_text([result], color=self.io.color))  # after the save, like every verdict
        if self.plots and exercise.sweep is not None:
            from quizkit.sweeps import render_sweep, worth_drawing

            if worth_drawing(exercise, result):
                self.io.say(render_sweep(exercise, path, self._sandbox(), color=self.io.color))
        if result.is_correct:
            return True
        self.io.say("Fix your file and press Enter to grade again, or s to move on.")
        return False

    def _sandbox(self):
        from quizkit.sandbox import SubprocessRunner

        if self._runner is None:
            self._runner = SubprocessRunner(isolation="preferred")
            if self._runner.warning:  # once per session, on stderr, before the first result
                warn(self._runner.warning)
        return self._runner

    # -- workers and summary -------------------------------------------------------------------

    def _start_symbolic_checker(self) -> None:
        from quizkit.symbolic import SymbolicChecker

        self._checker = SymbolicChecker()
        self._checker.start()  # warms up in the background while the learner reads

    def _close_workers(self) -> None:
        if self._checker is not None:
            self._checker.close(grace=0.0)  # nothing is in flight: do not wait for a warming worker
        if self._runner is not None:
            # Nothing is in flight either; a server still importing numpy ends by itself once it sees
            # its socket closed, so quitting does not wait for it.
            self._runner.abandon()

    def _summary(self) -> int:
        assert self.progress is not None
        io = self.io
        lesson = self.lesson
        score = self.progress.score(lesson)
        io.say()
        percent = f"  ({100 * score / lesson.max_score:.0f}%)" if lesson.max_score else ""
        io.say(click.style(f"Score: {score:g} / {lesson.max_score:g}", bold=True) + percent)
        missed = []
        for item in lesson.items:
            record = self.progress.items.get(item.id)
            if record is None or not record.done:
                mark, note = (
                    click.style("–", fg="yellow"),
                    "not answered" if record is None or record.status is ItemState.SKIPPED else "attempts left",
                )
            elif record.status is ItemState.CORRECT:
                mark, note = click.style("✓", fg="green"), ""
            else:
                mark, note = click.style("✗" if record.score == 0 else "◐", fg="red"), ""
                missed.append((item, record))
            got = f"{record.score:g}" if record else "0"
            io.say(f"  {mark} {item.id:<28} {got}/{item.points:g} {note}")
        if missed:
            io.say()
            io.say(click.style("To review:", bold=True))
            for item, record in missed:
                io.say(f"  • {item.id}: " + " ".join(getattr(item, "prompt", "").split())[:100])
                if isinstance(item, Exercise):
                    io.say(f"    best score {record.score:g}/{item.points:g}; file: {record.answer}")
                    continue
                shown = _resolved(item, record.variant or 0)
                order = (
                    option_order(shown, self.progress.seed)
                    if isinstance(shown, (ChoiceQuestion, MultiQuestion))
                    else None
                )
                io.say(f"    you answered: {record.answer}")
                io.say(f"    correct: {correct_answer_text(shown, order)}")
        unanswered = [item.id for item in lesson.items if not self._done(item)]
        if unanswered:
            io.say(
                f"\n{plural(len(unanswered), 'item')} still open. Run `quizkit take {lesson.id}` to come back to them."
            )
        return 0 if score >= lesson.max_score else 1

"""Attacks through the grading folder: learner folders and files that are not plain files.

The class folder is untrusted input (archives from learners, a shared drive). Each layout below is
built beside the honest classmates; the odd learner must get a row with 0 points and a warning
that names them, and nothing may be followed, leaked, hung or crashed (see conftest.py).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .conftest import Attack

STUB = 'def soft_threshold(w, threshold):\n    raise NotImplementedError("not yet")\n'
MEMORY_CAP = 2 << 30  # reading /dev/zero until MemoryError must not take the machine's memory
HUGE_FILE = 1 << 30


def mallory(attack: Attack) -> str:
    """The attacker's folder in the class (registered as a learner who must get a row)."""
    folder = attack.classroom.dir / attack.attacker
    attack.classroom.learners.add(attack.attacker)
    return str(folder)


def check_reported(attack: Attack, memory_cap: int | None = None) -> None:
    """The general checks, plus a warning line that names the odd learner."""
    run = attack.grade(memory_cap=memory_cap)
    problems = attack.problems(run)
    if attack.attacker not in run.stderr:
        problems.append(f"no warning names {attack.attacker} on stderr")
    attack.assert_contained(problems)


def test_a_learner_folder_symlinked_to_the_solutions_is_not_followed(attack: Attack) -> None:
    os.symlink(attack.classroom.course / "solutions" / "lesson3", mallory(attack))
    check_reported(attack)


def test_a_learner_file_symlinked_to_a_solution_is_not_followed(attack: Attack) -> None:
    os.mkdir(mallory(attack))
    solution = attack.classroom.course / "solutions" / "lesson3" / "soft_threshold.py"
    os.symlink(solution, attack.classroom.dir / attack.attacker / "soft_threshold.py")
    check_reported(attack)


def test_a_flat_learner_file_symlinked_to_a_solution_is_not_followed(attack: Attack) -> None:
    mallory(attack)  # DIR/mallory__soft_threshold.py, the other layout
    solution = attack.classroom.course / "solutions" / "lesson3" / "soft_threshold.py"
    os.symlink(solution, attack.classroom.dir / f"{attack.attacker}__soft_threshold.py")
    check_reported(attack)


def test_symlinked_folders_inside_a_learner_folder_are_not_walked(attack: Attack) -> None:
    # A link to / and a link back to the folder itself: walking either never ends.
    folder = attack.classroom.add_file(attack.attacker, "soft_threshold", STUB).parent
    os.symlink("/", folder / "everything")
    os.symlink(".", folder / "loop")
    attack.check()


def test_a_huge_learner_file_is_not_read_whole(attack: Attack) -> None:
    path = attack.classroom.add_file(attack.attacker, "soft_threshold", STUB)
    with open(path, "r+b") as handle:
        handle.truncate(HUGE_FILE)  # sparse: no disk used, but a reader gets all of it
    check_reported(attack, memory_cap=MEMORY_CAP)


def test_a_learner_file_symlinked_to_a_0600_file_leaks_nothing(attack: Attack) -> None:
    os.mkdir(mallory(attack))
    key = attack.classroom.home / ".ssh" / "id_ed25519"
    os.symlink(key, attack.classroom.dir / attack.attacker / "soft_threshold.py")
    check_reported(attack)


def test_a_learner_file_symlinked_to_dev_zero_is_not_read(attack: Attack) -> None:
    os.mkdir(mallory(attack))
    os.symlink("/dev/zero", attack.classroom.dir / attack.attacker / "soft_threshold.py")
    check_reported(attack, memory_cap=MEMORY_CAP)


def test_a_fifo_does_not_hang_the_grader(attack: Attack) -> None:
    os.mkdir(mallory(attack))
    os.mkfifo(attack.classroom.dir / attack.attacker / "soft_threshold.py")
    check_reported(attack)


def test_a_dangling_symlink_is_reported_against_its_learner(attack: Attack) -> None:
    os.mkdir(mallory(attack))
    os.symlink(attack.classroom.root / "nowhere.py", attack.classroom.dir / attack.attacker / "soft_threshold.py")
    check_reported(attack)


def test_a_symlink_loop_is_reported_against_its_learner(attack: Attack) -> None:
    os.mkdir(mallory(attack))
    link = attack.classroom.dir / attack.attacker / "soft_threshold.py"
    os.symlink(link, link)
    check_reported(attack)


def test_an_unreadable_file_is_reported_against_its_learner(attack: Attack) -> None:
    path = attack.classroom.add_file(attack.attacker, "soft_threshold", STUB)
    path.chmod(0)
    check_reported(attack)


def test_an_unreadable_learner_folder_gets_a_row(attack: Attack) -> None:
    path = attack.classroom.add_file(attack.attacker, "soft_threshold", STUB)
    path.parent.chmod(0)
    check_reported(attack)


def test_an_empty_learner_folder_gets_a_row(attack: Attack) -> None:
    os.mkdir(mallory(attack))
    check_reported(attack)


def test_a_learner_named_like_a_spreadsheet_formula_is_neutralised(attack: Attack) -> None:
    name = '=HYPERLINK("x","y")'  # a folder name cannot hold the "//" of a URL
    attack.attacker = name
    attack.attackers = {name: 0.0}
    attack.classroom.add_file(name, "soft_threshold", STUB)
    attack.check()  # a row (its name made inert), 0 points, no formula cell


def test_an_unwritable_out_folder_is_a_one_line_error(attack: Attack) -> None:
    attack.classroom.out.parent.chmod(0o555)
    run = attack.grade()
    lines = run.stderr.strip().splitlines()
    problems = []
    if run.returncode != 2:
        problems.append(f"exit code {run.returncode}, not 2")
    if "Traceback" in run.stderr or len(lines) != 1:
        problems.append(f"stderr is not one line: {run.stderr.strip()[-300:]!r}")
    elif str(attack.classroom.out.parent) not in lines[0]:
        problems.append(f"the error does not name the folder: {lines[0]!r}")
    attack.assert_contained(problems)

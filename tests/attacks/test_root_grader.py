"""The same attacks on an instructor who grades as root (only when the tests run as root).

Root's learner code must not keep a capability that reads past file permissions, and jobs that run
at the same time must not be able to signal each other even when they share a uid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .conftest import Attack


def test_etc_shadow_is_not_readable_when_root_grades(attack_as_root: Attack) -> None:
    attack_as_root.file("soft_threshold", "read_file", TARGET="/etc/shadow")
    attack_as_root.check()


def test_a_0600_gradebook_is_not_readable_when_root_grades(attack_as_root: Attack) -> None:
    home = attack_as_root.classroom.home
    attack_as_root.file("soft_threshold", "read_file", TARGET=f"{home}/teaching/lesson2-grades.csv")
    attack_as_root.check()


def test_the_reference_solution_is_not_readable_when_root_grades(attack_as_root: Attack) -> None:
    course = attack_as_root.classroom.course
    attack_as_root.file("soft_threshold", "copy_file", SOURCE=f"{course}/solutions/lesson3/soft_threshold.py")
    attack_as_root.check()


def test_concurrent_jobs_cannot_signal_each_other_when_root_grades(attack_as_root: Attack) -> None:
    attack_as_root.file("soft_threshold", "signal_everyone", SIGNAL="SIGSEGV")
    attack_as_root.check()

"""Attacks by learner code: each is a file in files/, handed in beside honest classmates.

Every test grades the class once with the attacker and asserts, through ``Attack.check``, that
honest grades are unchanged, the attacker scores nothing it did not earn, nothing outside the job
changed, no process survived and the grader did not crash (see conftest.py).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .conftest import Attack


# --- Copying -----------------------------------------------------------------------------------


def test_reading_the_reference_solution_scores_nothing(attack: Attack) -> None:
    attack.file("soft_threshold", "copy_file", SOURCE=f"{attack.classroom.course}/solutions/lesson3/soft_threshold.py")
    attack.check()


def test_an_exercise_that_uses_another_gets_no_reference_code(attack: Attack) -> None:
    # lasso_ista uses soft_threshold: its job must not carry the reference soft_threshold's code.
    attack.file("lasso_ista", "leak_preloaded_reference")
    attack.check()


def test_running_a_classmates_file_scores_nothing(attack: Attack) -> None:
    attack.file("soft_threshold", "copy_file", SOURCE=f"{attack.classroom.dir}/alice/soft_threshold.py")
    attack.check()


# --- Secrets of the machine and of the instructor -----------------------------------------------


def test_etc_shadow_is_not_readable(attack: Attack) -> None:
    attack.file("soft_threshold", "read_file", TARGET="/etc/shadow")
    attack.check()


def test_the_instructors_ssh_key_is_not_readable(attack: Attack) -> None:
    attack.file("soft_threshold", "read_file", TARGET=f"{attack.classroom.home}/.ssh/id_ed25519")
    attack.check()


def test_a_0600_gradebook_is_not_readable(attack: Attack) -> None:
    attack.file("soft_threshold", "read_file", TARGET=f"{attack.classroom.home}/teaching/lesson2-grades.csv")
    attack.check()


def test_the_graders_environment_is_not_readable(attack: Attack) -> None:
    attack.file("soft_threshold", "read_environ")
    attack.check()


def test_the_grader_cannot_be_ptraced_or_its_memory_read(attack: Attack) -> None:
    attack.file("soft_threshold", "ptrace_grader")
    attack.check()


# --- Sabotage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("signal_name", ["SIGSEGV", "SIGSTOP", "SIGKILL"])
def test_signals_reach_no_other_process(attack: Attack, signal_name: str) -> None:
    attack.file("soft_threshold", "signal_everyone", SIGNAL=signal_name)
    attack.check()


def test_a_classmates_file_cannot_be_rewritten_before_it_is_graded(attack: Attack) -> None:
    attack.file("soft_threshold", "rewrite_classmate")
    attack.check()


def test_forged_resume_state_and_an_interrupt_do_not_change_grades(attack: Attack) -> None:
    attack.file("soft_threshold", "forge_state")
    interrupted = attack.grade()
    rerun = attack.grade()
    attack.assert_contained(attack.problems(interrupted) + attack.problems(rerun))


def test_self_reported_unmodified_inputs_are_not_believed(attack: Attack) -> None:
    # The file's function is bad_in_place's; it earns at most what that file earns honestly.
    attack.file("soft_threshold", "forge_frames")
    in_place = attack.baseline(())["zoe"]["soft_threshold"]  # zoe hands in bad_in_place.py
    attack.attackers[attack.attacker] = float(in_place)
    attack.check()


# --- Persistence -------------------------------------------------------------------------------


def test_no_pth_file_can_be_planted_in_the_venv(attack: Attack) -> None:
    attack.file("soft_threshold", "plant_pth")
    attack.check()


def test_no_bytecode_can_be_planted_for_quizkit(attack: Attack) -> None:
    attack.file("soft_threshold", "plant_pyc")
    attack.check()


# --- Residue -----------------------------------------------------------------------------------


def test_two_jobs_cannot_talk_over_loopback_tcp(attack: Attack) -> None:
    with socket.socket() as probe:  # a port free now; the two jobs meet there if they can
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    attack.file("clamp_to_zero", "tcp_listen", PORT=port)
    attack.file("sign_gradient", "tcp_connect", PORT=port)
    attack.check()


@pytest.mark.parametrize("where", ["dev_shm", "tmp", "sysv_shm"])
def test_nothing_a_job_leaves_outlives_it(attack: Attack, where: str) -> None:
    attack.file("soft_threshold", f"residue_{where}")
    attack.check()


def test_nothing_a_job_leaves_reaches_the_next_job(attack: Attack) -> None:
    # One worker: the attacker's two files run one after the other on the same server, and each
    # looks for what the other left before leaving its own.
    attack.file("sign_gradient", "residue")
    attack.file("clamp_to_zero", "residue")
    attack.check("--jobs", "1")


def test_a_20000_level_tree_in_the_job_folder_does_not_crash_the_grader(attack: Attack) -> None:
    attack.file("soft_threshold", "deep_tree")
    attack.check()

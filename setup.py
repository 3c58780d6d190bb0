"""Build hook: ship the course (exercises/ and solutions/) inside the package as quizkit/bundled_course/.

An installed quizkit then finds lesson 3 from any folder. Editable installs read the checkout instead.
A ``solutions/grade_seed`` file (a course's grade-time secret) is never copied into the package.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCourse(build_py):
    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "quizkit" / "bundled_course"
        for part in ("exercises", "solutions"):
            if (here / part).is_dir():
                shutil.copytree(
                    here / part,
                    target / part,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "grade_seed"),
                )


setup(cmdclass={"build_py": BuildWithCourse})

"""docs/architecture.md names every module of the package, and no module that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGE = ROOT / "quizkit"


def test_every_module_of_the_package_is_in_the_architecture_doc() -> None:
    modules = [path for path in PACKAGE.glob("*.py") if path.name != "__init__.py"]
    missing = [path.name for path in modules if f"`{path.name}`" not in DOC]
    subpackages = [path for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()]
    missing += [f"{package.name}/" for package in subpackages if f"`{package.name}/`" not in DOC]
    for package in subpackages:
        for module in package.glob("*.py"):
            if module.name != "__init__.py" and f"`{module.stem}`" not in DOC:
                missing.append(f"{package.name}/{module.name}")
    assert missing == []


def test_every_module_the_architecture_doc_names_exists() -> None:
    named = set(re.findall(r"`([a-z_]+\.py)`", DOC))
    assert named and sorted(name for name in named if not (PACKAGE / name).is_file()) == []

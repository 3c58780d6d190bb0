"""Small file helpers shared by the progress store and batch grading (no quizkit imports).

``default_home`` is the one rule for where quizkit keeps per-user files (progress, the grading
key); ``atomic_write_text`` is how every file a reader may see half-written is replaced.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def default_home() -> Path:
    """``$QUIZKIT_HOME`` if set, else the platform's per-user app folder."""
    env = os.environ.get("QUIZKIT_HOME")
    if env:
        return Path(env).expanduser()
    import click

    return Path(click.get_app_dir("quizkit"))

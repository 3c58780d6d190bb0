"""Reading and writing the files quizkit keeps or is given, without trusting what is on disk.

Two rules live here so that every reader and writer follows them:

* **Reading** (:func:`read_regular_file`): only a regular file is read. A FIFO would block forever,
  a device such as ``/dev/zero`` never ends, a directory cannot be read at all; each gets a
  :class:`NotReadable` that says what the path is. The file is opened with ``O_NONBLOCK`` (so even a
  FIFO swapped in after the check cannot block) and read up to a size cap.
* **Writing** (:func:`atomic_write_bytes`): a temporary file beside the target, fsynced, renamed over
  the target, then the directory fsynced, so that after a crash or a full disk the target holds the
  old or the new content, never half of it, and a caller that reports success only afterwards never
  reports something that a power cut could take back.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
from pathlib import Path

from quizkit.errors import InputError
from quizkit.text import shorten


class NotReadable(Exception):
    """A path that cannot be read as a regular file; the message says why, in a few words."""


def describe_mode(mode: int) -> str:
    """What kind of file ``mode`` (from ``stat``) describes, for messages: "a directory", "a FIFO"."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def stat_argument(path: Path, what: str) -> os.stat_result | None:
    """``stat`` of a path given on the command line: None when nothing is there.

    Every other OS error (a name longer than the system allows, no permission, a loop of links)
    becomes a one-line :class:`InputError` naming ``what`` ("file", "lesson folder", ...).
    """
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise InputError(f"{what} {shorten(str(path))}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # an embedded NUL byte
        raise InputError(f"{what} {shorten(repr(str(path)))}: {exc}") from exc


def require_regular_file(path: Path, what: str = "file") -> None:
    """A InputError unless ``path`` is a regular file (not missing, not a directory, FIFO or device)."""
    info = stat_argument(path, what)
    if info is None:
        raise InputError(f"no such {what}: {shorten(str(path))}")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{shorten(str(path))} is {describe_mode(info.st_mode)}, not a {what}")


def read_regular_file(path: Path, *, limit: int, follow_symlinks: bool = True) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes.

    Raises FileNotFoundError when nothing is there (callers usually treat that apart) and
    :class:`NotReadable` for everything else that makes the path unusable: another kind of file, a
    symbolic link when ``follow_symlinks`` is false, a file over the cap, or an OS error.
    """
    try:
        info = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise NotReadable(exc.strerror or str(exc)) from exc
    if not stat.S_ISREG(info.st_mode):
        raise NotReadable(f"it is {describe_mode(info.st_mode)}, not a regular file")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotReadable("it is a symbolic link, not a regular file") from exc
        raise NotReadable(exc.strerror or str(exc)) from exc
    try:
        # Checked again on the open file: the path may have been swapped since the stat above.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotReadable(f"it is {describe_mode(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise NotReadable(f"it is larger than {_size(limit)}")
        chunks = []
        remaining = limit + 1  # one byte more than allowed tells a file that grew while being read
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise NotReadable(exc.strerror or str(exc)) from exc
    finally:
        os.close(fd)
    if len(data) > limit:
        raise NotReadable(f"it is larger than {_size(limit)}")
    return data


def _size(limit: int) -> str:
    return f"{limit // (1 << 20)} MB" if limit >= 1 << 20 else f"{limit} bytes"


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (on file systems that support it)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # e.g. Windows, where directories cannot be opened; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; nothing more can be done there
    finally:
        os.close(fd)


def temp_prefix(path: Path) -> str:
    """The name prefix of the temporary files that :func:`atomic_write_bytes` makes for ``path``."""
    return f".{path.name}."


TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` by ``data`` durably: readers see the old or the new content, never half.

    On any error (a full disk, say) the temporary file is removed and the target is left as it was.
    ``durable=False`` skips the fsyncs, for a writer that makes many files durable at once later
    (batch grading's feedback files: see :func:`sync_everything`).
    """
    fd, temp_name = _create_temp(path)
    try:
        try:
            write_all(fd, data)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if not durable:
            # Renaming over an existing file makes ext4 write the new data out at once (its
            # replace-by-rename safeguard), which is what a non-durable write is meant to defer.
            path.unlink(missing_ok=True)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    if durable:
        fsync_directory(path.parent)


_temp_numbers = itertools.count()


def _create_temp(path: Path) -> tuple[int, str]:
    """A new file beside ``path``, named ``temp_prefix(path) + <pid>.<n> + TEMP_SUFFIX``, open for writing.

    Unique by process and a counter (``O_EXCL`` refuses a name left by an earlier process that had
    the same pid: the next number is tried); the folder is made only when it is missing. Batch
    grading writes a feedback file per learner: this costs half of what ``tempfile.mkstemp`` does.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_BINARY", 0)
    for _ in range(1000):
        name = os.path.join(path.parent, f"{temp_prefix(path)}{os.getpid()}.{next(_temp_numbers)}{TEMP_SUFFIX}")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(name, flags, 0o600), name
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def sync_everything() -> None:
    """Make every file written so far durable at once (one ``sync`` instead of an fsync per file)."""
    os.sync()


def default_home() -> Path:
    """``$QUIZKIT_HOME`` if set, else the platform's per-user app folder: where quizkit keeps per-user
    files (progress, the grading key)."""
    env = os.environ.get("QUIZKIT_HOME")
    if env:
        return Path(env).expanduser()
    import click

    return Path(click.get_app_dir("quizkit"))


KEY_FILE = "grading.key"
KEY_BYTES = 32


class KeyError_(Exception):
    """The per-user secret exists but cannot be used (unreadable, damaged)."""


def secret_key(home: Path | None = None, *, create: bool = True) -> bytes | None:
    """quizkit's per-user secret: 32 random bytes in ``<home>/grading.key`` (0600), made on first use.

    It authenticates what quizkit keeps on disk and reads back (grade's resume state, the lesson
    cache), so that a file changed behind quizkit's back is not believed. None when it does not
    exist and ``create`` is false. Raises OSError when it cannot be read or made, and
    :class:`KeyError_` when it is damaged.
    """
    home = default_home() if home is None else home
    path = home / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        if not create:
            return None
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole under a temporary name, then linked into place: a reader never sees half a key,
    # and of two processes making one at the same time, the first link wins and both use it.
    temp = home / f".{KEY_FILE}.{os.getpid()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, os.urandom(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink(missing_ok=True)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        info = os.fstat(fd)
        key = os.read(fd, KEY_BYTES + 1) if stat.S_ISREG(info.st_mode) else b""
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise KeyError_(f"the key {path} is damaged; delete it (what it authenticated is then rebuilt)")
    return key

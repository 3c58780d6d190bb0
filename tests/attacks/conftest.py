"""Attacks on ``quizkit grade``: a class of honest learners with one attacker, graded for real.

Every test here builds a grading scene (an instructor's home with canary files, a copy of the
course, a class folder, an output folder), plants one attack (a learner file from ``files/`` or a
layout of the class folder), runs the real ``quizkit grade`` console script in a subprocess and
checks what the attack must not achieve:

* the honest classmates' grades are those of a run of the same class without the attacker;
* the attacker gets no point it did not earn (cheating files score 0);
* nothing outside the job's own tmpfs changes: the home's canary tree, the course copy, the class
  folder, the instructor's venv (site-packages and quizkit's ``__pycache__``), ``/dev/shm``, the top
  of ``/tmp`` and SysV shared memory (entries of the grading user), and no canary string or leak
  marker reaches the gradebook, the feedback or the command's output;
* no process of the grading user survives the command;
* the grader never crashes: exit code 0 or 1, a gradebook with a row for every learner, no traceback.

Who grades. Run as root, the tests grade as an unprivileged user, the usual instructor: :data:`USER`
(created here or by ``.ci/run`` when missing) or, while another run (another xdist worker, another
session) grades as that user, one of ``USER-1``, ``USER-2``, ... (created here), so that each run
watches a user of its own. Run as anyone else, they grade as that user; its files in /tmp, /dev/shm
and SysV shared memory then cannot be told from those of other work, and only the processes whose
command line names the run's install count as the run's, as when root grades. The
instructor's install is a venv of its own, owned by the grading user, with a copy of this checkout's
quizkit package and the test environment's dependencies on its path (a ``.pth`` line), so that
attacks on "the instructor's venv" hit that venv and never the developer's. Its console script is
the one installing the package writes (``quizkit.console:run``).

Where. The scenes of an install are built one after another in one folder, and each starts with
quizkit's home as a first grading of the honest class there left it (grading key, built lesson,
grading plans), as an instructor's home is after a first run: the attack's run skips rebuilding
them. The baselines are graded elsewhere with an empty home, so cached and freshly built plans must
give the same honest rows.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]
ATTACKS = Path(__file__).resolve().parent
ATTACK_FILES = ATTACKS / "files"
LEARNERS = ROOT / "tests" / "learners"

USER = "quizkit-attacker"
SPARE_USERS = 4  # quizkit-attacker-1, ...: for runs beside one that grades as USER (see _claim_user)
LESSON = "lesson3"
JOBS = 2
GRADE_TIMEOUT = 60  # seconds; an honest class takes a few. A hung grader is killed and reported.
SURVIVOR_GRACE = 5.0  # seconds for processes being killed as the command ends to disappear
SECRET_ENV = "QUIZKIT_ATTACK_SECRET"
SSH_KEY_LINE = "-----BEGIN OPENSSH PRIVATE KEY-----"
LEAK = "LEAKED-BY-ATTACK"  # attack files put this in their output only when an attack succeeded
ATTACKER = "mallory"
DIGEST_LIMIT = 16 << 20  # larger files (a sparse 1 GiB attack file) are compared by size and mtime
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # cells a spreadsheet may run as a formula
# Seconds an attack that works on its classmates keeps at it (signals, loopback TCP). The honest
# class is graded in about a tenth of that once the attacker starts, the grader and its servers run
# all along, and the window is what every such test waits for, since nothing reaches them.
WINDOW = 0.8

Row = dict[str, str]  # a gradebook row: column name -> cell
Baseline = Callable[[tuple[str, ...]], dict[str, Row]]  # extra grade options -> honest rows

# Honest classmates, from tests/learners: right and partly right files. The attacker's name sorts
# between theirs, so that some are graded before it, some beside it and some after it.
HONEST: dict[str, dict[str, str]] = {
    "alice": {"sign_gradient": "ok_np_sign", "clamp_to_zero": "ok_where_product", "soft_threshold": "ok_where"},
    "bob": {
        "sign_gradient": "bad_wrong_sign",
        "clamp_to_zero": "ok_copy_and_mask",
        "soft_threshold": "bad_half_threshold",
    },
    "nina": {"sign_gradient": "ok_where", "clamp_to_zero": "bad_no_clamp", "soft_threshold": "ok_clip"},
    "zoe": {
        "sign_gradient": "ok_copysign_masked",
        "clamp_to_zero": "ok_sign_product",
        "soft_threshold": "bad_in_place",
    },
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is an attack test, and slow (real grading runs).

    The hook is given every test of the session: each file is looked at once, not each test.
    """
    here = {path: ATTACKS in path.resolve().parents for path in {item.path for item in items}}
    for item in items:
        if here[item.path]:
            item.add_marker(pytest.mark.attacks)
            item.add_marker(pytest.mark.slow)


# ---------------------------------------------------------------------------------------------
# Who grades, and with which install
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradingUser:
    """The user the grade command runs as, and the command prefix that switches to it."""

    name: str
    uid: int
    gid: int
    prefix: tuple[str, ...]  # empty when the tests already run as this user

    def run(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.prefix, *argv], capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]

    def chown(self, path: Path) -> None:
        """Give ``path`` and everything below it to the grading user (symlinks themselves, not targets)."""
        if not self.prefix:
            return
        for parent, dirs, files in os.walk(path):
            os.lchown(parent, self.uid, self.gid)
            for name in dirs + files:
                os.lchown(os.path.join(parent, name), self.uid, self.gid)


def _ensure_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    created = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", name],
        capture_output=True, text=True,
    )  # fmt: skip
    if created.returncode != 0:
        return None
    return pwd.getpwnam(name)


def _claim_user() -> tuple[pwd.struct_passwd, IO[bytes]] | None:
    """A grading user that no other run uses now, and the lock that keeps it ours; None if none.

    The checks watch everything the grading user does on the whole machine, so two runs (two
    workers of one session, or two sessions) must never grade as the same user at once: each takes
    the first of :data:`USER`, ``USER-1``, ... whose lock (a file in the temporary folder) is free
    and that runs no process (a run that predates these locks), creating the user when missing.
    """
    for name in [USER, *(f"{USER}-{number}" for number in range(1, SPARE_USERS + 1))]:
        lock = open(Path(tempfile.gettempdir()) / f"{name}.attack-tests.lock", "ab")  # noqa: SIM115 (held for the session)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        entry = _ensure_user(name)
        if entry is not None and not any(entry.pw_uid in process.uids for process in _processes().values()):
            return entry, lock
        lock.close()
    return None


@pytest.fixture(scope="session")
def grading_user() -> Iterator[GradingUser]:
    """The unprivileged instructor: a user of its own (see :func:`_claim_user`) when the tests run as
    root, else the current user."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        yield GradingUser(me.pw_name, me.pw_uid, me.pw_gid, ())
        return
    if shutil.which("setpriv") is None:
        pytest.skip("the attack tests need setpriv (util-linux) to grade as an unprivileged user")
    claimed = _claim_user()
    if claimed is None:
        pytest.skip(
            f"the attack tests grade as {USER} or one of {SPARE_USERS} spares: none is free or could be created"
        )
    entry, lock = claimed
    prefix = ("setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups", "--")
    with lock:
        yield GradingUser(entry.pw_name, entry.pw_uid, entry.pw_gid, prefix)


@dataclass(frozen=True)
class Install:
    """The instructor's quizkit install: a venv owned by the grading user."""

    base: Path  # everything of this test session lives below it
    venv: Path
    site: Path  # the venv's site-packages
    package: Path  # site/quizkit
    quizkit: Path  # the console script
    pristine: dict[str, tuple[object, ...]]  # the venv's state after installation

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def _interpreter_for(user: GradingUser) -> str:
    """A Python of this version that the grading user can run (pyenv under /root is not one)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [getattr(sys, "_base_executable", sys.executable), sys.executable]
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    candidates += [found for found in [shutil.which(f"python{version}")] if found]
    check = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in candidates:
        # Through a shell: setpriv itself may still open a path the user cannot (it switches the
        # user just before it runs the command), and quizkit, run as that user, starts its fork
        # servers with this very interpreter.
        probe = user.run(["/bin/sh", "-c", 'exec "$0" -c "$1"', candidate, check])
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    pytest.fail(f"no Python {version} that {user.name} can run (tried {', '.join(candidates)})")


def _install_tree(install_site: Path) -> dict[str, tuple[object, ...]]:
    """The venv's site-packages listing and the full state of the quizkit package in it."""
    state: dict[str, tuple[object, ...]] = {f"site-packages/{name}": ("entry",) for name in os.listdir(install_site)}
    state.update(_tree(install_site / "quizkit", "quizkit"))
    return state


def _copy_package(site: Path) -> None:
    shutil.rmtree(site / "quizkit", ignore_errors=True)
    shutil.copytree(ROOT / "quizkit", site / "quizkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _make_install(user: GradingUser) -> Install:
    """A venv owned by ``user`` with quizkit installed, its bytecode compiled as that user."""
    base = Path(tempfile.mkdtemp(prefix="quizkit-attacks-"))
    os.chmod(base, 0o755)
    venv = base / "venv"
    python = _interpreter_for(user)
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    site = Path(purelib)
    _copy_package(site)
    dependencies = dict.fromkeys(
        [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
        + [path for path in sys.path if Path(path).name in ("site-packages", "dist-packages")]
    )  # where this test run finds numpy, click, sympy...; the quizkit copy above comes first
    (site / "quizkit-test-dependencies.pth").write_text("".join(f"{path}\n" for path in dependencies))
    script = venv / "bin" / "quizkit"
    # What installing the package writes for its console script (pyproject.toml: quizkit.console:run).
    script.write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom quizkit.console import run\nsys.exit(run())\n")
    script.chmod(0o755)
    user.chown(base)
    compiled = user.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", str(site / "quizkit")])
    works = user.run([str(script), "--help"], env={"PATH": "/usr/bin:/bin", "HOME": str(base)})
    # What grading imports; SymPy (a second of importing) only has to be found.
    check = "import numpy, yaml, click, importlib.util; assert importlib.util.find_spec('sympy')"
    imports = user.run([str(venv / "bin" / "python"), "-c", check])
    if compiled.returncode or works.returncode or imports.returncode:
        _remove(base)
        pytest.fail(
            f"{user.name} cannot run quizkit from {venv}; the test environment's packages "
            f"({', '.join(dependencies)}) must be readable by that user:\n{works.stderr}{imports.stderr}"
        )
    return Install(base, venv, site, site / "quizkit", script, _install_tree(site))


@pytest.fixture(scope="session")
def install(grading_user: GradingUser) -> Iterator[Install]:
    """The grading user's install, for the whole session."""
    made = _make_install(grading_user)
    yield made
    _remove(made.base)


ROOT_USER = GradingUser("root", 0, 0, ())


@pytest.fixture(scope="session")
def root_install() -> Iterator[Install]:
    """An install owned by root, for the attacks on an instructor who grades as root."""
    if os.geteuid() != 0:
        pytest.skip("grading as root needs the tests to run as root")
    made = _make_install(ROOT_USER)
    yield made
    _remove(made.base)


def _restore_install(install: Install, user: GradingUser) -> None:
    """Undo whatever an attack planted in the venv, so that the next test starts from a clean install."""
    if _install_tree(install.site) == install.pristine:
        return
    for name in os.listdir(install.site):
        if f"site-packages/{name}" not in install.pristine:
            _remove(install.site / name)
    _copy_package(install.site)
    user.chown(install.site)
    user.run([str(install.python), "-m", "compileall", "-q", str(install.package)])
    install.pristine.clear()  # the same files, with new modification times
    install.pristine.update(_install_tree(install.site))


def _remove(path: Path) -> None:
    """Remove a tree of any depth and any permissions (``rm`` walks deep trees without recursion)."""
    if os.path.lexists(path):
        subprocess.run(["chmod", "-R", "u+rwX", str(path)], capture_output=True)
        subprocess.run(["rm", "-rf", "--", str(path)], capture_output=True)


# ---------------------------------------------------------------------------------------------
# What must not change
# ---------------------------------------------------------------------------------------------


def _tree(root: Path, label: str) -> dict[str, tuple[object, ...]]:
    """Every entry below ``root`` (not following symlinks): kind, mode, size, mtime, content digest."""
    state: dict[str, tuple[object, ...]] = {}
    if not os.path.lexists(root):
        return state
    for parent, dirs, files in os.walk(root, followlinks=False):
        for name in ["", *dirs, *files]:
            path = os.path.join(parent, name) if name else parent
            info = os.lstat(path)
            key = f"{label}/{os.path.relpath(path, root)}"
            if stat.S_ISLNK(info.st_mode):
                state[key] = ("symlink", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                state[key] = ("dir", stat.S_IMODE(info.st_mode))
            elif stat.S_ISREG(info.st_mode):
                digest = _digest(path) if info.st_size <= DIGEST_LIMIT else "large: size and mtime only"
                state[key] = ("file", stat.S_IMODE(info.st_mode), info.st_size, info.st_mtime_ns, digest)
            else:
                state[key] = ("special", info.st_mode)
    return state


def _digest(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return "unreadable"


def _owned_entries(folder: str, uids: set[int], exclude: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    entries = set()
    for entry in os.scandir(folder):
        try:
            owner = entry.stat(follow_symlinks=False).st_uid
        except OSError:
            continue
        if owner in uids and entry.path not in exclude:
            entries.add(entry.path)
    return entries


def _sysv_segments(uids: set[int]) -> set[str]:
    """SysV shared memory segments (ids) created by or owned by the grading user."""
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return set()
    found = set()
    for line in lines:
        fields = line.split()  # key shmid perms size cpid lpid nattch uid gid cuid cgid ...
        if int(fields[7]) in uids or int(fields[9]) in uids:
            found.add(fields[1])
    return found


@dataclass(frozen=True)
class Process:
    pid: int
    start: int
    uids: frozenset[int]
    state: str
    command: str


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name: state, parent, ..., start time at [19]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _running() -> Iterator[tuple[tuple[int, int], list[str]]]:
    """Every process of the machine: its key (pid and start time) and its stat fields."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = _stat(name)
            except OSError:  # it ended while we looked
                continue
            yield (int(name), int(fields[19])), fields


def _process_keys() -> set[tuple[int, int]]:
    """The keys of every process of the machine."""
    return {key for key, _fields in _running()}


def _processes(known: AbstractSet[tuple[int, int]] = frozenset()) -> dict[tuple[int, int], Process]:
    """Every process of the machine but those in ``known``, with its users and command line."""
    found = {}
    for key, fields in _running():
        if key in known:
            continue
        try:
            status = Path(f"/proc/{key[0]}/status").read_text()
            command = Path(f"/proc/{key[0]}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        uids = frozenset(int(u) for u in uid_line.split()[1:])
        found[key] = Process(key[0], key[1], uids, fields[0], command.strip())
    return found


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 0:
        pids.add(pid)
        try:
            pid = int(_stat(pid)[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


@dataclass
class Snapshot:
    """What the grading run must leave as it found it."""

    files: dict[str, tuple[object, ...]]
    shm: set[str]
    tmp: set[str]
    sysv: set[str]

    def changes(self, later: Snapshot) -> list[str]:
        problems = []
        for key in sorted(self.files.keys() | later.files.keys()):
            before, after = self.files.get(key), later.files.get(key)
            if before != after:
                what = "appeared" if before is None else "disappeared" if after is None else "changed"
                problems.append(f"{key} {what}")
        for label, old, new in (("/dev/shm", self.shm, later.shm), ("/tmp", self.tmp, later.tmp)):
            problems += [f"{path} appeared in {label}" for path in sorted(new - old)]
        problems += [f"SysV shared memory segment {shmid} outlived the job" for shmid in sorted(later.sysv - self.sysv)]
        return problems


# ---------------------------------------------------------------------------------------------
# The scene: an instructor's home, a course, a class
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One invocation of ``quizkit grade``."""

    argv: list[str]
    returncode: int | None  # None: it did not finish within GRADE_TIMEOUT and was killed
    stdout: str
    stderr: str
    rows: dict[str, Row] | None  # gradebook rows by learner; None without a gradebook
    header: list[str] = field(default_factory=list)
    survivors: list[Process] = field(default_factory=list)


def _scene_root(install: Install) -> Path:
    """Where every attack scene of an install is built, one after another.

    Always the same folder, so that the course copy is always at the same path: quizkit's caches
    of the built lesson and of the grading plans are keyed by where the lesson was loaded from, and
    each scene starts with quizkit's home as the warm-up left it (see :func:`_warm_up`).
    """
    return install.base / "scene"


def _warm_home(install: Install) -> Path:
    """The quizkit home (grading key and caches) that every scene of an install starts from."""
    return install.base / "quizkit-home"


class Classroom:
    """One grading scene, owned by the grading user; see the module docstring.

    ``root`` is where it is built (default: a new temporary folder), ``home`` the quizkit home it
    starts from (copied; default: none, so the run makes its key and caches).
    """

    def __init__(
        self, install: Install, user: GradingUser, name: str, root: Path | None = None, home: Path | None = None
    ) -> None:
        self.install = install
        self.user = user
        if root is None:
            root = Path(tempfile.mkdtemp(prefix=f"{name[:40]}-", dir=install.base))
        else:
            _remove(root)
            root.mkdir()
        self.root = root
        os.chmod(self.root, 0o755)
        self.canary = f"CANARY-{secrets.token_hex(12)}"
        self.home = self.root / "home"
        # quizkit's own state (the grading key) is the grader's to write: kept out of the canary
        # tree, but its secrets must not reach any output either (see Attack.problems).
        self.app_home = self.root / "quizkit-home"
        self.course = self.root / "course"
        self.dir = self.root / "class"
        self.out = self.root / "out" / "grades.csv"
        self.learners: set[str] = set()
        self._plant_home()
        for part in ("exercises", "solutions"):
            shutil.copytree(ROOT / part, self.course / part, ignore=shutil.ignore_patterns("__pycache__"))
        self.dir.mkdir()
        self.out.parent.mkdir()
        if home is not None:
            shutil.copytree(home, self.app_home)
        for learner, files in HONEST.items():
            for exercise, stem in files.items():
                self.add_file(learner, exercise, (LEARNERS / exercise / f"{stem}.py").read_text())

    def _plant_home(self) -> None:
        """Canaries an attacker would want: an ssh key, an old 0600 gradebook, a shell profile."""
        ssh = self.home / ".ssh"
        ssh.mkdir(parents=True)
        key = ssh / "id_ed25519"
        key.write_text(f"{SSH_KEY_LINE}\n{self.canary}\n-----END OPENSSH PRIVATE KEY-----\n")
        key.chmod(0o600)
        ssh.chmod(0o700)
        teaching = self.home / "teaching"
        teaching.mkdir()
        old = teaching / "lesson2-grades.csv"
        old.write_text(f"learner,total\n{self.canary},6\n")
        old.chmod(0o600)
        (self.home / ".bashrc").write_text("export EDITOR=vi\n")
        self.home.chmod(0o700)

    # --- building the class -------------------------------------------------------------------

    def add_file(self, learner: str, exercise: str, text: str) -> Path:
        path = self.dir / learner / f"{exercise}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        self.learners.add(learner)
        return path

    def attack(self, exercise: str, attack: str, learner: str = ATTACKER, **values: str) -> Path:
        """Hand in ``files/<attack>.py`` as ``learner``'s file for ``exercise``, its placeholders filled in.

        ``values`` fill the file's own placeholders: ``SOURCE="..."`` replaces ``__SOURCE__``.
        """
        text = (ATTACK_FILES / f"{attack}.py").read_text()
        return self.add_file(learner, exercise, self.render(text, values))

    def render(self, text: str, extra: dict[str, str] | None = None) -> str:
        values = {f"__{key}__": value for key, value in (extra or {}).items()}
        values |= {
            "__COURSE__": str(self.course),
            "__CLASS__": str(self.dir),
            "__OUT__": str(self.out),
            "__HOME__": str(self.home),
            "__SITE__": str(self.install.site),
            "__QUIZKIT__": str(self.install.package),
            "__MARK__": str(self.install.base),  # in the command line of every process of the run
            "__LEAK__": LEAK,
            "__WINDOW__": repr(WINDOW),
            "__SECRET_ENV__": SECRET_ENV,
        }
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    # --- running -------------------------------------------------------------------------------

    @property
    def watched_uids(self) -> set[int]:
        """Whose files in /tmp, /dev/shm and SysV shared memory count as the run's.

        Only a grading user of the run's own (see :func:`_claim_user`): grading as root, learner code
        runs as nobody, and grading as the user who runs the tests, learner code runs as that user;
        either way other work on the machine (the other tests of the session among it) runs as the
        same users, so those entries cannot be told apart. Processes are then told apart by command
        line instead (see :meth:`_new_processes`).
        """
        return {self.user.uid} if self.user.prefix else set()

    def snapshot(self) -> Snapshot:
        files = {}
        files.update(_tree(self.home, "home"))
        files.update(_tree(self.course, "course"))
        files.update(_tree(self.dir, "class"))
        files.update(_install_tree(self.install.site))
        uids = self.watched_uids
        return Snapshot(
            files=files,
            shm=_owned_entries("/dev/shm", uids),
            tmp=_owned_entries("/tmp", uids, exclude={str(self.install.base)}),
            sysv=_sysv_segments(uids),
        )

    def environment(self) -> dict[str, str]:
        return {
            "PATH": f"{self.install.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "QUIZKIT_HOME": str(self.app_home),
            SECRET_ENV: self.canary,
        }

    def grade(self, *extra: str, memory_cap: int | None = None) -> Run:
        """Run ``quizkit grade`` on the class as the grading user; kill it if it hangs."""
        self.user.chown(self.root)
        argv = [
            str(self.install.quizkit), "grade", str(self.dir), "--lesson", LESSON, "--out", str(self.out),
            "--course", str(self.course), "--jobs", str(JOBS), *extra,
        ]  # fmt: skip
        before = _process_keys()

        def limit_memory() -> None:
            if memory_cap is not None:
                import resource

                resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))

        process = subprocess.Popen(
            [*self.user.prefix, *argv],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.environment(), cwd=self.root, start_new_session=True, preexec_fn=limit_memory,
        )  # fmt: skip
        try:
            stdout, stderr = process.communicate(timeout=GRADE_TIMEOUT)
            returncode: int | None = process.returncode
        except subprocess.TimeoutExpired:
            self._kill_new(before)
            stdout, stderr = process.communicate()
            returncode = None
        survivors = self._survivors(before)
        self._kill_new(before)
        rows, header = self.gradebook()
        return Run(argv, returncode, stdout, stderr, rows, header, survivors)

    def gradebook(self) -> tuple[dict[str, Row] | None, list[str]]:
        try:
            with open(self.out, newline="", encoding="utf-8") as handle:
                table = list(csv.reader(handle))
        except OSError:
            return None, []
        if not table:
            return {}, []
        header = table[0]
        return {cells[0]: dict(zip(header[1:], cells[1:], strict=False)) for cells in table[1:] if cells}, header

    def _new_processes(self, before: set[tuple[int, int]]) -> list[Process]:
        mine = _ancestors()
        return [
            process
            for process in _processes(before).values()
            if process.pid not in mine
            and process.state != "Z"
            and (process.uids & self.watched_uids if self.user.prefix else str(self.install.base) in process.command)
        ]

    def _survivors(self, before: set[tuple[int, int]]) -> list[Process]:
        deadline = time.monotonic() + SURVIVOR_GRACE
        while (left := self._new_processes(before)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return left

    def _kill_new(self, before: set[tuple[int, int]]) -> None:
        """Kill the processes the run left, stopped ones too.

        All new processes of a dedicated grading user; when the tests grade as the user running them,
        only those whose command line names this session's install (never the developer's others).
        """
        for process in self._new_processes(before):
            if self.user.prefix or str(self.install.base) in process.command:
                for sig in (signal.SIGKILL, signal.SIGCONT):
                    with contextlib.suppress(OSError):
                        os.kill(process.pid, sig)

    def app_secrets(self) -> list[str]:
        """What quizkit keeps in its own home (the grading key), as text that must not leak."""
        found = []
        for parent, _dirs, files in os.walk(self.app_home):
            for name in files:
                data = Path(parent, name).read_bytes()
                text = data.strip().decode("utf-8", errors="replace")
                if len(text) >= 16:  # a key, not a flag
                    found += [text, data.hex()]
        return found

    def out_texts(self) -> str:
        """Everything the run wrote next to the gradebook (gradebook, state, feedback)."""
        texts = []
        for parent, _dirs, files in os.walk(self.out.parent):
            for name in files:
                with contextlib.suppress(OSError):
                    texts.append(Path(parent, name).read_text(encoding="utf-8", errors="replace"))
        return "\n".join(texts)

    def clean_up(self, snapshot: Snapshot) -> None:
        """Remove what an attack left outside the scene, so that the next test starts clean."""
        uids = self.watched_uids
        for path in (_owned_entries("/dev/shm", uids) - snapshot.shm) | (
            _owned_entries("/tmp", uids, exclude={str(self.install.base)}) - snapshot.tmp
        ):
            _remove(Path(path))
        for shmid in _sysv_segments(uids) - snapshot.sysv:
            subprocess.run(["ipcrm", "-m", shmid], capture_output=True)
        _restore_install(self.install, self.user)
        _remove(self.root)


# ---------------------------------------------------------------------------------------------
# Checking an attack
# ---------------------------------------------------------------------------------------------


def crash_problems(run: Run, learners: set[str]) -> list[str]:
    """Ways in which the grader crashed, hung or lost a learner."""
    problems = []
    if run.returncode is None:
        problems.append(f"the grader hung (killed after {GRADE_TIMEOUT} s)")
    elif run.returncode not in (0, 1):
        said = run.stderr.strip().splitlines()[-1:] or ["nothing on stderr"]
        problems.append(f"the grader exited with {run.returncode}: {said[0][:300]}")
    if "Traceback" in run.stderr:
        problems.append("a traceback on stderr: " + run.stderr.strip().splitlines()[-1][:300])
    # A grader error is quizkit failing, never the learner's doing: no attack may cause one, and a
    # scene whose honest class meets them grades nothing (its attacks would prove nothing).
    problems += [f"a grader error: {line[:300]}" for line in run.stderr.splitlines() if "grader error" in line][:3]
    if run.rows is None:
        problems.append("no gradebook was written")
    else:
        problems += [
            f"{learner!r} has no row in the gradebook" for learner in sorted(learners) if row(run, learner) is None
        ]
        problems += [f"a gradebook cell a spreadsheet would run as a formula: {cell!r}" for cell in _formulas(run)]
    return problems


def row(run: Run, learner: str) -> Row | None:
    """The learner's gradebook row; a name may be neutralised with a leading apostrophe or space."""
    if run.rows is None:
        return None
    return next((cells for name, cells in run.rows.items() if name.lstrip("' ") == learner), None)


def _formulas(run: Run) -> list[str]:
    cells = [*run.header, *(run.rows or {}), *(cell for cells in (run.rows or {}).values() for cell in cells.values())]
    return [cell for cell in cells if cell[:1] in FORMULA_STARTS]


def total(run: Run, learner: str) -> float | None:
    """The learner's total points (an empty cell counts as 0), or None without a row."""
    cells = row(run, learner)
    if cells is None:
        return None
    try:
        return float(cells.get("total") or 0)
    except ValueError:
        return None


@dataclass(repr=False)
class Attack:
    """One attack against a fresh class, checked against a run of the same class without it."""

    classroom: Classroom
    baseline: Baseline
    attackers: dict[str, float] = field(default_factory=lambda: {ATTACKER: 0.0})
    runs: list[Run] = field(default_factory=list)
    before: Snapshot | None = None  # taken just before the first run, once the class is complete

    attacker: str = ATTACKER

    def file(self, exercise: str, attack: str, learner: str = ATTACKER, **values: str) -> Path:
        """Hand in the attack file ``files/<attack>.py`` (see :meth:`Classroom.attack`)."""
        return self.classroom.attack(exercise, attack, learner, **values)

    def grade(self, *extra: str, memory_cap: int | None = None) -> Run:
        if self.before is None:
            self.before = self.classroom.snapshot()
        run = self.classroom.grade(*extra, memory_cap=memory_cap)
        self.runs.append(run)
        return run

    def problems(self, run: Run, *extra: str) -> list[str]:
        """Everything the attack achieved in ``run`` (the last run of the scene)."""
        room = self.classroom
        problems = crash_problems(run, room.learners)
        if run.rows is not None:
            expected = self.baseline(extra)
            for learner, cells in sorted(expected.items()):
                got = run.rows.get(learner)
                if got is not None and got != cells:
                    problems.append(f"honest {learner}'s row changed: {cells} -> {got}")
            for learner, earned in self.attackers.items():
                score = total(run, learner)
                if score is not None and score > earned:
                    problems.append(f"attacker {learner} scored {score:g}, earned {earned:g}")
        seen = "\n".join([room.out_texts(), *(r.stdout + r.stderr for r in self.runs)])
        secrets_ = [(LEAK, "the attack reported success"), (room.canary, "a canary secret leaked")]
        secrets_ += [(SSH_KEY_LINE, "the ssh key leaked")]
        secrets_ += [(secret, "quizkit's own secret leaked") for secret in room.app_secrets()]
        for secret, what in secrets_:
            at = seen.find(secret)
            if at >= 0:
                problems.append(f"{what}: ...{seen[max(0, at - 60) : at + 240]!r}...")
        assert self.before is not None, "problems() is for a scene that was graded"
        problems += self.before.changes(room.snapshot())
        for run_ in self.runs:
            problems += [f"process {p.pid} survived: {p.command[:200]}" for p in run_.survivors]
        return problems

    def check(self, *extra: str, memory_cap: int | None = None) -> Run:
        """Grade once and assert that the attack achieved nothing."""
        run = self.grade(*extra, memory_cap=memory_cap)
        self.assert_contained(self.problems(run, *extra))
        return run

    @staticmethod
    def assert_contained(problems: list[str]) -> None:
        assert not problems, "the attack got through:\n  " + "\n  ".join(dict.fromkeys(problems))


def _grade_honest_class(room: Classroom, extra: tuple[str, ...]) -> dict[str, Row]:
    """The gradebook rows of ``room``'s honest class alone, asserting that it grades cleanly."""
    run = room.grade(*extra)
    problems = crash_problems(run, room.learners)
    assert not problems, f"the honest class alone does not grade cleanly: {problems}\n{run.stderr}"
    assert run.rows is not None
    return run.rows


def _warm_up(install: Install, user: GradingUser) -> dict[str, Row]:
    """Grade the honest class once where the scenes are built, and keep quizkit's home as it is then.

    Every scene starts from a copy of that home (:func:`_warm_home`): the grading key, the built
    lesson and the grading plans, as an instructor's home holds them after a first run, so that each
    attack's run skips building them. The rows are the baseline without extra options; every later
    baseline is graded in a new folder with a new home (nothing cached), and an attack's honest rows
    must equal them.
    """
    room = Classroom(install, user, "warm-up", _scene_root(install))
    try:
        rows = _grade_honest_class(room, ())
        _remove(_warm_home(install))
        shutil.copytree(room.app_home, _warm_home(install))
    finally:
        _remove(room.root)
    return rows


def _baselines(install: Install, user: GradingUser) -> Baseline:
    """Gradebook rows of the honest class alone, per extra option list (graded once per session)."""
    cache: dict[tuple[str, ...], dict[str, Row]] = {(): _warm_up(install, user)}

    def rows(extra: tuple[str, ...]) -> dict[str, Row]:
        if extra not in cache:
            room = Classroom(install, user, "baseline")
            try:
                cache[extra] = _grade_honest_class(room, extra)
            finally:
                _remove(room.root)
        return cache[extra]

    return rows


@pytest.fixture(scope="session")
def baselines(install: Install, grading_user: GradingUser) -> Baseline:
    return _baselines(install, grading_user)


@pytest.fixture(scope="session")
def root_baselines(root_install: Install) -> Baseline:
    return _baselines(root_install, ROOT_USER)


def _scene(install: Install, user: GradingUser, baseline: Baseline, name: str) -> Iterator[Attack]:
    room = Classroom(install, user, name, _scene_root(install), _warm_home(install))
    scene = Attack(room, baseline)
    yield scene
    room.clean_up(scene.before or room.snapshot())


@pytest.fixture
def attack(
    install: Install, grading_user: GradingUser, baselines: Baseline, request: pytest.FixtureRequest
) -> Iterator[Attack]:
    """A fresh class with honest classmates, graded by the unprivileged instructor; the test plants
    its attack and calls ``check()``."""
    yield from _scene(install, grading_user, baselines, request.node.name)


@pytest.fixture
def attack_as_root(root_install: Install, root_baselines: Baseline, request: pytest.FixtureRequest) -> Iterator[Attack]:
    """The same, graded by root (only when the tests run as root)."""
    yield from _scene(root_install, ROOT_USER, root_baselines, request.node.name)

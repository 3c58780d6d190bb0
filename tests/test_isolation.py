"""OS isolation of learner code: each layer alone and together keeps the child inside its job.

Real fork servers and real children: these are the isolation's specification. The attack suite in
tests/attacks/ checks the same through ``quizkit grade`` with a class around the attacker.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from quizkit import isolation
from quizkit.cli import main
from quizkit.sandbox import IsolationUnavailable, Job, Limits, RunStatus, Source, SubprocessRunner

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/ns/user"), reason="OS isolation needs Linux namespaces support"
)

LAYERS = {
    "namespaces and Landlock": {},
    "namespaces only": {"landlock": False},
    "Landlock only": {"namespaces": False},
}


def available(layers: dict[str, bool]) -> bool:
    namespaces = layers.get("namespaces", True) and isolation.bwrap_path() is not None
    landlock = layers.get("landlock", True) and isolation.landlock_abi() > 0
    return namespaces or landlock


def run(source: str, runner: SubprocessRunner, limits: Limits = Limits()) -> tuple[str, object]:
    job = Job(Source("probe.py", textwrap.dedent(source).encode()), "probe", [(np.zeros(2),)], limits)
    result = runner.run(job)
    assert result.status is RunStatus.OK, result.message
    return result.output, result


@pytest.fixture(params=list(LAYERS), scope="module")
def confined(request):
    layers = LAYERS[request.param]
    if not available(layers):
        pytest.skip(f"{request.param}: not available on this machine")
    with SubprocessRunner(isolation="required", **layers) as runner:
        active = runner.check_isolation()
        if request.param != "Landlock only" and not active.namespaces:
            pytest.skip(f"bubblewrap cannot create namespaces here: {runner.namespaces_problem}")
        yield runner


def test_learner_code_cannot_read_the_course_or_the_home_folder(confined, tmp_path):
    secret = Path(__file__).resolve().parent.parent / "solutions" / "lesson3" / "soft_threshold.py"
    output, _ = run(
        f"""
        import os
        def probe(w):
            for path in [{str(secret)!r}, {os.path.expanduser("~/.bashrc")!r}, {str(tmp_path)!r}, "/etc/passwd"]:
                try:
                    open(path, "rb").read(1) if not os.path.isdir(path) else os.listdir(path)
                    print("READ", path)
                except OSError:
                    pass
            return w
        """,
        confined,
    )
    assert "READ" not in output


def test_learner_code_cannot_reach_a_tcp_port_of_this_machine(confined):
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        output, _ = run(
            f"""
            import socket
            def probe(w):
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=0.5)
                    print("CONNECTED")
                except OSError:
                    pass
                return w
            """,
            confined,
        )
    assert "CONNECTED" not in output


def test_with_landlock_learner_code_cannot_even_bind_a_tcp_port(confined):
    if not confined.layers().landlock >= 4:
        pytest.skip("TCP rules need Landlock ABI 4")
    output, _ = run(
        """
        import socket
        def probe(w):
            try:
                socket.socket().bind(("127.0.0.1", 0))
                print("BOUND")
            except OSError:
                pass
            return w
        """,
        confined,
    )
    assert "BOUND" not in output


def test_learner_code_cannot_signal_the_grader(confined):
    output, _ = run(
        f"""
        import os
        def probe(w):
            try:
                os.kill({os.getpid()}, 0)
                print("SIGNAL")
            except OSError:
                pass
            return w
        """,
        confined,
    )
    assert "SIGNAL" not in output


def test_learner_code_cannot_signal_its_fork_server_where_landlock_scopes_signals(confined):
    layers = confined.layers()
    if layers.landlock < 6 and not layers.privileges.startswith("children run as uid"):
        pytest.skip("same uid, no signal scoping: a child can only harm its own run (reported as a crash)")
    output, _ = run(
        """
        import os
        def probe(w):
            try:
                os.kill(os.getppid(), 0)
                print("SIGNAL")
            except OSError:
                pass
            return w
        """,
        confined,
    )
    assert "SIGNAL" not in output


def test_files_written_outside_the_job_folder_are_denied_or_gone_after_the_job(confined):
    run(
        """
        def probe(w):
            for path in ("/tmp/left-behind", "/dev/shm/left-behind"):
                try:
                    open(path, "w").write("x")
                except OSError:
                    pass
            return w
        """,
        confined,
    )
    output, _ = run(
        """
        import os
        def probe(w):
            print([os.path.exists(p) for p in ("/tmp/left-behind", "/dev/shm/left-behind")])
            return w
        """,
        confined,
    )
    assert output.strip() == "[False, False]"
    assert not os.path.exists("/dev/shm/left-behind")


def test_system_v_shared_memory_does_not_outlive_the_job(confined):
    if not confined.layers().namespaces:
        pytest.skip("System V IPC is private to the job only inside namespaces")
    created, _ = run(
        """
        import ctypes
        def probe(w):
            libc = ctypes.CDLL(None, use_errno=True)
            print(libc.shmget(0x5157, 4096, 0o1666))
            return w
        """,
        confined,
    )
    assert int(created) >= 0
    output, _ = run(
        """
        import ctypes
        def probe(w):
            libc = ctypes.CDLL(None, use_errno=True)
            print(libc.shmget(0x5157, 4096, 0o666))
            return w
        """,
        confined,
    )
    assert int(output) == -1


def test_nothing_a_job_writes_outlives_it(confined):
    first, _ = run(
        """
        import os
        def probe(w):
            os.makedirs("deep/" * 50, exist_ok=True)
            open("note.txt", "w").write("from the first job")
            print(os.getcwd())
            return w
        """,
        confined,
    )
    second, _ = run(
        f"""
        import os
        def probe(w):
            print(os.path.exists({first.strip()!r}))
            return w
        """,
        confined,
    )
    assert second.strip() == "False"


def test_a_deep_directory_tree_left_by_a_job_is_removed_without_harming_the_grader(confined):
    _, _ = run(
        """
        import os
        def probe(w):
            for _ in range(1_500):  # paths far past PATH_MAX (6,000 bytes), deeper than recursion allows
                os.mkdir("ddd")
                os.chdir("ddd")
            return w
        """,
        confined,
        Limits(wall_seconds=30, cpu_seconds=30),
    )
    _, _ = run("def probe(w):\n    return w\n", confined)  # the server survived the cleanup


def test_grading_refuses_without_any_isolation_layer():
    with (
        SubprocessRunner(isolation="required", namespaces=False, landlock=False) as runner,
        pytest.raises(IsolationUnavailable) as caught,
    ):
        runner.check_isolation()
    message = caught.value.format_message()
    assert "\n" not in message
    assert "--no-isolation" in message and "quizkit doctor" in message


def test_practice_runs_warn_once_when_no_layer_is_available():
    with SubprocessRunner(isolation="preferred", namespaces=False, landlock=False) as runner:
        runner.check_isolation()
        assert runner.warning is not None and "quizkit doctor" in runner.warning


def test_doctor_names_every_layer_and_says_grading_is_isolated():
    result = CliRunner().invoke(main, ["doctor"])

    assert "namespaces" in result.output and "Landlock" in result.output and "limits" in result.output
    if result.exit_code == 0:
        assert "'quizkit grade' runs learner code isolated." in result.output
    else:
        assert "refuses" in result.output or "could still" in result.output


def test_doctor_explains_a_machine_without_isolation(monkeypatch):
    monkeypatch.setattr(isolation, "bwrap_path", lambda: None)
    monkeypatch.setattr(isolation, "landlock_abi", lambda: 0)

    result = CliRunner().invoke(main, ["doctor"])

    assert result.exit_code == 1
    assert "off  namespaces: bubblewrap (bwrap) is not installed" in result.output
    assert "off  Landlock: this kernel does not support it" in result.output
    assert "refuses to run here unless given --no-isolation" in result.output


@pytest.mark.parametrize("ending", ["close", "kill"])
def test_without_namespaces_the_jobs_folder_is_removed_when_the_server_ends(tmp_path, monkeypatch, ending):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the server's TMPDIR is the grader's
    runner = SubprocessRunner(isolation="off")
    try:
        run("def probe(w):\n    return w\n", runner)
        assert list(tmp_path.glob("quizkit-jobs-*"))  # made while the server lives
        if ending == "kill":
            for server in runner._servers:
                server.kill()
    finally:
        runner.close()
    assert list(tmp_path.glob("quizkit-jobs-*")) == []


def test_a_server_runs_the_wire_modules_bytecode_only_while_it_matches_the_source(tmp_path: Path) -> None:
    import py_compile

    source = tmp_path / "wire.py"
    source.write_text("print('one')\n")
    assert isolation.current_bytecode(str(source)) is None  # nothing compiled yet
    compiled = py_compile.compile(str(source), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    assert isolation.current_bytecode(str(source)) == compiled
    source.write_text("print('one, changed')\n")  # another size: the bytecode is stale
    assert isolation.current_bytecode(str(source)) is None
    launch = isolation.launch(sys.executable, str(source), namespaces=False)
    assert launch.argv[-1] == str(source)  # the stale bytecode is not run

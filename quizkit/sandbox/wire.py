"""The learner's side of the sandbox: the wire format, the fork server and the per-job child.

:mod:`quizkit.sandbox` runs this file as a script (``python -I -S wire.py --serve ...``), so
the fork server imports only the standard library and numpy: nothing of quizkit, nothing of a course.
The parent imports the same file as ``quizkit.sandbox.wire`` for the wire format, so both sides
encode and decode with one piece of code. numpy is imported inside functions only, because the
parent imports this module before it needs numpy.

Wire format, one *frame*: a 4-byte big-endian length, that many bytes of a JSON object (the header,
whose ``payload`` key counts the bytes that follow), then the payload. Numbers travel as raw bytes whose dtype
and shape a header states, read with ``numpy.frombuffer``; pickle is never used.

Child to parent, on file descriptor :data:`RESULT_FD` (learner output goes to fds 1 and 2)::

    {"t": "loaded"}                                   the file was imported, the function found
    {"t": "call", "i", "type", "error", "note", "reshaped", "seconds", "array"} + array bytes or nothing

A returned array's dtype and shape travel in the header (``array``: ``{"dtype", "shape"}`` or null)
and its C-order bytes as the payload, read with ``numpy.frombuffer``. Scalar arguments travel to
the child as raw bytes too, their dtype in the job's header.

Array arguments do not travel in frames: the parent lays them out in one sealed memfd (see
:func:`layout_arguments`), which the child maps and hands to the function as writable arrays. After
the run the parent compares the memfd with what it wrote, so whether a call changed its inputs is
measured by the parent. The child adds only what the parent cannot see, an array argument given a
new shape or dtype in place (``reshaped``): a flag that can only turn a pass into a failure.
    {"t": "end", "status", "reason", "detail", "defined"}    last frame; status in CHILD_STATUSES

Parent to server, on a socketpair: ``job`` (with the two pipe write ends and the inputs memfd
attached as SCM_RIGHTS) and ``kill``; server to parent: ``ready``, ``started``, ``exited``, ``fatal``.
The server runs one job at a time; the parent may send the next job while one runs, and the server
starts it once the first has ended and been cleaned up (a ``kill`` for a job still queued means
it never starts: the server answers ``exited`` for it at once).
"""

from __future__ import annotations

import errno
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

RESULT_FD = 3
MAX_HEADER_BYTES = 1 << 18
MAX_VALUE_ELEMENTS = 10_000_000
MAX_VALUE_BYTES = 8 * MAX_VALUE_ELEMENTS
MAX_RESULT_PAYLOAD = MAX_VALUE_BYTES + 4096
MAX_REASON_CHARS = 2_000
MAX_DETAIL_CHARS = 20_000
MAX_TYPE_NAME_CHARS = 200
NUMERIC_KINDS = "biufc"

# Statuses the child itself can report in its "end" frame; the parent adds the ones only it can see.
CHILD_STATUSES = ("ok", "syntax_error", "import_error", "missing_function", "not_callable", "exited", "memory_limit")
IMPORT_STATUSES = frozenset({"syntax_error", "import_error", "missing_function", "not_callable"})

# Exit codes of a child whose runner could not finish; both mean "look at the result channel".
EXIT_CHANNEL_LOST = 86  # writing to RESULT_FD failed (closed or replaced by the learner's code)
EXIT_RUNNER_FAILED = 87  # the runner itself raised, e.g. because the learner patched what it uses

Header = dict[str, Any]
Emit = Callable[[Header, bytes], None]


class ProtocolError(Exception):
    """Bytes on a channel that do not follow the wire format."""


class ChannelLost(Exception):
    """The child could not write to its result channel (the learner's code closed or replaced it)."""


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------


def _new_json_encoder() -> Callable[[object], str]:
    """A private JSON encoder, so that patching ``json.dumps`` does not change what we send."""
    return json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


_encode_json = _new_json_encoder()


def encode_frame(header: Header, payload: bytes = b"", dumps: Callable[[object], str] = _encode_json) -> bytes:
    """One frame: length-prefixed JSON header (with ``payload`` set) followed by ``payload``."""
    text = dumps({**header, "payload": len(payload)}).encode("utf-8")
    # int.to_bytes rather than struct.pack: a method of a built-in type cannot be monkeypatched.
    return len(text).to_bytes(4, "big") + text + payload


def parse_header(raw: bytes, max_payload: int) -> Header:
    """Decode and check the JSON header of a frame; anything unexpected is a ProtocolError."""
    try:
        header = json.loads(raw.decode("utf-8"))  # text: json.loads would first guess the encoding of bytes
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ProtocolError(f"a frame header is not JSON ({type(exc).__name__})") from exc
    if type(header) is not dict:
        raise ProtocolError("a frame header is not a JSON object")
    kind = header.get("t")
    payload = header.get("payload")
    if type(kind) is not str:
        raise ProtocolError("a frame header has no type")
    if type(payload) is not int or not 0 <= payload <= max_payload:
        raise ProtocolError(f"a frame announces a payload of {payload!r} bytes")
    return header


class FrameReader:
    """Incremental, strict frame parser: feed it bytes as they arrive, get whole frames back."""

    def __init__(self, max_payload: int) -> None:
        self._buffer = bytearray()
        self._max_payload = max_payload
        self._header: Header | None = None

    @property
    def pending(self) -> bool:
        """True if a partial frame is buffered (a stream that ends here was cut short)."""
        return bool(self._buffer) or self._header is not None

    def feed(self, data: bytes) -> list[tuple[Header, bytes]]:
        """Add ``data`` and return every frame it completes; raises ProtocolError on malformed input."""
        buffer = self._buffer
        buffer += data
        frames: list[tuple[Header, bytes]] = []
        while True:
            if self._header is None:
                if len(buffer) < 4:
                    break
                size = int.from_bytes(buffer[:4], "big")
                if not 2 <= size <= MAX_HEADER_BYTES:
                    raise ProtocolError(f"a frame header claims {size} bytes")
                if len(buffer) < 4 + size:
                    break
                self._header = parse_header(bytes(buffer[4 : 4 + size]), self._max_payload)
                del buffer[: 4 + size]
            need = self._header["payload"]
            if len(buffer) < need:
                break
            frames.append((self._header, bytes(buffer[:need])))
            del buffer[:need]
            self._header = None
        return frames


# ---------------------------------------------------------------------------------------------
# Arrays and scalars as raw bytes
# ---------------------------------------------------------------------------------------------


def describe_array(array: Any) -> Header:
    """How a returned array travels: its dtype and shape in the frame header, its bytes as the payload.

    Taken from ndarray attributes (a built-in type's, which learner code cannot replace)."""
    return {"dtype": array.dtype.str, "shape": [int(n) for n in array.shape]}


def decode_result_array(description: object, payload: bytes, max_elements: int = MAX_VALUE_ELEMENTS) -> Any:
    """The numeric ndarray a ``call`` frame announces, checked before anything is allocated.

    ``numpy.frombuffer`` over the payload: no header to parse, no copy; the array is read-only.
    """
    import math

    import numpy as np

    if type(description) is not dict or description.keys() != {"dtype", "shape"}:
        raise ProtocolError("a malformed array description")
    dtype_text, shape = description["dtype"], description["shape"]
    dtype = _numeric_dtype(dtype_text)
    if dtype is None:
        raise ProtocolError(f"an array has dtype {str(dtype_text)[:20]!r}, which is not numeric")
    if type(shape) is not list or len(shape) > 64 or any(type(n) is not int or n < 0 for n in shape):
        raise ProtocolError("an array has a malformed shape")
    count = math.prod(shape)
    if count > max_elements:
        raise ProtocolError(f"an array has {count} elements, more than {max_elements}")
    if len(payload) != count * dtype.itemsize:
        raise ProtocolError("an array's data does not match its description")
    return np.frombuffer(payload, dtype=dtype).reshape(shape)


_NUMERIC_DTYPES: dict[str, Any] = {}  # dtype text -> numpy dtype, for the texts seen so far


def _numeric_dtype(text: object) -> Any:
    """The numpy dtype a frame names, if it is a plain numeric one (``<f8``, ``|b1``, ...); else None."""
    import numpy as np

    dtype = _NUMERIC_DTYPES.get(text) if type(text) is str else None
    if dtype is None and type(text) is str and re.fullmatch(r"[<>|=][biufc][0-9]{1,2}", text):
        try:
            dtype = np.dtype(text)
        except TypeError:  # e.g. "<f3": the right shape of text, but no such type
            return None
        if len(_NUMERIC_DTYPES) < 64:
            _NUMERIC_DTYPES[text] = dtype
    return dtype


def decode_scalar(kind: str, dtype_text: object, data: bytes) -> object:
    """A scalar argument from its raw bytes: a Python float/int/bool or a numpy scalar, as sent."""
    import numpy as np

    dtype = _numeric_dtype(dtype_text)
    if dtype is None:
        raise ProtocolError("a malformed scalar argument")
    if len(data) != dtype.itemsize:
        raise ProtocolError("a scalar argument's data does not match its dtype")
    value = np.frombuffer(data, dtype=dtype)[0]
    if kind == "scalar":
        return value
    if kind in ("float", "int", "bool"):
        return {"float": float, "int": int, "bool": bool}[kind](value)
    raise ProtocolError(f"unknown argument kind {kind!r}")


SHARED_ALIGNMENT = 64


@dataclass(frozen=True)
class ArgumentLayout:
    """A job's call arguments as sent: descriptors per call, inline scalar bytes, shared array bytes.

    A descriptor is ``[kind, dtype, size]`` for a scalar (its raw bytes follow in the payload) or
    ``["shared", dtype, shape, offset, size]`` for an array stored at ``offset`` of the shared bytes.
    """

    descriptors: list[list[list[Any]]]
    inline: bytes
    shared: bytes

    def modified(self, now: bytes | bytearray | memoryview) -> list[tuple[bool, ...]]:
        """Per call, per argument: whether ``now`` (the shared bytes after the run) differs from what was sent."""
        if now == self.shared:  # the usual case, in one comparison
            return [(False,) * len(call) for call in self.descriptors]
        flags = []
        for call in self.descriptors:
            row = []
            for descriptor in call:
                if descriptor[0] != "shared":
                    row.append(False)  # Python and numpy scalars are immutable
                    continue
                offset, size = descriptor[3], descriptor[4]
                row.append(bytes(now[offset : offset + size]) != self.shared[offset : offset + size])
            flags.append(tuple(row))
        return flags


def layout_arguments(calls: Sequence[Sequence[object]]) -> ArgumentLayout:
    """Lay out the arguments of every call (see :class:`ArgumentLayout`)."""
    descriptors: list[list[list[Any]]] = []
    inline: list[bytes] = []
    shared = bytearray()
    for call in calls:
        row: list[list[Any]] = []
        for value in call:
            kind, array = _argument_array(value)
            if kind == "array":
                shared += bytes(-len(shared) % SHARED_ALIGNMENT)
                data = array.tobytes(order="C")
                row.append(["shared", array.dtype.str, [int(n) for n in array.shape], len(shared), len(data)])
                shared += data
            else:
                data = array.tobytes()
                inline.append(data)
                row.append([kind, array.dtype.str, len(data)])
        descriptors.append(row)
    return ArgumentLayout(descriptors, b"".join(inline), bytes(shared))


def frozen_arguments(calls: Sequence[Sequence[object]]) -> bool:
    """Whether every array among ``calls`` is read-only, so that one layout of them stays true
    for as long as they live (and can serve every job that passes the same calls)."""
    import numpy as np

    return all(not isinstance(value, np.ndarray) or not value.flags.writeable for call in calls for value in call)


def arguments_from_layout(descriptors: Any, inline: memoryview, shared: Any) -> list[list[object]]:
    """The values the learner's function receives: scalars decoded, arrays as writable views of ``shared``."""
    import math

    import numpy as np

    calls: list[list[object]] = []
    offset = 0
    for call in descriptors:
        args: list[object] = []
        for descriptor in call:
            if descriptor[0] == "shared":
                _kind, dtype_text, shape, start, size = descriptor
                dtype = _numeric_dtype(dtype_text)
                count = math.prod(shape)
                if dtype is None or count * dtype.itemsize != size:
                    raise ProtocolError("a malformed shared argument")
                array = np.frombuffer(shared, dtype=dtype, count=count, offset=start) if count else np.zeros(0, dtype)
                args.append(array.reshape(shape))
            else:
                kind, dtype_text, size = descriptor
                args.append(decode_scalar(kind, dtype_text, bytes(inline[offset : offset + size])))
                offset += size
        calls.append(args)
    return calls


def _argument_array(value: object) -> tuple[str, Any]:
    """(kind, array) of one call argument: a Python float/int/bool or a numpy scalar/array.

    The kind lets the child hand the function a value of the original type: a Python float stays
    a float (not a 0-d array), a numpy scalar stays a numpy scalar.
    """
    import numpy as np

    if isinstance(value, np.ndarray):
        kind, array = "array", np.asarray(value)  # tobytes(order="C") lays any array out contiguously
    elif isinstance(value, np.generic):
        kind, array = "scalar", np.asarray(value)
    elif type(value) is bool:
        kind, array = "bool", np.asarray(value)
    elif isinstance(value, int):
        kind, array = "int", np.asarray(int(value), dtype=np.int64)
    elif isinstance(value, float):
        kind, array = "float", np.asarray(float(value))
    else:
        raise TypeError(f"a call argument must be a float, an int or a numpy array, not {type(value).__name__}")
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"a call argument must be numeric, not an array of dtype {array.dtype}")
    return kind, array


# ---------------------------------------------------------------------------------------------
# Running a learner file (shared by the child and by the in-process runner)
# ---------------------------------------------------------------------------------------------


def module_name(filename: str) -> str:
    """The name the learner's module gets: its file's stem if that is an identifier."""
    stem = filename[:-3] if filename.endswith(".py") else filename
    return stem if stem.isidentifier() else "learner_module"


@dataclass(frozen=True)
class Program:
    """What to run: the source, how to name it, and the calls to make."""

    source: bytes
    filename: str  # name used for compiling, so tracebacks and learner-only filtering agree
    module_name: str
    module_file: str  # the module's __file__
    function: str
    calls: Sequence[Sequence[object]]
    preload: Sequence[tuple[str, bytes]] = ()  # trusted (filename, source) run in the module first


@dataclass(frozen=True)
class _Toolkit:
    """What the runner needs, captured before the learner's file runs.

    The learner's code may replace ``numpy.asarray``, ``os.write``, ``json.dumps``, ``time.*`` or
    builtins; the runner keeps using the originals taken here.
    """

    ndarray: type
    plain_types: tuple[type, ...]  # Python and numpy scalar types whose values become arrays
    asarray: Callable[..., Any]
    perf_counter: Callable[[], float]
    extract_tb: Callable[..., Any]
    format_exception_only: Callable[..., list[str]]
    isinstance: Callable[[object, Any], bool]
    issubclass: Callable[[type, Any], bool]
    type: type
    str: type
    callable: Callable[[object], bool]
    sorted: Callable[..., list[Any]]


def _capture_toolkit() -> _Toolkit:
    import time
    import traceback

    import numpy as np

    numpy_scalars = {t for t in np.sctypeDict.values() if issubclass(t, np.generic)}
    return _Toolkit(
        ndarray=np.ndarray,
        plain_types=(float, int, bool, complex, *numpy_scalars),
        asarray=np.asarray,
        perf_counter=time.perf_counter,
        extract_tb=traceback.extract_tb,
        format_exception_only=traceback.format_exception_only,
        isinstance=isinstance,
        issubclass=issubclass,
        type=type,
        str=str,
        callable=callable,
        sorted=sorted,
    )


def execute(
    program: Program, emit: Emit, *, contain_interrupts: bool, register_module: bool, kit: _Toolkit | None = None
) -> None:
    """Import ``program.source``, call its function on every call, and emit the frames.

    Per-call exceptions become ``call`` frames; everything that stops the run (syntax error,
    exception at import, ``SystemExit``, ``MemoryError``, ...) becomes the ``end`` frame. With
    ``contain_interrupts`` false a KeyboardInterrupt propagates (the in-process runner must let a
    real Ctrl-C through); in the child it is the learner's and is reported as ``exited``. ``kit``:
    the originals, if captured already (a fork server captures them once, before any learner code).
    """
    import linecache
    import types

    if kit is None:
        kit = _capture_toolkit()

    def end(status: str, reason: str = "", detail: str = "", defined: Sequence[str] = ()) -> None:
        emit(
            {
                "t": "end",
                "status": status,
                "reason": reason[:MAX_REASON_CHARS],
                "detail": detail[:MAX_DETAIL_CHARS],
                "defined": list(defined),
            },
            b"",
        )

    try:
        code = compile(program.source, program.filename, "exec", dont_inherit=True)
    except MemoryError:
        end("memory_limit")
        return
    except (SyntaxError, ValueError, RecursionError) as exc:
        reason, detail = _describe_syntax_error(exc, kit)
        end("syntax_error", reason, detail)
        return

    # Tracebacks read source lines through linecache; seeding it keeps them right even if the
    # learner's file deletes or rewrites itself. (mtime None: checkcache never drops the entry.)
    text = program.source.decode("utf-8", errors="replace")
    linecache.cache[program.filename] = (len(text), None, text.splitlines(True), program.filename)

    module = types.ModuleType(program.module_name)
    module.__file__ = program.module_file
    if register_module and program.module_name not in sys.modules:
        sys.modules[program.module_name] = module  # dataclasses and pickling look modules up here
    namespace = module.__dict__
    try:
        for preload_name, preload_source in program.preload:
            exec(compile(preload_source, preload_name, "exec", dont_inherit=True), namespace)
        exec(code, namespace)
    except MemoryError:
        end("memory_limit")
        return
    except Exception as exc:
        end("import_error", *_describe_exception(exc, program.filename, kit))
        return
    except BaseException as exc:
        if not contain_interrupts and kit.isinstance(exc, KeyboardInterrupt):
            raise
        end("exited", _describe_exit(exc, kit))
        return

    missing = object()
    function = dict.get(namespace, program.function, missing)
    if function is missing:
        defined = kit.sorted(
            name
            for name, value in dict.items(namespace)
            if kit.type(name) is kit.str and not name.startswith("_") and kit.callable(value)
        )
        end("missing_function", defined=defined[:50])
        return
    if not kit.callable(function):
        end("not_callable", _type_name(function, kit))
        return
    emit({"t": "loaded"}, b"")

    for index, args in enumerate(program.calls):
        # The bytes of array arguments are compared by the parent; what only this process can see is
        # the array objects themselves (``w.shape = ...`` changes the caller's array, not its bytes).
        views = [(arg.shape, arg.dtype.str) if kit.type(arg) is kit.ndarray else None for arg in args]
        error: str | None = None
        started = kit.perf_counter()
        try:
            result = function(*args)
        except MemoryError:
            end("memory_limit")
            return
        except Exception as exc:
            reason, detail = _describe_exception(exc, program.filename, kit)
            error = reason + ("\n" + detail if detail else "")
            result = None
        except BaseException as exc:
            if not contain_interrupts and kit.isinstance(exc, KeyboardInterrupt):
                raise
            end("exited", _describe_exit(exc, kit))
            return
        seconds = kit.perf_counter() - started
        reshaped = [
            view is not None and (arg.shape, arg.dtype.str) != view for arg, view in zip(args, views, strict=False)
        ]
        header: Header = {
            "t": "call",
            "i": index,
            "type": "",
            "error": error,
            "note": None,
            "reshaped": reshaped,
            "seconds": max(0.0, seconds),
            "array": None,
        }
        payload = b""
        if error is None:
            try:
                array, header["type"], header["error"], header["note"] = _plain_value(result, kit)
                if array is not None:
                    header["array"] = describe_array(array)
                    payload = array.tobytes(order="C")
            except MemoryError:
                end("memory_limit")
                return
            except Exception as exc:  # a learner object whose conversion ran its own code and failed
                header["error"] = f"{type(exc).__name__} while reading the returned value"
        emit(header, payload)
    end("ok")


def _type_name(value: object, kit: _Toolkit) -> str:
    try:
        name = kit.type(value).__name__
    except Exception:  # a learner metaclass can make even this raise; the name is only cosmetic
        return "object"
    return name[:MAX_TYPE_NAME_CHARS] if kit.type(name) is kit.str else "object"


def _plain_value(value: object, kit: _Toolkit) -> tuple[Any, str, str | None, str | None]:
    """(array or None, return type name, error, note) for a returned value.

    Only plain numbers, numpy scalars and plain numeric ndarrays become arrays; anything else
    (None, lists, strings, ndarray subclasses, objects with ``__array__`` or odd ``__eq__``) is
    reported by type name only, so none of its methods are ever called.
    """
    name = _type_name(value, kit)
    kind = kit.type(value)
    # Identity tests only: `in` or a set lookup would call a learner metaclass's __eq__/__hash__.
    if kind is kit.ndarray:
        array = value
    elif any(kind is plain for plain in kit.plain_types):
        array = kit.asarray(value)
    elif kit.issubclass(kind, kit.ndarray):
        return None, name, None, f"{name} is a subclass of ndarray; return a plain numpy array"
    else:
        return None, name, None, None
    if array.dtype.kind not in NUMERIC_KINDS:
        return None, name, None, f"the result has dtype {array.dtype.str!s}, which is not numeric"
    if array.size > MAX_VALUE_ELEMENTS or array.nbytes > MAX_VALUE_BYTES:
        return (
            None,
            name,
            (
                f"ValueError: the returned array has {array.size:,} elements; the grader accepts at most "
                f"{MAX_VALUE_ELEMENTS:,}"
            ),
            None,
        )
    return array, name, None, None


def _describe_syntax_error(exc: BaseException, kit: _Toolkit) -> tuple[str, str]:
    if kit.isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        reason = f"{exc.msg}{where}"
        detail = "".join(kit.format_exception_only(SyntaxError, exc)).rstrip()
        return reason, detail
    if kit.isinstance(exc, ValueError):  # Python 3.10 reports NUL bytes in source this way
        return f"{exc}", ""
    return "the code is nested too deeply to compile", ""


def _describe_exception(exc: BaseException, filename: str, kit: _Toolkit) -> tuple[str, str]:
    """("ZeroDivisionError: division by zero", traceback lines from the learner's file only)."""
    lines = kit.format_exception_only(kit.type(exc), exc)
    reason = (lines[-1] if lines else kit.type(exc).__name__).strip()
    frames = [frame for frame in kit.extract_tb(exc.__traceback__) if frame.filename == filename]
    detail = "\n".join(
        f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
        + (f"\n    {frame.line}" if frame.line else "")
        for frame in frames
    )
    return reason[:MAX_REASON_CHARS], detail


def _describe_exit(exc: BaseException, kit: _Toolkit) -> str:
    """How a BaseException that is not an Exception ended the run, in learner terms."""
    if kit.isinstance(exc, SystemExit):
        code = exc.code
        plain = any(kit.type(code) is kind for kind in (int, str, type(None)))
        shown = repr(code)[:60] if plain else _type_name(code, kit)
        return f"sys.exit({'' if code is None else shown})"
    return _type_name(exc, kit)


# ---------------------------------------------------------------------------------------------
# Fork server
# ---------------------------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CAP_DAC_READ_SEARCH = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
# Landlock (linux/landlock.h); the syscall numbers are the same on every architecture.
LANDLOCK_CREATE_RULESET = 444
LANDLOCK_ADD_RULE = 445
LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_RULE_PATH_BENEATH = 1
LANDLOCK_ACCESS_FS_EXECUTE = 1 << 0
LANDLOCK_ACCESS_FS_WRITE_FILE = 1 << 1
LANDLOCK_ACCESS_FS_READ_FILE = 1 << 2
LANDLOCK_ACCESS_FS_READ_DIR = 1 << 3
LANDLOCK_ACCESS_FS_REFER = 1 << 13
LANDLOCK_ACCESS_FS_TRUNCATE = 1 << 14
LANDLOCK_ACCESS_FS_IOCTL_DEV = 1 << 15
LANDLOCK_ACCESS_NET_BIND_TCP = 1 << 0
LANDLOCK_ACCESS_NET_CONNECT_TCP = 1 << 1
LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
LANDLOCK_SCOPE_SIGNAL = 1 << 1
NOBODY = 65534
# Imported once in the server so that no child pays for them: what the child runner uses, and
# what learner code commonly imports. Every module kept here makes every fork and every child's
# first touches of memory dearer, so modules only a rare learner file uses stay out: tempfile
# (it imports random, which reseeds itself in every child after the fork), hashlib and shutil
# (about 1 MB of the server's memory between them, 5% of each file's sandbox CPU).
_WARM_MODULES = (
    "numpy",
    "traceback",
    "linecache",
    "types",
    "math",
    "io",
    "json",
    "fcntl",
    "resource",
    "select",
    "signal",
    "collections",
    "functools",
    "itertools",
)
# Top-level names the child refuses to import: the grader itself and a course's reference solutions.
_BLOCKED_MODULES = frozenset({"quizkit", "solutions"})
CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class _ParentGone(Exception):
    """The parent closed the control socket: finish the current job's cleanup and exit."""


@dataclass(frozen=True)
class _Privileges:
    """How children run: as ``uid``/``gid`` (None: unchanged) and with which process limit."""

    uid: int | None
    gid: int | None
    keep_read_cap: bool  # keep CAP_DAC_READ_SEARCH so a root-only Python install stays importable
    base_tasks: int  # tasks the children's user already had when the server started
    reason: str  # why privileges are (not) dropped, for the ready message


class Libc:
    """The few Linux calls Python does not wrap (prctl, capset), through ctypes."""

    def __init__(self) -> None:
        import ctypes

        self._ctypes = ctypes
        self._libc = ctypes.CDLL(None, use_errno=True)

    def prctl(self, option: int, value: int) -> None:
        if self._libc.prctl(option, value, 0, 0, 0) != 0:
            errno = self._ctypes.get_errno()
            raise OSError(errno, f"prctl({option}): {os.strerror(errno)}")

    def syscall(self, number: int, *args: Any) -> int:
        result = self._libc.syscall(number, *args)
        if result < 0:
            errno = self._ctypes.get_errno()
            raise OSError(errno, f"syscall {number}: {os.strerror(errno)}")
        return int(result)

    def landlock_abi(self) -> int:
        """The kernel's Landlock ABI version; 0 where Landlock is missing or disabled."""
        try:
            return self.syscall(LANDLOCK_CREATE_RULESET, None, self._ctypes.c_size_t(0), 1)
        except OSError:
            return 0

    def landlock_ruleset(self, read_roots: Sequence[str], write_roots: Sequence[str]) -> tuple[int, int]:
        """A Landlock ruleset fd allowing reads beneath ``read_roots`` and everything beneath
        ``write_roots``, denying TCP bind/connect and (ABI 6) signals and abstract sockets outside
        the domain; with the kernel's ABI version. (-1, 0) where Landlock is missing."""
        ctypes = self._ctypes
        abi = self.landlock_abi()
        if not abi:
            return -1, 0
        handled_fs = (1 << 13) - 1  # ABI 1: execute .. make_sym
        if abi >= 2:
            handled_fs |= LANDLOCK_ACCESS_FS_REFER
        if abi >= 3:
            handled_fs |= LANDLOCK_ACCESS_FS_TRUNCATE
        if abi >= 5:
            handled_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV
        handled_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP if abi >= 4 else 0
        scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL if abi >= 6 else 0

        class RulesetAttr(ctypes.Structure):
            _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

        class PathBeneath(ctypes.Structure):
            _pack_ = 1
            _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

        attr = RulesetAttr(handled_fs, handled_net, scoped)
        size = 24 if abi >= 6 else 16 if abi >= 4 else 8
        ruleset = self.syscall(LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
        file_rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE
        read_rights = file_rights | LANDLOCK_ACCESS_FS_READ_DIR
        writable_file = (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE) | (
            handled_fs & (LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
        )
        rules = [(path, read_rights) for path in read_roots] + [(path, handled_fs) for path in write_roots]
        rules.append((os.devnull, writable_file))
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:  # a root that does not exist here grants nothing
                continue
            try:
                if not os.path.isdir(path):
                    rights &= writable_file | LANDLOCK_ACCESS_FS_EXECUTE
                rule = PathBeneath(rights, fd)
                self.syscall(LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0)
            finally:
                os.close(fd)
        return ruleset, abi

    def keep_only_capability(self, capability: int) -> None:
        """Make ``capability`` the only effective and permitted one (after setuid with KEEPCAPS)."""
        ctypes = self._ctypes

        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class Data(ctypes.Structure):
            _fields_ = [
                ("effective", ctypes.c_uint32),
                ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32),
            ]

        data = (Data * 2)()
        data[0].effective = data[0].permitted = 1 << capability
        if self._libc.capset(ctypes.byref(Header(_LINUX_CAPABILITY_VERSION_3, 0)), data) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"capset: {os.strerror(errno)}")


class _Inbox:
    """Frames (and passed file descriptors) arriving on the control socket."""

    def __init__(self, sock: Any) -> None:
        import collections

        self.sock = sock
        self._reader = FrameReader(max_payload=1 << 40)  # the parent is trusted; sizes are its business
        self.frames: collections.deque[tuple[Header, bytes]] = collections.deque()
        self.fds: collections.deque[int] = collections.deque()
        # Jobs the parent stopped before they started (it may send the next job while one runs).
        self.cancelled: set[int] = set()

    def fill(self) -> None:
        """Receive once (blocking); raises _ParentGone at end of stream."""
        import socket

        data, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 20, 8)
        self.fds.extend(fds)
        if not data:
            raise _ParentGone
        self.frames.extend(self._reader.feed(data))

    def next_frame(self) -> tuple[Header, bytes]:
        while not self.frames:
            self.fill()
        return self.frames.popleft()

    def take_kills(self) -> list[int]:
        """The job ids of the "kill" frames received so far, which are removed; other frames stay
        in order for the main loop (a job queued behind the one running)."""
        import collections

        kills = [header["id"] for header, _ in self.frames if header["t"] == "kill" and type(header.get("id")) is int]
        if kills:
            self.frames = collections.deque(frame for frame in self.frames if frame[0]["t"] != "kill")
        return kills

    def send(self, header: Header) -> None:
        self.sock.sendall(encode_frame(header))


@dataclass(frozen=True)
class _Confinement:
    """What confines every child of this server besides rlimits and privileges."""

    namespaces: bool  # the server runs inside bubblewrap's namespaces (its /tmp and /dev/shm are private)
    jobs_root: str  # the only directory children may write to (their job directories live here)
    ruleset_fd: int  # Landlock ruleset applied by each child; -1 without Landlock
    landlock_abi: int
    # Made once in the server, before any learner code, and used by every child as it is (each child
    # building its own would copy-on-write pages and cost it more than the rest of its set-up):
    kit: _Toolkit  # the runner's originals
    streams: tuple[Any, Any, Any]  # text streams on fds 0, 1 and 2, which a child points at its pipes


def serve(
    control_fd: int,
    numpy_dir: str,
    hidden: Sequence[str],
    *,
    namespaces: bool = False,
    read_roots: Sequence[str] = (),
    base_tasks: int | None = None,
) -> int:
    """Fork-server main loop: one job at a time, each in a fresh forked child."""
    import socket

    sock = socket.socket(fileno=control_fd)
    inbox = _Inbox(sock)
    try:
        libc = Libc()
        libc.prctl(PR_SET_DUMPABLE, 0)  # no ptrace, no /proc/PID/mem for processes of the same user
        _prepare_server(numpy_dir, hidden)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of the learner's processes reparent to us
        privileges = _plan_privileges(libc, base_tasks)
        confinement = _confine(libc, privileges, namespaces, read_roots)
        _scrub_environment(os.environ.get("HOME", "/nonexistent"), os.environ.get("TMPDIR", "/tmp"))
    except (ImportError, OSError) as exc:
        inbox.send({"t": "fatal", "reason": f"{type(exc).__name__}: {exc}"})
        return 1
    import numpy

    inbox.send(
        {
            "t": "ready",
            "pid": os.getpid(),
            "numpy": numpy.__version__,
            "uid": privileges.uid,
            "read_cap": privileges.keep_read_cap,
            "privileges": privileges.reason,
            "namespaces": namespaces,
            "landlock": confinement.landlock_abi if confinement.ruleset_fd >= 0 else 0,
            "jobs_root": confinement.jobs_root,
        }
    )
    try:
        while True:
            header, payload = inbox.next_frame()
            if header["t"] == "job":
                result_fd, output_fd, inputs_fd = inbox.fds.popleft(), inbox.fds.popleft(), inbox.fds.popleft()
                if header["id"] in inbox.cancelled:
                    for fd in (result_fd, output_fd, inputs_fd):
                        os.close(fd)
                    inbox.send(
                        {"t": "exited", "id": header["id"], "code": None, "signal": 9, "cpu": 0.0, "cleanup": None}
                    )
                else:
                    _serve_job(header, payload, (result_fd, output_fd, inputs_fd), inbox, libc, privileges, confinement)
                # Job ids only grow: a kill for this job or an earlier one can never matter again.
                inbox.cancelled = {i for i in inbox.cancelled if i > header["id"]}
            elif header["t"] == "kill" and type(header.get("id")) is int:
                inbox.cancelled.add(header["id"])  # a job still queued, or one that already ended
    except _ParentGone:
        return 0
    finally:
        # Inside namespaces the folder vanishes with the server's tmpfs; outside, it is on the host.
        if not namespaces:
            remove_tree(confinement.jobs_root)


def _confine(libc: Libc, privileges: _Privileges, namespaces: bool, read_roots: Sequence[str]) -> _Confinement:
    """Create the jobs directory and the Landlock ruleset every child applies."""
    jobs_root = _new_directory(os.environ.get("TMPDIR") or "/tmp", "quizkit-jobs-")
    if privileges.uid is not None and privileges.gid is not None:
        os.chown(jobs_root, privileges.uid, privileges.gid)
    ruleset, abi = libc.landlock_ruleset(read_roots, [jobs_root]) if read_roots else (-1, 0)
    if ruleset >= 0:
        import fcntl

        ruleset = fcntl.fcntl(ruleset, fcntl.F_DUPFD_CLOEXEC, 64)  # above the fds a child keeps or closes
    return _Confinement(namespaces, jobs_root, ruleset, abi, _capture_toolkit(), _prepare_streams())


def _prepare_server(numpy_dir: str, hidden: Sequence[str]) -> None:
    """Import numpy once, and make sure learner code cannot import the grader or a course."""
    import importlib
    import site

    # Started with -S: no site-packages on the path, so numpy comes from the grader's own folder
    # (never from another copy the interpreter's site-packages may hold), and no .pth file ran.
    sys.path.append(numpy_dir)
    site.setquit()  # exit() and quit(), which learner files may call, as with site
    for name in _WARM_MODULES:  # numpy first
        importlib.import_module(name)
    hidden_dirs = {os.path.realpath(path) for path in hidden}
    sys.path[:] = [
        entry
        for entry in sys.path
        if entry and os.path.realpath(entry) not in hidden_dirs and not os.path.isdir(os.path.join(entry, "solutions"))
    ]

    # A finder needs only find_spec; importlib.abc's base class would import importlib.resources,
    # pathlib and zipfile into every server for nothing.
    class BlockCourseImports:
        """Refuses the grader's and the course's packages even if some path entry provides them."""

        def find_spec(self, fullname: str, path: object, target: object = None) -> None:
            if fullname.partition(".")[0] in _BLOCKED_MODULES:
                raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
            return None

    sys.meta_path.insert(0, BlockCourseImports())


def count_tasks(uid: int) -> int:
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:  # the process ended while we looked
                continue
    return count


def _plan_privileges(libc: Libc, outside_tasks: int | None = None) -> _Privileges:
    """As root, run children as nobody if that provably works here; otherwise keep the uid.

    ``outside_tasks``: the children's user's tasks as counted by the grader, which sees processes
    this server's pid namespace hides (RLIMIT_NPROC counts them all).
    """
    if os.geteuid() != 0:
        base = max(count_tasks(os.getuid()), outside_tasks or 0)
        return _Privileges(None, None, False, base, "not root: children keep the user's uid")
    base = max(count_tasks(NOBODY), outside_tasks or 0)
    for keep_read_cap in (False, True):
        candidate = _Privileges(NOBODY, NOBODY, keep_read_cap, base, "")
        failure = _probe_privileges(libc, candidate)
        if failure is None:
            how = " with CAP_DAC_READ_SEARCH (the Python install is not world-readable)" if keep_read_cap else ""
            return _Privileges(NOBODY, NOBODY, keep_read_cap, base, f"children run as uid {NOBODY}{how}")
    return _Privileges(None, None, False, base, f"children stay root: running as uid {NOBODY} failed ({failure})")


def _probe_privileges(libc: Libc, privileges: _Privileges) -> str | None:
    """Fork a child that drops privileges and reads what learner code needs; None if it worked."""
    # Decided before dropping privileges: as nobody, an unreadable directory just looks absent.
    directories = [entry for entry in sys.path if os.path.isdir(entry)]
    files = [getattr(module, "__file__", None) for module in (os, json, sys.modules["numpy"])]
    files += [
        m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", "") and m.__file__.endswith(".so")
    ][:1]
    workdir = _new_directory(os.environ.get("TMPDIR") or "/tmp", "quizkit-probe-")
    os.chown(workdir, NOBODY, NOBODY)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        # Whatever happens, this forked copy of the server must never return into the server loop.
        message = b"probe failed"
        try:
            os.close(read_fd)
            _drop_privileges(libc, privileges)
            for directory in directories:
                os.listdir(directory)
            for path in files:
                if path:
                    with open(path, "rb"):
                        pass
            with open(os.path.join(workdir, "probe"), "w") as probe:
                probe.write("ok")
            message = b""
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}".encode(errors="replace")
        finally:
            os.write(write_fd, message)
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        message = reader.read()
    _, status = os.waitpid(pid, 0)
    remove_tree(workdir)
    if message:
        return message.decode(errors="replace")
    return None if status == 0 else f"probe exited with status {status}"


def _drop_privileges(libc: Libc, privileges: _Privileges) -> None:
    if privileges.uid is None or privileges.gid is None:
        return
    if privileges.keep_read_cap:
        libc.prctl(PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setresgid(privileges.gid, privileges.gid, privileges.gid)
    os.setresuid(privileges.uid, privileges.uid, privileges.uid)
    if privileges.keep_read_cap:
        libc.keep_only_capability(CAP_DAC_READ_SEARCH)


def _serve_job(
    header: Header,
    payload: bytes,
    fds: tuple[int, int, int],
    inbox: _Inbox,
    libc: Libc,
    privileges: _Privileges,
    confinement: _Confinement,
) -> None:
    """Run one job in a forked child, wait for it (or a kill), sweep its processes, clean up, report."""
    result_fd, output_fd, inputs_fd = fds
    program = _program_from_request(header, payload, inputs_fd)
    os.close(inputs_fd)  # the mapping (if any) keeps the shared arguments alive in the child
    workdir = _new_directory(confinement.jobs_root, "job-")
    program = _write_copy(program, workdir, privileges)
    if privileges.uid is not None and privileges.gid is not None:
        os.chown(workdir, privileges.uid, privileges.gid)
    server_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        _child_main(
            program, header["limits"], result_fd, output_fd, workdir, inbox, libc, privileges, confinement, server_pid
        )
    os.close(result_fd)
    os.close(output_fd)
    inbox.send({"t": "started", "id": header["id"], "pid": pid, "workdir": workdir})
    parent_gone = False
    try:
        status, cpu = _wait_for_child(pid, header["id"], inbox)
    except _ParentGone:
        parent_gone = True
        _kill_group(pid)
        _, status, usage = os.wait4(pid, 0)
        cpu = usage.ru_utime + usage.ru_stime
    _sweep()
    cleanup = _clean_up(workdir, confinement, libc, privileges)
    if parent_gone:
        raise _ParentGone
    inbox.send(
        {
            "t": "exited",
            "id": header["id"],
            "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu": cpu,
            "cleanup": cleanup,
        }
    )


def _write_copy(program: Program, workdir: str, privileges: _Privileges) -> Program:
    """The learner's file, copied into its job directory (its ``__file__``: a file that reads or
    deletes itself finds this copy), owned by the user its code runs as; the program with it."""
    copy = os.path.join(workdir, program.filename)
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(program.source)
        while view:
            view = view[os.write(fd, view) :]
        if privileges.uid is not None and privileges.gid is not None:
            os.fchown(fd, privileges.uid, privileges.gid)
    finally:
        os.close(fd)
    return Program(
        program.source, program.filename, program.module_name, copy, program.function, program.calls, program.preload
    )


def _program_from_request(header: Header, payload: bytes, inputs_fd: int) -> Program:
    import mmap

    view = memoryview(payload)
    offset = header["source"]
    source = bytes(view[:offset])
    preload = []
    for name, size in header["preload"]:
        preload.append((name, bytes(view[offset : offset + size])))
        offset += size
    shared_size = header["shared"]
    # MAP_SHARED: whatever the learner's code writes into its arguments lands in the parent's memfd.
    shared = (
        mmap.mmap(inputs_fd, shared_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) if shared_size else b""
    )
    calls = arguments_from_layout(header["args"], view[offset:], shared)
    filename = header["filename"]
    return Program(source, filename, module_name(filename), filename, header["function"], calls, preload)


def _wait_for_child(pid: int, job_id: int, inbox: _Inbox) -> tuple[int, float]:
    """Wait for the child to end, killing its process group if the parent asks; (status, cpu s)."""
    import contextlib
    import select
    import signal

    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):  # kernel older than 5.3: fall back to polling
        pidfd = None
    try:
        while True:
            # Frames read earlier may hold a kill already (it can arrive with the job queued next).
            for ident in inbox.take_kills():
                if ident == job_id:
                    _kill_group(pid)
                    # A child that has not reached setsid() yet has no group of its own.
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                else:  # the job queued behind this one (or one already ended): never start it
                    inbox.cancelled.add(ident)
            watched = [inbox.sock] if pidfd is None else [inbox.sock, pidfd]
            ready, _, _ = select.select(watched, [], [], 0.01 if pidfd is None else None)
            if inbox.sock in ready:
                inbox.fill()
                continue  # the kills first; the child's end is seen on the next round
            if pidfd is None or pidfd in ready:
                # Kill the group while the child is an unreaped zombie: its pid (= the group id)
                # cannot have been reused yet.
                if pidfd is not None:
                    _kill_group(pid)
                reaped, status, usage = os.wait4(pid, os.WNOHANG)
                if reaped == pid:
                    return status, usage.ru_utime + usage.ru_stime
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _kill_group(pgid: int) -> None:
    import contextlib
    import signal

    with contextlib.suppress(ProcessLookupError):  # every member already ended
        os.killpg(pgid, signal.SIGKILL)


def _children() -> list[int]:
    """Direct children of this (single-threaded) process."""
    own = os.getpid()
    try:
        return [int(pid) for pid in _read_proc_file(f"/proc/{own}/task/{own}/children").split()]
    except FileNotFoundError:  # kernel without CONFIG_PROC_CHILDREN: scan every process
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rpartition(")")[2].split()
                except OSError:
                    continue
                if int(fields[1]) == own:
                    found.append(int(entry))
        return found


def _read_proc_file(path: str) -> str:
    """A /proc file's text, read with plain system calls (the server reads a few after every job)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("ascii", errors="replace")


def _sweep() -> None:
    """Kill and reap every remaining descendant.

    This process is a child subreaper, so every descendant whose parent died was reparented here:
    the live descendants are our children and their descendants. Killing the children (and their
    process groups) makes the next generation our children; repeat until we have none at all.
    """
    import signal

    own_group = os.getpgid(0)
    # Children signalled but not yet reaped. Their pids cannot be reused before we reap them, so
    # each is signalled once; and blocking in waitpid is safe only while one of them is dying.
    dying: set[int] = set()
    while True:
        for child in _children():
            if child in dying:
                continue
            dying.add(child)
            try:
                group = os.getpgid(child)
                if group != own_group:
                    os.killpg(group, signal.SIGKILL)
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:  # already a zombie: waitpid below collects it
                continue
        try:
            reaped, _ = os.waitpid(-1, 0 if dying else os.WNOHANG)
            while reaped:
                dying.discard(reaped)
                reaped, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return


def remove_tree(path: str) -> str | None:
    """Remove a directory tree the learner may have made hostile; the error text if that fails.

    Iterative and descriptor-relative, two descriptors at a time: a tree 20,000 levels deep, whose
    paths are far longer than PATH_MAX, or folders made unreadable are removed like any other.
    Symbolic links are removed, never followed.
    """
    import stat

    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        os.chmod(path, 0o700, follow_symlinks=False)
        current = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"could not remove {path}: {exc.strerror or exc}"
    names: list[str] = []  # the path from ``path`` down to ``current``
    try:
        while True:
            descended = False
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        os.chmod(entry.name, stat.S_IRWXU, dir_fd=current, follow_symlinks=False)
                        below = os.open(entry.name, flags, dir_fd=current)
                        os.close(current)
                        current = below
                        names.append(entry.name)
                        descended = True
                        break
                    os.unlink(entry.name, dir_fd=current)
            if descended:
                continue
            if not names:
                break
            parent = os.open("..", flags, dir_fd=current)
            os.close(current)
            current = parent
            os.rmdir(names.pop(), dir_fd=current)
    except OSError as exc:
        return f"could not remove {path}: {exc.strerror or exc}"
    finally:
        os.close(current)
    try:
        os.rmdir(path)
    except OSError as exc:
        return f"could not remove {path}: {exc.strerror or exc}"
    return None


def _clean_up(workdir: str, confinement: _Confinement, libc: Libc, privileges: _Privileges) -> str | None:
    """Remove what a job left: everything in the jobs folder (its own directory, and whatever it put
    beside it: the folder is writable to it) and, inside namespaces, anything else in the private
    /tmp and /dev/shm and every System V IPC object (the ipc namespace is this server's)."""
    problem = remove_tree(workdir)
    problem = _empty_folder(confinement.jobs_root) or problem
    if not confinement.namespaces:
        return problem
    for folder in ("/tmp", "/dev/shm"):
        problem = _empty_folder(folder, keep=confinement.jobs_root) or problem
    if not _ipc_objects():
        return problem
    if privileges.uid is None:
        _remove_ipc_objects()
    else:
        # Only an object's owner (or CAP_SYS_ADMIN, which this server lacks) may remove it: do it as them.
        pid = os.fork()
        if pid == 0:
            try:
                _drop_privileges(libc, privileges)
                _remove_ipc_objects()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    return problem


def _empty_folder(folder: str, keep: str = "") -> str | None:
    """Remove every entry of ``folder`` but the path ``keep``; the first problem, if any."""
    problem = None
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    for name in names:
        path = os.path.join(folder, name)
        if path == keep:
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            problem = remove_tree(path) or problem
        else:
            try:
                os.unlink(path)
            except OSError as exc:
                problem = problem or f"could not remove {path}: {exc.strerror or exc}"
    return problem


def _ipc_objects() -> list[tuple[str, int]]:
    """(kind, id) of every System V shared memory segment, semaphore set and message queue in sight."""
    found = []
    for kind in ("shm", "sem", "msg"):
        try:
            lines = _read_proc_file(f"/proc/sysvipc/{kind}").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 1 and fields[1].isdigit():
                found.append((kind, int(fields[1])))
    return found


def _remove_ipc_objects() -> None:
    """IPC_RMID every System V IPC object in sight (this server's private ipc namespace)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    for kind, ident in _ipc_objects():
        if kind == "shm":
            libc.shmctl(ident, ipc_rmid, None)
        elif kind == "sem":
            libc.semctl(ident, 0, ipc_rmid)
        else:
            libc.msgctl(ident, ipc_rmid, None)


# ---------------------------------------------------------------------------------------------
# The child (after fork)
# ---------------------------------------------------------------------------------------------


def _child_main(
    program: Program,
    limits: Header,
    result_fd: int,
    output_fd: int,
    workdir: str,
    inbox: _Inbox,
    libc: Libc,
    privileges: _Privileges,
    confinement: _Confinement,
    server_pid: int,
) -> NoReturn:
    """Isolate this forked process, run the program, and exit without returning to the server loop."""
    import signal

    exit_code = EXIT_RUNNER_FAILED
    streams: list[Any] = []
    try:
        inbox.sock.detach()  # its fd is closed below; the object must never close a reused number
        os.setsid()
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1)  # no setuid binaries, no file capabilities on exec; Landlock needs it
        if confinement.ruleset_fd >= 0:
            libc.syscall(LANDLOCK_RESTRICT_SELF, confinement.ruleset_fd, 0)
            os.close(confinement.ruleset_fd)
        _install_descriptors(result_fd, output_fd)
        _apply_limits(limits, privileges)
        os.chdir(workdir)
        # The server's environment is CHILD_ENV and these two already (_scrub_environment at its start).
        # (tempfile is not imported in the server: the learner's import of it reads TMPDIR afresh.)
        os.environ["HOME"] = os.environ["TMPDIR"] = workdir
        _drop_privileges(libc, privileges)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))  # after setuid, which clears it: die with the server
        if os.getppid() != server_pid:
            os._exit(EXIT_RUNNER_FAILED)  # the server died before PDEATHSIG was armed
        streams = _install_streams(confinement.streams)
        execute(program, _result_channel(), contain_interrupts=True, register_module=True, kit=confinement.kit)
        exit_code = 0
    except ChannelLost:
        exit_code = EXIT_CHANNEL_LOST
    except BaseException as exc:  # the learner's code broke something the runner relies on
        _report_runner_failure(exc)
    finally:
        for stream in streams:
            try:
                stream.flush()
            except (OSError, ValueError):  # closed by the learner's code, or the parent stopped reading
                continue
        os._exit(exit_code)


def _report_runner_failure(exc: BaseException) -> None:
    try:
        os.write(2, f"quizkit sandbox: the runner stopped: {type(exc).__name__}: {exc}\n".encode(errors="replace"))
    except Exception:  # stderr closed, or str(exc) ran learner code that failed: the exit code says enough
        return


def _install_descriptors(result_fd: int, output_fd: int) -> None:
    """stdin from /dev/null, stdout+stderr to the output pipe, results on fd 3, nothing else open."""
    import fcntl

    high_result = fcntl.fcntl(result_fd, fcntl.F_DUPFD, 64)
    high_output = fcntl.fcntl(output_fd, fcntl.F_DUPFD, 64)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(high_output, 1)
    os.dup2(high_output, 2)
    os.dup2(high_result, RESULT_FD)
    os.closerange(RESULT_FD + 1, max(os.sysconf("SC_OPEN_MAX"), 1024))


def _apply_limits(limits: Header, privileges: _Privileges) -> None:
    import math
    import resource

    def lower(which: int, value: int, hard_extra: int = 0) -> None:
        _soft, hard = resource.getrlimit(which)
        cap = hard if hard != resource.RLIM_INFINITY else value + hard_extra
        resource.setrlimit(which, (min(value, cap), min(value + hard_extra, cap)))

    cpu = max(1, math.ceil(limits["cpu_seconds"]))
    lower(resource.RLIMIT_CPU, cpu, hard_extra=1)  # SIGXCPU at the soft limit, SIGKILL one second later
    lower(resource.RLIMIT_CORE, 0)
    lower(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    lower(resource.RLIMIT_NPROC, privileges.base_tasks + int(limits["processes"]))
    lower(resource.RLIMIT_AS, int(limits["memory_bytes"]))


def _new_directory(parent: str, prefix: str) -> str:
    """A new 0700 directory in ``parent`` with an unpredictable name, as ``tempfile.mkdtemp`` makes.

    The server does not import tempfile: it imports random, whose reseeding after every fork
    (``os.register_at_fork``) would cost each child a tenth of a millisecond.
    """
    for _ in range(100):
        path = os.path.join(parent, prefix + os.urandom(6).hex())
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no free directory name", parent)


def _scrub_environment(home: str, temp: str) -> None:
    """The environment children start from: CHILD_ENV, HOME and TMPDIR (each child sets the last two)."""
    os.environ.clear()
    os.environ.update(CHILD_ENV, HOME=home, TMPDIR=temp)


def _prepare_streams() -> tuple[Any, Any, Any]:
    """Line-buffered text streams on fds 0-2 for the children, made while fds 1 and 2 are a pipe,
    as they are in a child (a stream remembers whether its file can seek); the server's own fds
    are put back after. Nothing is ever written to them in the server, so every child starts
    with them empty."""
    read_end, write_end = os.pipe()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
        stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
        stdout.buffer.raw.seekable(), stderr.buffer.raw.seekable()  # asked (and remembered) now
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, read_end, write_end):
            os.close(fd)
    stdin = open(0, encoding="utf-8", closefd=False)  # /dev/null in the server and in every child
    return stdin, stdout, stderr


def _install_streams(streams: tuple[Any, Any, Any]) -> list[Any]:
    """The prepared text streams as sys.stdin, stdout and stderr; returns the ones to flush at the end."""
    stdin, stdout, stderr = streams
    sys.stdin = sys.__stdin__ = stdin
    sys.stdout = sys.__stdout__ = stdout
    sys.stderr = sys.__stderr__ = stderr
    return [stdout, stderr]


def _result_channel() -> Emit:
    """An emit function bound to the originals of os.write and the JSON encoder.

    Before each frame it checks that fd 3 is still the pipe it was: learner code that closes it
    and opens a file in its place must not make the results vanish silently.
    """
    write, fstat = os.write, os.fstat
    dumps = _new_json_encoder()
    status = fstat(RESULT_FD)
    identity = (status.st_dev, status.st_ino)

    def emit(header: Header, payload: bytes) -> None:
        data = memoryview(encode_frame(header, payload, dumps))
        try:
            status = fstat(RESULT_FD)
            if (status.st_dev, status.st_ino) != identity:
                raise ChannelLost("the result channel was replaced")
            while data:
                data = data[write(RESULT_FD, data) :]
        except OSError as exc:
            raise ChannelLost(str(exc)) from exc

    return emit


_USAGE = (
    "usage: wire.py --serve --control-fd FD [--numpy-dir DIR] [--hide DIR]... [--namespaces]"
    " [--read-root=DIR]... [--base-tasks N]  (started by quizkit.sandbox)"
)


def _main(argv: Sequence[str]) -> int:
    """Read the options quizkit.sandbox writes (by hand: argparse would add its import, and
    gettext's and locale's, to every server's start) and serve."""
    single = {"--control-fd": "", "--numpy-dir": "", "--base-tasks": ""}
    lists: dict[str, list[str]] = {"--hide": [], "--read-root": []}
    flags = {"--serve": False, "--namespaces": False}
    words = iter(argv)
    for word in words:
        name, has_value, value = word.partition("=")
        if name in flags and not has_value:
            flags[name] = True
            continue
        if name not in single and name not in lists:
            print(f"{_USAGE}\nunknown option: {word}", file=sys.stderr)
            return 2
        if not has_value:
            following = next(words, None)
            if following is None:
                print(f"{_USAGE}\n{name} needs a value", file=sys.stderr)
                return 2
            value = following
        if name in lists:
            lists[name].append(value)
        else:
            single[name] = value
    try:
        control_fd = int(single["--control-fd"])
        base_tasks = int(single["--base-tasks"]) if single["--base-tasks"] else None
    except ValueError:
        print(f"{_USAGE}\n--control-fd and --base-tasks take whole numbers", file=sys.stderr)
        return 2
    if not flags["--serve"]:
        print(_USAGE, file=sys.stderr)
        return 2
    return serve(
        control_fd,
        single["--numpy-dir"],
        lists["--hide"],
        namespaces=flags["--namespaces"],
        read_roots=lists["--read-root"],
        base_tasks=base_tasks,
    )


if __name__ == "__main__":
    _code = _main(sys.argv[1:])
    # Straight out, without the interpreter's clean-up (numpy's and every module's teardown, tens
    # of milliseconds the grader would wait for at every close): nothing is left to release.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_code)

"""The worker process: one JSON request per line on stdin, one JSON reply per line on stdout.

Started by :mod:`quizkit.symbolic.client` as ``python -I [-S] -c "... from quizkit.symbolic.worker
import serve ..."``; run ``python -m quizkit.symbolic.worker`` to talk to one by hand.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from quizkit.symbolic.engine import Engine
from quizkit.symbolic.spec import TOO_COMPLEX, result_payload
from quizkit.verdict import Status


def _limit_memory(limit: int = 2 * 1024**3) -> None:
    """Cap the worker's address space so a runaway expansion fails with MemoryError."""
    try:
        import resource
    except ImportError:  # not POSIX: rely on the parent's time limit alone
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def serve(warm_up: bool = True) -> None:
    """Run the worker: one JSON request per line on stdin, one JSON reply per line on stdout."""
    _limit_memory()
    protocol = sys.stdout
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol stream
    engine = Engine()
    if warm_up:
        engine.warm_up()

    def send(message: Mapping[str, Any]) -> None:
        protocol.write(json.dumps(message, ensure_ascii=True) + "\n")
        protocol.flush()

    send({"ready": True})
    for line in sys.stdin:
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            send({"id": request_id, "result": engine.handle(request)})
        except (MemoryError, RecursionError):
            send({"id": request_id, "result": result_payload(Status.INVALID, [TOO_COMPLEX])})
        except Exception as error:
            # Any other failure is a bug or a SymPy surprise: report it and keep serving, so one
            # odd answer cannot take the checker down. The parent logs it; the traceback is here.
            import traceback

            traceback.print_exc(file=sys.stderr)
            send({"id": request_id, "error": f"{type(error).__name__}: {error}"})
    # End of input: every reply has been flushed. Tearing SymPy's modules down takes a while and
    # serves no one, so leave at once.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    serve()

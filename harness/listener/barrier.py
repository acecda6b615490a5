"""connect_all(): the readiness barrier; no action is triggered before every listener is ready."""
from __future__ import annotations

import threading
from collections.abc import Iterable

from harness.listener.connection import Listener
from harness.listener.values import ConnectError


def connect_all(listeners: Iterable[Listener], timeout: float = 5.0) -> None:
    """Connect all listeners in parallel; return when every one is ready.

    On any failure every listener is closed and ConnectError names each one that failed.
    """
    listeners = list(listeners)
    failures: dict[int, BaseException] = {}
    lock = threading.Lock()

    def connect(index: int, listener: Listener) -> None:
        try:
            listener.connect(timeout)
        except BaseException as exc:  # handed to the caller below, in listener order
            with lock:
                failures[index] = exc

    threads = [threading.Thread(target=connect, args=(i, listener), name=f"connect {listener.label}", daemon=True)
               for i, listener in enumerate(listeners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not failures:
        return
    for listener in listeners:
        listener.close()
    errors = [failures[i] for i in sorted(failures)]
    unexpected = [e for e in errors if not isinstance(e, ConnectError)]
    if unexpected:
        raise unexpected[0]
    summary = "; ".join(str(e) for e in errors)
    raise ConnectError(f"{len(errors)} of {len(listeners)} listeners not ready: {summary}")

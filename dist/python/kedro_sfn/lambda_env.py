"""Make a Lambda-like process fit for Kedro: no telemetry, logs on stderr, no SemLock."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import threading
import warnings
from pathlib import Path

LOGGING_CONFIG = str(Path(__file__).with_name("logging.yml"))


def prepare_process() -> None:
    """Set up the process before Kedro's session modules are imported.

    - Telemetry off (``KEDRO_DISABLE_TELEMETRY``, ``DO_NOT_TRACK``).
    - ``KEDRO_LOGGING_CONFIG`` defaults to kedro-sfn's console-only config on
      stderr: Kedro 1.x would otherwise pick up the project's conf/logging.yml,
      whose template writes info.log into the (read-only) working folder. A
      value the user set is kept.
    - multiprocessing locks are replaced by threading ones when the platform
      cannot create them (AWS Lambda has no /dev/shm).
    """
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("KEDRO_LOGGING_CONFIG", LOGGING_CONFIG)
    silence_known_warnings()
    if not semaphores_work():
        use_thread_locks()


def silence_known_warnings() -> None:
    """Hide a deprecation warning Kedro's config loader triggers in OmegaConf on every load."""
    warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")


def semaphores_work() -> bool:
    """True when ``multiprocessing.Lock()`` can be created here."""
    try:
        multiprocessing.Lock()
    except (OSError, ImportError, NotImplementedError):
        return False
    return True


def use_thread_locks() -> None:
    """Make multiprocessing's lock factories return threading primitives.

    One Lambda invocation runs its nodes sequentially in one process, so
    thread-level locks keep the semantics that importing libraries expect.
    """
    factories = {
        "Lock": lambda *a, **k: threading.Lock(),
        "RLock": lambda *a, **k: threading.RLock(),
        "Semaphore": lambda value=1, *a, **k: threading.Semaphore(value),
        "BoundedSemaphore": lambda value=1, *a, **k: threading.BoundedSemaphore(value),
        "Event": lambda *a, **k: threading.Event(),
        "Condition": lambda lock=None, *a, **k: threading.Condition(lock),
    }
    for name, factory in factories.items():
        setattr(multiprocessing, name, factory)
        setattr(multiprocessing.context.BaseContext, name, lambda self, *a, _f=factory, **k: _f(*a, **k))

"""Keep stdout for the one JSON document a command prints."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO


@contextlib.contextmanager
def stdout_reserved() -> Iterator[TextIO]:
    """Send everything written to stdout (fd 1) to stderr while the block runs.

    Yields a text stream on the original stdout: the caller writes its JSON
    there. Project code that prints, rich consoles and logging handlers bound to
    ``sys.stdout`` all end up on stderr, at the file-descriptor level.
    """
    sys.stdout.flush()
    saved_fd = os.dup(1)
    os.dup2(2, 1)
    real_stdout = os.fdopen(saved_fd, "w", encoding="utf-8", closefd=False)
    try:
        yield real_stdout
    finally:
        real_stdout.flush()
        sys.stdout.flush()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)

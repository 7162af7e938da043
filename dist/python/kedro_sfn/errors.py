"""Errors a user can act on, and how they are printed for the TypeScript side."""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

TRACEBACK_TAIL_LINES = 8


@dataclass(eq=False)
class UserError(Exception):
    """A problem in the user's project or setup, with what to change.

    ``kind`` is one of: not_a_project, kedro_missing, kedro_version_mismatch,
    unknown_pipeline, env_missing, project_import_error, config_error, cycle.
    """

    kind: str
    message: str
    hint: str = ""
    file: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_json_line(self) -> str:
        """Return the one-line JSON the TypeScript side parses from stderr."""
        payload = {
            "error": {
                "kind": self.kind,
                "message": self.message,
                "hint": self.hint,
                "file": self.file,
            }
        }
        return json.dumps(payload, ensure_ascii=False)

    def print(self, stream: TextIO) -> None:
        """Write the JSON line to ``stream`` and flush it."""
        stream.write(self.to_json_line() + "\n")
        stream.flush()


def traceback_tail(exc: BaseException, lines: int = TRACEBACK_TAIL_LINES) -> str:
    """Return the last ``lines`` lines of the traceback of ``exc``, without importlib frames."""
    te = traceback.TracebackException.from_exception(exc)
    te.stack = traceback.StackSummary.from_list(
        [frame for frame in te.stack if not frame.filename.startswith("<frozen")]
    )
    text = "".join(te.format(chain=False))
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def culprit_file(exc: BaseException, project_path: Path | None) -> str | None:
    """Return the file most likely to need a fix for ``exc``.

    A SyntaxError names its own file. Otherwise the innermost traceback frame
    inside ``project_path`` (the user's code), else the innermost frame at all.
    """
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    if project_path is not None:
        root = project_path.resolve()
        for frame in reversed(frames):
            try:
                if Path(frame.filename).resolve().is_relative_to(root):
                    return frame.filename
            except (OSError, ValueError):
                continue
    return frames[-1].filename


def find_in_chain(exc: BaseException, class_name: str) -> BaseException | None:
    """Return the first exception named ``class_name`` in the cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(cls.__name__ == class_name for cls in type(current).__mro__):
            return current
        current = current.__cause__ or current.__context__
    return None

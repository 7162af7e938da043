"""One Kedro dataset version per Step Functions execution.

Every Lambda task of one execution must save (and load) versioned datasets under
the same version, so the version is derived from the event, never from the clock:

1. ``event["version"]`` when given: a Kedro version (``2026-11-27T16.44.28.146Z``)
   or an ISO 8601 UTC time (``2026-11-27T16:44:28.146Z``, what Step Functions'
   ``$$.Execution.StartTime`` holds). Best choice: sortable and unique per run.
2. Else a UTC timestamp embedded in ``run_id`` (the execution name), written
   ``2026-11-27T16.44.28.146Z``, ``2026-11-27T16-44-28Z`` or ``20261127T164428Z``.
3. Else a hash of ``run_id`` mapped to a time in 1970-1979: still a valid Kedro
   version, the same for every task of the run, and older than any real version,
   so it never becomes the "latest" version other readers load.

Versions have Kedro's shape (``VERSION_FORMAT`` truncated to milliseconds), so
they sort as text like the versions ``kedro run`` writes.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

_DATED = re.compile(
    r"(?<!\d)(\d{4})-(\d{2})-(\d{2})T(\d{2})[.:-](\d{2})[.:-](\d{2})(?:[.,](\d{1,9}))?(Z|[+-]00:?00)?(?!\d)"
)
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{0,6})Z?(?!\d)")
_HASH_SPAN_MS = 10 * 365 * 24 * 3600 * 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def format_version(moment: datetime) -> str:
    """Return ``moment`` (UTC) as a Kedro version string with millisecond precision."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H.%M.%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime | None:
    """Return the first UTC timestamp written in ``text`` (see the module doc), or None."""
    for pattern in (_DATED, _COMPACT):
        for match in pattern.finditer(text):
            year, month, day, hour, minute, second, fraction = match.groups()[:7]
            digits = (fraction or "")[:6].ljust(6, "0")
            try:
                return datetime(
                    int(year), int(month), int(day), int(hour), int(minute), int(second),
                    int(digits), tzinfo=timezone.utc,
                )
            except ValueError:
                continue
    return None


def hashed_version(run_id: str) -> str:
    """Return a Kedro version in 1970-1979 derived from a hash of ``run_id``."""
    digest = int(hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:16], 16)
    return format_version(_EPOCH + timedelta(milliseconds=digest % _HASH_SPAN_MS))


def version_for(run_id: str, explicit: str | None = None) -> str:
    """Return the dataset version for the run ``run_id`` by the rule in the module doc.

    Raises ValueError when ``explicit`` is given but holds no timestamp.
    """
    if explicit:
        moment = parse_timestamp(explicit)
        if moment is None:
            raise ValueError(
                f"The event's 'version' {explicit!r} is not a timestamp: pass a Kedro version "
                "like 2026-11-27T16.44.28.146Z or an ISO 8601 UTC time like "
                "2026-11-27T16:44:28.146Z ($$.Execution.StartTime)."
            )
        return format_version(moment)
    moment = parse_timestamp(run_id)
    return format_version(moment) if moment is not None else hashed_version(run_id)

"""One warning about an input: a code, one sentence, and the field it is about."""

from __future__ import annotations

from dataclasses import asdict, dataclass

DEPTH_LIMIT = "depth_limit"
SHORT_INTERVAL = "short_interval"
OUTSIDE_CALIBRATION = "outside_calibration"
SESSIONS_AFTER_END = "sessions_after_end"


@dataclass(frozen=True)
class Advisory:
    """A non-blocking warning: ``code`` (one of the constants above), ``message``, ``field``."""

    code: str
    message: str
    field: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

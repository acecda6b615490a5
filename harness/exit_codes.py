"""The process exit codes every `b4a` subcommand uses, in one place."""
from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    #: Everything checked holds (all MUST rules pass; in strict mode all SHOULD rules too).
    OK = 0
    #: The contract is broken: an invalid payload, a failed MUST rule, stale docs.
    VIOLATION = 1
    #: We could not check: bad usage, unreadable input, bad profile, unreachable target.
    ERROR = 2

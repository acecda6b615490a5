"""Project test configuration: tables that tests publish (mutation self-test, e2e) are printed at the end."""
from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # `record_property("b4a_summary", text)` travels in the report, so this works under xdist too.
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed"):
        for name, value in getattr(report, "user_properties", ()):
            if name == "b4a_summary":
                terminalreporter.write_sep("-", f"{report.nodeid.split('::')[-1]}")
                terminalreporter.write_line(str(value))


pytest_plugins = ["pytester"]

"""The Buddy4all conformance suite that `b4a run` executes (shipped in the wheel).

Each module checks one family or concern (its `FAMILY` names it for `--only` and reports); each
check drives a real flow with fresh users through the target profile and carries the rule ids it
proves as `@pytest.mark.rule(...)` markers.
"""

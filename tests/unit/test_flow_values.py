"""Flow values: ids compare as numbers, date-times as instants, schedules are made at run time."""
from __future__ import annotations

import datetime

import pytest

from harness.flow_values import canonical, future_instant, instant, same


@pytest.mark.parametrize("got, expected", [
    (42, "42"), ("42", 42), (42, 42),
    ("2027-03-14T15:09:26Z", "2027-03-14T15:09:26.000Z"),
    ("2027-03-14T15:09:26.000Z", "2027-03-14T15:09:26+00:00"),
    ("2027-03-14T16:09:26+01:00", "2027-03-14T15:09:26Z"),
    ("2027-03-14t15:09:26z", "2027-03-14T15:09:26Z"),
    (None, None), ("hello", "hello"), ({"id": 3}, {"id": 3}),
])
def test_the_same_value_in_another_spelling_is_the_same(got, expected):
    assert same(got, expected)


@pytest.mark.parametrize("got, expected", [
    (42, 43), ("42", 43), (True, 1), (1, True), (False, 0),
    ("2027-03-14T15:09:26Z", "2027-03-14T15:09:27Z"),
    ("2027-03-14T15:09:26.001Z", "2027-03-14T15:09:26Z"),
    ("2027-03-14T15:09:26.000000001Z", "2027-03-14T15:09:26Z"),  # nanoseconds count too
    (None, ""), ("", None), ("null", None),
    ("2027-03-14 15:09:26", "2027-03-14T15:09:26Z"),  # not RFC 3339: compared as text
    ("hello", "Hello"),
])
def test_different_values_differ(got, expected):
    assert not same(got, expected)


def test_instant_reads_rfc_3339_only():
    assert instant("2027-03-14T15:09:26.5+02:30") == (datetime.datetime(2027, 3, 14, 12, 39, 26, 500000, tzinfo=datetime.timezone.utc), 0)
    assert instant("2027-02-30T00:00:00Z") is None  # no such day
    assert instant("2027-03-14T15:09:26") is None  # no offset
    assert canonical("007") == 7 and canonical("x7") == "x7"


def test_future_instant_is_whole_seconds_days_ahead_in_utc():
    now = datetime.datetime(2026, 11, 30, 22, 15, 7, 987654, tzinfo=datetime.timezone.utc)
    assert future_instant(7, now=now) == "2026-12-07T22:15:07Z"
    made = future_instant()
    moment, _ = instant(made)
    ahead = moment - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=6, hours=23) < ahead <= datetime.timedelta(days=7) and made.endswith("Z") and "." not in made

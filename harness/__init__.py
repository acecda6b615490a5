"""Buddy4all notification conformance kit."""

"""Emulators of the services a Buddy4all backend talks to (FCM HTTP v1)."""

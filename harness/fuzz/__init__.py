"""`b4a fuzz`: requests generated from the target's OpenAPI document, sent as a pool of connected
users, every notification they cause judged (see harness/fuzz/session.py for the run)."""

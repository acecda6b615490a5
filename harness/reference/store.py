"""SQLite persistence: one connection, every action in its own serialised transaction."""
from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from harness.reference.models import Call, ChatMessage, ChatThread, Friendship, GameSession, User

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, token TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    expires_at REAL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS devices (
    user_id INTEGER NOT NULL REFERENCES users(id), token TEXT NOT NULL,
    PRIMARY KEY (user_id, token));
CREATE TABLE IF NOT EXISTS friendships (
    id INTEGER PRIMARY KEY AUTOINCREMENT, creator_id INTEGER NOT NULL REFERENCES users(id),
    invitee_id INTEGER NOT NULL REFERENCES users(id), status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS friendships_invitee ON friendships (invitee_id, status);
CREATE TABLE IF NOT EXISTS game_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, game_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id), partner_id INTEGER NOT NULL REFERENCES users(id),
    state TEXT NOT NULL, game_level INTEGER NOT NULL, scheduled_at TEXT);
CREATE TABLE IF NOT EXISTS chat_threads (
    id INTEGER PRIMARY KEY AUTOINCREMENT, low_id INTEGER NOT NULL, high_id INTEGER NOT NULL,
    UNIQUE (low_id, high_id));
CREATE TABLE IF NOT EXISTS chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER NOT NULL REFERENCES chat_threads(id),
    sender_id INTEGER NOT NULL REFERENCES users(id), text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, caller_id INTEGER NOT NULL REFERENCES users(id),
    callee_id INTEGER NOT NULL REFERENCES users(id), session_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL, scheduled_at TEXT);
"""


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Store:
    """All reads and writes. Writers use `transaction()`, so check-then-update is atomic."""

    def __init__(self, path: str) -> None:
        # One connection shared by the event loop and the push workers, guarded by a lock:
        # SQLite serialises writers anyway, and this keeps ":memory:" one database.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE .. COMMIT under the lock; ROLLBACK if the body raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, *args: object) -> tuple | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, *args: object) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # users and devices
    def create_user(self, name: str) -> User:
        token = secrets.token_urlsafe(24)
        with self.transaction() as db:
            cursor = db.execute("INSERT INTO users (name, token) VALUES (?, ?)", (name, token))
            db.execute("INSERT INTO tokens (token, user_id) VALUES (?, ?)", (token, cursor.lastrowid))
        return User(int(cursor.lastrowid or 0), name, token)

    def user_by_token(self, token: str, *, expired_ok: bool = False, revoked_ok: bool = False,
                      as_pattern: bool = False) -> User | None:
        """The user a token signs in, if it is issued, unexpired and not revoked.

        The keywords are the security faults' bugs: accepting expired or revoked tokens, and
        comparing with SQL LIKE (so `%` matches the first token issued).
        """
        compare = "t.token LIKE ?" if as_pattern else "t.token = ?"
        row = self._one(f"SELECT u.id, u.name, t.token, t.expires_at, t.revoked FROM tokens t"
                        f" JOIN users u ON u.id = t.user_id WHERE {compare} ORDER BY t.rowid LIMIT 1",
                        token)
        if row is None:
            return None
        expired = row[3] is not None and row[3] <= time.time()
        if expired and not expired_ok or row[4] and not revoked_ok:
            return None
        return User(*row[:3])

    def issue_token(self, user_id: int, expires_in: int | None) -> tuple[str, float | None]:
        """Another token for the user (a second sign-in); `expires_in` seconds from now (0: born
        expired, for clients testing their handling of expiry), None: no expiry."""
        token = secrets.token_urlsafe(24)
        expires_at = None if expires_in is None else time.time() + expires_in
        with self.transaction() as db:
            db.execute("INSERT INTO tokens (token, user_id, expires_at) VALUES (?, ?, ?)",
                       (token, user_id, expires_at))
        return token, expires_at

    def revoke_token(self, token: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute("UPDATE tokens SET revoked = 1 WHERE token = ? AND revoked = 0", (token,))
        return cursor.rowcount > 0

    def user(self, user_id: int) -> User | None:
        row = self._one("SELECT id, name, token FROM users WHERE id = ?", user_id)
        return User(*row) if row else None

    def add_device(self, user_id: int, token: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO devices (user_id, token) VALUES (?, ?)",
                       (user_id, token))

    def remove_device(self, user_id: int, token: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM devices WHERE user_id = ? AND token = ?",
                                (user_id, token))
        return cursor.rowcount > 0

    def device_tokens(self, user_id: int) -> list[str]:
        rows = self._all("SELECT token FROM devices WHERE user_id = ? ORDER BY rowid", user_id)
        return [row[0] for row in rows]

    # friendships
    def friendship(self, friendship_id: int) -> Friendship | None:
        row = self._one("SELECT id, creator_id, invitee_id, status FROM friendships WHERE id = ?",
                        friendship_id)
        return Friendship(*row) if row else None

    def friendships_of(self, user_id: int) -> list[Friendship]:
        rows = self._all(
            "SELECT id, creator_id, invitee_id, status FROM friendships"
            " WHERE creator_id = ? OR invitee_id = ? ORDER BY id", user_id, user_id)
        return [Friendship(*row) for row in rows]

    def active_friendship_exists(self, db: sqlite3.Connection, a: int, b: int) -> bool:
        """A pending request either way, or an accepted friendship, between a and b."""
        row = db.execute(
            "SELECT 1 FROM friendships WHERE status IN ('pending', 'accepted') AND"
            " ((creator_id = ? AND invitee_id = ?) OR (creator_id = ? AND invitee_id = ?))",
            (a, b, b, a)).fetchone()
        return row is not None

    def insert_friendship(self, db: sqlite3.Connection, creator_id: int,
                          invitee_id: int) -> Friendship:
        cursor = db.execute(
            "INSERT INTO friendships (creator_id, invitee_id, status) VALUES (?, ?, 'pending')",
            (creator_id, invitee_id))
        return Friendship(int(cursor.lastrowid or 0), creator_id, invitee_id, "pending")

    def open_requests(self, db: sqlite3.Connection, user_id: int,
                      outgoing: bool = False) -> int:
        """Pending requests addressed to `user_id`; call inside the transaction that changed them.

        `outgoing` also counts the ones `user_id` sent (the open-requests-counts-outgoing fault).
        """
        row = db.execute("SELECT count(*) FROM friendships WHERE invitee_id = ? AND status = ?",
                         (user_id, "pending")).fetchone()
        if outgoing:
            row = (row[0] + db.execute(
                "SELECT count(*) FROM friendships WHERE creator_id = ? AND status = ?",
                (user_id, "pending")).fetchone()[0],)
        return int(row[0])

    # game sessions
    def game_session(self, session_id: int) -> GameSession | None:
        row = self._one("SELECT id, game_id, user_id, partner_id, state, game_level, scheduled_at"
                        " FROM game_sessions WHERE id = ?", session_id)
        if row is None:
            return None
        session_id, game_id, user_id, partner_id, state, game_level, scheduled_at = row
        return GameSession(session_id, game_id, user_id, partner_id, state, game_level, scheduled_at=_time(scheduled_at))

    def create_game_session(self, game_id: int, user_id: int, partner_id: int, game_level: int,
                            scheduled_at: datetime | None) -> GameSession:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO game_sessions (game_id, user_id, partner_id, state, game_level,"
                " scheduled_at) VALUES (?, ?, ?, 'requested', ?, ?)",
                (game_id, user_id, partner_id, game_level, _text(scheduled_at)))
        return GameSession(int(cursor.lastrowid or 0), game_id, user_id, partner_id, "requested",
                           game_level, scheduled_at)

    def update_game_session(self, db: sqlite3.Connection, session_id: int,
                            expected: tuple[str, ...], state: str, game_level: int | None) -> bool:
        """Compare-and-set the state (and level, if given); False if the state moved meanwhile."""
        marks = ", ".join("?" for _ in expected)
        cursor = db.execute(
            f"UPDATE game_sessions SET state = ?, game_level = coalesce(?, game_level)"
            f" WHERE id = ? AND state IN ({marks})", (state, game_level, session_id, *expected))
        return cursor.rowcount > 0

    # chat
    def chat_thread(self, thread_id: int) -> ChatThread | None:
        row = self._one("SELECT id, low_id, high_id FROM chat_threads WHERE id = ?", thread_id)
        return ChatThread(row[0], (row[1], row[2])) if row else None

    def open_chat_thread(self, a: int, b: int) -> tuple[ChatThread, bool]:
        """The thread of the pair, and whether it was created now (unique pair: no race)."""
        low, high = min(a, b), max(a, b)
        with self.transaction() as db:
            cursor = db.execute("INSERT OR IGNORE INTO chat_threads (low_id, high_id) VALUES (?, ?)",
                                (low, high))
            created = cursor.rowcount > 0
            row = db.execute("SELECT id FROM chat_threads WHERE low_id = ? AND high_id = ?",
                             (low, high)).fetchone()
        return ChatThread(int(row[0]), (low, high)), created

    def add_chat_message(self, thread_id: int, sender_id: int, text: str) -> ChatMessage:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO chat_messages (thread_id, sender_id, text) VALUES (?, ?, ?)",
                (thread_id, sender_id, text))
        return ChatMessage(int(cursor.lastrowid or 0), thread_id, sender_id, text)

    # calls
    def call(self, call_id: int) -> Call | None:
        row = self._one("SELECT id, caller_id, callee_id, session_id, status, scheduled_at"
                        " FROM calls WHERE id = ?", call_id)
        if row is None:
            return None
        call_id, caller_id, callee_id, session_id, status, scheduled_at = row
        return Call(call_id, caller_id, callee_id, session_id, status, scheduled_at=_time(scheduled_at))

    def create_call(self, caller_id: int, callee_id: int, status: str,
                    scheduled_at: datetime | None = None) -> Call:
        # OpenVidu-like session id: "ses_" and 16 url-safe characters
        session_id = "ses_" + secrets.token_urlsafe(12)
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO calls (caller_id, callee_id, session_id, status, scheduled_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (caller_id, callee_id, session_id, status, _text(scheduled_at)))
        return Call(int(cursor.lastrowid or 0), caller_id, callee_id, session_id, status,
                    scheduled_at)

    def set_status(self, db: sqlite3.Connection, table: str, row_id: int,
                   expected: tuple[str, ...], new: str) -> bool:
        """Compare-and-set `status` of a friendship or call; False if it moved meanwhile."""
        if table not in ("friendships", "calls"):
            raise ValueError(f"no status column in {table}")
        marks = ", ".join("?" for _ in expected)
        cursor = db.execute(f"UPDATE {table} SET status = ? WHERE id = ? AND status IN ({marks})",
                            (new, row_id, *expected))
        return cursor.rowcount > 0

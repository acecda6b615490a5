"""Security probes: stream isolation, tokens (malformed, expired, revoked), hostile frames,
connection churn, the browser Origin policy and hostile action input (rules SEC-001 to SEC-010).

Each probe is bounded in count and time (a couple of hundred connections at most, a few seconds
at most) and judges only what it observed: a part the profile does not declare (security.tokens,
security.origins) leaves its rule unjudged (SKIP "not reached"), never PASS.
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest
import websocket

from harness.check import CouldNotCheck
from harness.listener import ConnectError, Listener, probe
from harness.listener.actioncable import identifier_text
from harness.templating import render_text

FAMILY = "security"
rule = pytest.mark.rule

#: query / identifier keys a backend might (wrongly) take a user id from
USER_PARAMS = ("user_id", "user", "userId", "uid")
#: many connections of one user, and the reconnect storm (connections opened and closed)
MANY_CONNECTIONS = 50
STORM_CONNECTIONS = 200
#: the storm stops at this many seconds, whatever it reached (bounded in time as in count)
STORM_SECONDS = 6.0
STORM_THREADS = 8
#: how long a plain socket must stay open to count as accepted (refusals are answered at once)
ACCEPTED_AFTER = 0.5
#: browser origins no target allows
FOREIGN_ORIGINS = ("https://b4a-attacker.invalid", "null")


# ---------------------------------------------------------------------------- helpers
def _connection(check, user, label: str, *, url: str | None = None, headers: dict[str, str] | None = None,
                identifier: Any = "profile") -> Listener:
    """One more WebSocket connection as the profile opens them, outside the check's users (so
    the check neither expects copies nor sends quiet markers on it), with parts replaced."""
    ws = check.target.profile.websocket
    return Listener(url if url is not None else check.target.websocket_url(user),
                    framing=ws.framing, identifier=ws.identifier if identifier == "profile" else identifier,
                    headers=headers if headers is not None else check.target.websocket_headers(user),
                    label=label, transcript=check.transcript)


def _open(check, listeners: Iterable[Listener]) -> list[Listener]:
    """Connect every listener at once; the ones the target refused are noted, not errors."""
    listeners = list(listeners)
    refused: dict[str, str] = {}

    def connect(listener: Listener) -> None:
        try:
            listener.connect(timeout=check.ws_deadline + 3)
        except ConnectError as exc:
            refused[listener.label] = exc.reason

    threads = [threading.Thread(target=connect, args=(listener,), daemon=True) for listener in listeners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for label, reason in refused.items():
        check.transcript.record("note", label, text=f"refused: {reason}")
    return [listener for listener in listeners if listener.label not in refused]


def _with_query(url: str, params: dict[str, Any]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _identifier(check) -> dict[str, Any]:
    return json.loads(identifier_text(check.target.profile.websocket.identifier) or "{}")


def _chat(check, sender, recipient, text: str):
    """A chat message with a text no other check sends, expected on the recipient's connections."""
    posted = check.require_ok(check.act("chat.post", sender, recipient, text=text))
    check.expect("chat/new_message", posted, actor=sender,
                 recipients={recipient: {"message": text, "thread/id": posted.vars["thread_id"]}})
    return posted


def _texts(listener: Listener) -> list[str]:
    return [r.payload.get("message") for r in listener.messages() if isinstance(r.payload, dict)]


def _wait_text(listener: Listener, texts: Iterable[str], timeout: float) -> bool:
    wanted = set(texts)
    found = listener.wait_for(lambda r: isinstance(r.payload, dict) and r.payload.get("message") in wanted, timeout)
    return found is not None


def _unique(what: str) -> str:
    return f"{what} {uuid.uuid4().hex[:10]}"


def _accepted(check, label: str, url: str, headers: dict[str, str], *, identifier: Any = "profile"):
    """probe() with the profile's framing: how the target answered a connection attempt."""
    ws = check.target.profile.websocket
    return probe(url, framing=ws.framing, identifier=ws.identifier if identifier == "profile" else identifier,
                 headers=headers, wait=ACCEPTED_AFTER, label=label, transcript=check.transcript)


def _probe_all(check, attempts: dict[str, tuple[str, dict[str, str]]]) -> dict[str, Any]:
    """Probe every (url, headers) at once; label -> Refusal, or ConnectError when unreachable."""
    def one(item: tuple[str, tuple[str, dict[str, str]]]) -> tuple[str, Any]:
        label, (url, headers) = item
        try:
            return label, _accepted(check, label, url, headers)
        except ConnectError as exc:
            return label, exc
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(one, attempts.items()))


# ---------------------------------------------------------------------------- SEC-001
@rule("SEC-001")
def test_a_tampered_subscription_receives_only_its_own_users_notifications(check):
    """A's extra connections ask for B's stream: a user id in the socket URL, an ActionCable identifier naming B (with extra params), a second subscribe naming B, and A's token in the URL with B's token in a header. B and A then get chat messages: each tampered connection of A receives A's only; the mixed one one user's only."""
    a = check.user("A")
    b = check.user("B")
    check.connect()
    target = check.target
    named_b = {key: b.id for key in USER_PARAMS}
    tampered = [_connection(check, a.user, "A with B's id in the URL", url=_with_query(target.websocket_url(a.user), named_b))]
    cable = target.profile.websocket.framing == "actioncable"
    if cable:
        tampered.append(_connection(check, a.user, "A subscribing with B's id", identifier={**_identifier(check), **named_b}))
        tampered.append(_connection(check, a.user, "A subscribing twice, then naming B"))
    mixed = _mixed_credentials(check, a, b)
    opened = _open(check, tampered + ([mixed] if mixed else []))
    if cable and tampered[-1] in opened:
        second = tampered[-1]
        for identifier in (_identifier(check), {**_identifier(check), **named_b}):
            second.send(json.dumps({"command": "subscribe", "identifier": json.dumps(identifier, separators=(",", ":"))}))
    try:
        for_b, for_a, last_for_b = _unique("for B only"), _unique("for A"), _unique("for B, last")
        _chat(check, a, b, for_b)
        _chat(check, b, a, for_a)
        _chat(check, a, b, last_for_b)
        for listener in opened:
            # copies reach a connection in order: once A's (or, for B's, the last) has arrived, an
            # earlier copy of the other user's would have arrived before it
            if not _wait_text(listener, (for_a, last_for_b), check.ws_deadline):
                check.could_not_judge(f"{listener.label} received neither user's chat message within "
                                      f"{check.ws_deadline:g} s, so what it would receive is unknown")
                continue
            check.judge("SEC-001")
            texts = _texts(listener)
            if listener is mixed:
                owners = {"A" for t in texts if t == for_a} | {"B" for t in texts if t in (for_b, last_for_b)}
                if len(owners) > 1:
                    check.violation("SEC-001", f"{listener.label} received both A's and B's chat messages",
                                    source=listener.label)
            else:
                leaked = [t for t in texts if t in (for_b, last_for_b)]
                if leaked:
                    check.violation("SEC-001", f"{listener.label} (signed in as A) received B's chat message "
                                    f"{leaked[0]!r}", source=listener.label)
    finally:
        for listener in tampered + ([mixed] if mixed else []):
            listener.close()


def _mixed_credentials(check, a, b) -> Listener | None:
    """A's socket URL with B's token in the headers (the profile's upgrade headers, and its REST
    auth header); None when the profile's URL carries no token to mix with."""
    target = check.target
    if target.websocket_url(a.user) == target.unauthenticated_websocket_url():
        return None
    headers = dict(target.websocket_headers(b.user))
    auth = target.profile.auth
    if auth.header:
        headers[auth.header] = render_text(auth.format, {"token": b.user.token, "actor": b.user, "user": b.user,
                                                          "name": b.user.name})
    return _connection(check, a.user, "A's URL with B's token in a header", headers=headers)


# ---------------------------------------------------------------------------- SEC-002, SEC-003
@rule("SEC-002", "SEC-003")
def test_a_malformed_or_expired_token_is_refused(check):
    """Connections with tokens never issued but crafted to confuse a lookup (SQL wildcards and quotes, A's token with a suffix, cut short or in another case, a 4 KB token) are refused; so is an expired token of A, where the profile says how to get one."""
    a = check.user("A", connections=0, devices=0)
    token = str(a.user.token)
    malformed = {
        "a SQL wildcard": "%", "a single-character wildcard": "_" * len(token), "a SQL quote": "' OR '1'='1",
        "A's token with a suffix": token + "x", "A's token cut short": token[:-1],
        "A's token in another case": token.swapcase() if token.swapcase() != token else token + "X",
        "a 4 KB token": "A" * 4096, "JavaScript's null": "null",
    }
    attempts = {}
    for what, value in malformed.items():
        user = dataclasses.replace(a.user, token=value)
        attempts[f"token: {what}"] = (check.target.websocket_url(user), check.target.websocket_headers(user))
    expired = None
    if check.target.profile.security.expired_token is not None:
        expired = dataclasses.replace(a.user, token=check.target.expired_token(a.user))
        attempts["an expired token"] = (check.target.websocket_url(expired), check.target.websocket_headers(expired))
    for label, result in _probe_all(check, attempts).items():
        rule_id = "SEC-003" if label == "an expired token" else "SEC-002"
        if isinstance(result, ConnectError):
            if "4 KB" in label:  # a server may drop a request line that long: a refusal too
                check.judge(rule_id)
                continue
            raise CouldNotCheck(f"could not reach the WebSocket endpoint: {result}")
        check.judge(rule_id)
        if not result.refused:
            check.violation(rule_id, f"a connection with {label.removeprefix('token: ')} was accepted ({result.how})",
                            source=label)


# ---------------------------------------------------------------------------- SEC-004, SEC-005, SEC-006
@rule("SEC-004", "SEC-005", "SEC-006")
def test_a_revoked_token_is_refused_and_its_open_connection_ends(check):
    """A signs in a second time and connects with that token, then signs that token out: the open connection receives nothing more and should be closed, a new connection with it is refused, and A's first token keeps receiving."""
    target = check.target
    if target.profile.security.issue_token is None or target.profile.security.revoke_token is None:
        pytest.skip("the profile declares no security.tokens.issue and security.tokens.revoke")
    a = check.user("A")
    b = check.user("B")
    check.connect()
    second = target.issue_token(a.user)
    session = _connection(check, second, "A (second token)")
    if not _open(check, [session]):
        raise CouldNotCheck("a connection with A's second token (security.tokens.issue) was refused before it was revoked")
    try:
        before = _unique("before the sign-out")
        _chat(check, b, a, before)
        if not _wait_text(session, (before,), check.ws_deadline):
            raise CouldNotCheck("the connection with A's second token received nothing before the sign-out, "
                                "so that it receives nothing after it proves nothing")
        revoked = target.revoke_token(second)
        deadline = revoked.responded_at + check.ws_deadline
        after = _unique("after the sign-out")
        _chat(check, b, a, after)  # reaches A's first connection (expected there)
        session.wait_for(lambda r: False, max(0.0, deadline - time.monotonic()))  # returns at the close
        check.judge("SEC-006")
        if session.is_open:
            check.violation("SEC-006", f"the connection with A's revoked token was still open {check.ws_deadline:g} s "
                            "after the sign-out", source=session.label)
        check.finish()  # A's first connection got `after` and its marker: `after` went out
        if not check.problems:
            check.judge("SEC-005")
            if after in _texts(session):
                check.violation("SEC-005", "the connection with A's revoked token received a chat message sent "
                                "after the sign-out", source=session.label)
        refusal = _accepted(check, "a revoked token", target.websocket_url(second), target.websocket_headers(second))
        check.judge("SEC-004")
        if not refusal.refused:
            check.violation("SEC-004", f"a new connection with A's revoked token was accepted ({refusal.how})",
                            source="a revoked token")
    finally:
        session.close()


# ---------------------------------------------------------------------------- SEC-007
@rule("SEC-007")
def test_hostile_client_frames_disturb_no_other_connection(check):
    """A second connection of A sends frames that are not JSON, a binary frame, unknown commands and channels, JSON nested 100,000 deep and a 1 MiB frame; then A chats to B twice. B receives both within the delivery deadline, counted from the hostile frames."""
    a = check.user("A")
    b = check.user("B")
    check.connect()
    rude = _connection(check, a.user, "A (hostile frames)")
    if not _open(check, [rude]):
        raise CouldNotCheck("A's extra connection for the hostile frames was refused")
    try:
        identifier = json.dumps(_identifier(check) or {"channel": "NotificationsChannel"})
        frames: list[str | bytes] = [
            "not json", "{", json.dumps({"command": "explode", "identifier": identifier}),
            json.dumps({"command": "subscribe", "identifier": json.dumps({"channel": "NoSuchChannel"})}),
            json.dumps({"command": "message", "identifier": identifier, "data": "{}"}),
            b"\x00\xff" * 64, "[" * 100_000, json.dumps({"pad": "x" * 2**20}),
        ]
        for frame in frames:
            rude.send(frame)
        sent = time.monotonic()
        events = [_chat(check, a, b, _unique("after the hostile frames")) for _ in range(2)]
        check.judge("SEC-007")
        for event in (check.events[-2], check.events[-1]):
            for listener in b.listeners:
                copy = event.ws.get(listener.label)
                if copy is None:
                    check.violation("SEC-007", f"after A's hostile frames, {listener.label} did not receive a chat "
                                    f"message within {check.ws_deadline:g} s", source=listener.label)
                elif copy.t - sent > check.ws_deadline + _took(events):
                    check.violation("SEC-007", f"after A's hostile frames, {listener.label} received a chat message only "
                                    f"{copy.t - sent:.1f} s later (the backend stalled)", source=listener.label)
    finally:
        rude.close()


def _took(actions) -> float:
    """What the actions' own requests took on a healthy backend: their time is not the stall's."""
    return sum(min(action.responded_at - action.started_at, 0.5) for action in actions)


# ---------------------------------------------------------------------------- SEC-008
@rule("SEC-008")
def test_each_of_fifty_connections_of_one_user_receives(check):
    """B opens 50 connections (the target may refuse some beyond its limit); A invites B: every connection still open receives it, and A, another user, still gets B's chat."""
    a = check.user("A")
    b = check.user("B")
    check.connect()
    extra = _open(check, [_connection(check, b.user, f"B extra {n}") for n in range(2, MANY_CONNECTIONS + 1)])
    check.transcript.record("note", "harness", text=f"B has {len(extra) + 1} of {MANY_CONNECTIONS} connections open")
    try:
        text = _unique("for all of B's connections")
        _chat(check, a, b, text)
        deadline = time.monotonic() + check.ws_deadline
        check.judge("SEC-008")
        deaf = [l.label for l in extra if l.is_open and not _wait_text(l, (text,), max(0.0, deadline - time.monotonic()))
                and l.is_open]
        if deaf:
            check.violation("SEC-008", f"{len(deaf)} of B's {len(extra) + 1} open connections received nothing "
                            f"(first: {deaf[0]})", source=deaf[0])
        _served_after(check, b, a)
    finally:
        for listener in extra:
            listener.close()


@rule("SEC-008")
def test_a_reconnect_storm_leaves_the_open_connections_receiving(check):
    """While B keeps one connection open, B's client opens and closes 200 more in a few seconds (a reconnect loop); then A chats to B and B to A: B's open connection and A still receive."""
    a = check.user("A")
    b = check.user("B")
    check.connect()
    made, seconds = _storm(check, b)
    check.transcript.record("note", "harness", text=f"reconnect storm: {made} connections opened and closed in {seconds:.1f} s")
    if made < STORM_CONNECTIONS // 2:
        raise CouldNotCheck(f"the reconnect storm opened only {made} of {STORM_CONNECTIONS} connections in {seconds:.1f} s")
    _served_after(check, a, b)
    _served_after(check, b, a)


def _storm(check, sim) -> tuple[int, float]:
    """Open and close STORM_CONNECTIONS connections of the user, STORM_THREADS at a time, for at
    most STORM_SECONDS (plain sockets; ActionCable ones read their welcome before closing)."""
    target = check.target
    url, headers = target.websocket_url(sim.user), target.websocket_headers(sim.user)
    cable = target.profile.websocket.framing == "actioncable"
    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    header = [f"{k}: {v}" for k, v in headers.items() if k.lower() != "origin"]
    started = time.monotonic()
    stop = started + STORM_SECONDS
    count = [0]
    lock = threading.Lock()

    def worker() -> None:
        while time.monotonic() < stop:
            with lock:
                if count[0] >= STORM_CONNECTIONS:
                    return
                count[0] += 1
            try:
                ws = websocket.create_connection(url, timeout=2, header=header, origin=origin,
                                                 subprotocols=["actioncable-v1-json"] if cable else None)
                if cable:
                    ws.recv()  # the welcome: the server has the connection
                ws.close()
            except (OSError, websocket.WebSocketException):
                pass  # a target may refuse a flood: only the open connections' deliveries are judged

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(STORM_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count[0], time.monotonic() - started


def _served_after(check, sender, recipient) -> None:
    """A chat after the churn: every connection of the recipient the check keeps receives it."""
    _chat(check, sender, recipient, _unique("after the churn"))
    event = check.events[-1]
    check.judge("SEC-008")
    for listener in recipient.listeners:
        if listener.label not in event.ws:
            check.violation("SEC-008", f"after the connection churn, {listener.label} (still open) received no "
                            f"chat message within {check.ws_deadline:g} s", source=listener.label)


# ---------------------------------------------------------------------------- SEC-009
@rule("SEC-009")
def test_a_browser_origin_the_target_does_not_allow_is_refused(check):
    """With A's valid token, upgrades from each declared browser origin are accepted, and from other origins (another site, a look-alike host, the sandboxed "null") refused."""
    allowed = check.target.profile.security.allowed_origins
    if not allowed:
        pytest.skip("the profile declares no security.origins.allowed")
    a = check.user("A", connections=0, devices=0)
    url, headers = check.target.websocket_url(a.user), check.target.websocket_headers(a.user)
    welcome = [_connection(check, a.user, f"Origin {origin}", headers={**headers, "Origin": origin}) for origin in allowed]
    opened = _open(check, welcome)
    for listener in opened:
        listener.close()
    if len(opened) < len(welcome):
        raise CouldNotCheck("an origin security.origins.allowed declares was refused (see the transcript): the "
                            "declaration does not match the target, so what it refuses says nothing")
    look_alike = allowed[0].rstrip("/") + ".b4a-attacker.invalid"
    foreign = {f"Origin {origin}": (url, {**headers, "Origin": origin}) for origin in (*FOREIGN_ORIGINS, look_alike)}
    for label, result in _probe_all(check, foreign).items():
        if isinstance(result, ConnectError):
            raise CouldNotCheck(f"could not reach the WebSocket endpoint: {result}")
        check.judge("SEC-009")
        if not result.refused:
            check.violation("SEC-009", f"an upgrade with {label} and a valid token was accepted ({result.how})",
                            source=label)


# ---------------------------------------------------------------------------- SEC-010
#: action -> hostile parameter values (bounded: a dozen requests)
HOSTILE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("game.create", {"game_level": 2**31}), ("game.create", {"game_level": 2**63}), ("game.create", {"game_level": -1}),
    ("game.create", {"scheduled_at": "9999-99-99T99:99:99Z"}), ("game.create", {"scheduled_at": "not a date"}),
    ("chat.post", {"text": "x" * 16_384}), ("chat.post", {"text": "\u0000\u202e<script>alert(1)</script>"}),
    ("call.schedule", {"scheduled_at": "0000-00-00T00:00:00Z"}),
)


@rule("SEC-010")
def test_hostile_input_to_actions_is_answered_without_a_server_error(check):
    """A sends B actions with values past every limit: levels beyond 32 and 64 bits, a negative level, dates that are no dates, a 16 KB text, control characters, and a friendship request to an id no user has. Each is refused with a 4xx or accepted; none is answered with a 5xx or a dropped connection."""
    from harness.target import TargetError, Unsupported

    a = check.user("A", connections=0, devices=0)
    b = check.user("B", connections=0, devices=0)
    ghost = dataclasses.replace(b.user, label="nobody", id=2**63 + 1)
    attempts: list[tuple[str, Callable[[], Any]]] = [
        (f"{action} with {', '.join(f'{k}={_shown(v)}' for k, v in params.items())}",
         lambda action=action, params=params: check.target.act(action, a.user, b.user, **params))
        for action, params in HOSTILE]
    attempts.append(("friendship.request to the id 2**63 + 1", lambda: check.target.act("friendship.request", a.user, ghost)))
    for what, attempt in attempts:
        try:
            result = attempt()
        except Unsupported:
            continue
        except TargetError as exc:
            check.violation("SEC-010", f"{what}: {exc}", source="A")
            continue
        check.judge("SEC-010")
        check.actions.append(result)  # in "Reproduce with"
        check.transcript.record("note", "harness", text=f"{what}: HTTP {result.status}")


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return json.dumps(text[:20] + f"... ({len(text)} characters)") if len(text) > 40 else json.dumps(value)

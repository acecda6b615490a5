"""The commented starting profile `b4a profile init` writes: every key explained, valid as written.

It describes a typical REST API (JSON bodies, bearer tokens, `/api/v1` prefix) so a team edits
paths and pointers rather than starting from a blank page; tests load it for both framings.
"""
from __future__ import annotations

__all__ = ["FRAMINGS", "starter_profile"]

FRAMINGS = ("plain", "actioncable")

_WEBSOCKET = {
    "plain": '''\
# Where each simulated device connects. A path joins the ORIGIN of base_url (scheme, host, port),
# not its /api/v1 path: http://127.0.0.1:3000/api/v1 + /ws -> ws://127.0.0.1:3000/ws. A full
# ws:// or wss:// URL (http/https are converted) is taken as is. {{token}} is the user's token.
websocket:
  url: "/ws?token={{token}}"
  # plain: every notification is one JSON text frame. (actioncable: Rails ActionCable broadcasts.)
  framing: plain
  # Headers sent on the upgrade (templated); credentials here are left out for the
  # unauthenticated checks. Example: {Authorization: "Bearer {{token}}"}
  headers: {}
''',
    "actioncable": '''\
# Where each simulated device connects. A path joins the ORIGIN of base_url (scheme, host, port),
# not its /api/v1 path: Rails mounts /cable at the host root, so http://127.0.0.1:3000/api/v1
# + /cable -> ws://127.0.0.1:3000/cable. {{token}} is the user's token.
websocket:
  url: "/cable?token={{token}}"
  # actioncable: the harness subscribes to `identifier` and reads each broadcast's `message`.
  framing: actioncable
  identifier: {channel: NotificationsChannel}
  # Headers sent on the upgrade (templated). Rails checks the Origin against
  # config.action_cable.allowed_request_origins.
  headers:
    Origin: ${B4A_ORIGIN:-http://localhost:3000}
''',
}

_TEMPLATE = '''\
# Target profile for `b4a run --target THIS_FILE`: how the conformance harness drives your backend.
# Written by `b4a profile init`; adapt paths, bodies and JSON pointers to your API, then run
# `b4a profile check THIS_FILE` after every edit: it names the key path of every mistake and
# shows what each action receives and extracts. Reference: docs/profile.md.
#
# Two kinds of substitution:
#   ${VAR} / ${VAR:-default}  environment variables, resolved once when the profile is loaded
#                             (an unset VAR without a default is an error).
#   {{name}}                  per-request values: actor / user (the acting user: .id .token .name),
#                             other (the counterpart), token, name, the values the action receives
#                             and what its earlier steps extracted. A JSON string that is exactly one
#                             placeholder keeps the value's type ("{{other.id}}" -> 42).

# Shown in reports.
name: my-backend

# The HTTP API base; step paths are appended after its own path (here /api/v1).
# `b4a run --base-url URL` overrides it, even when B4A_BASE_URL is unset.
base_url: ${B4A_BASE_URL:-http://127.0.0.1:3000/api/v1}

# One HTTP request longer than this makes the check an ERROR (target unreachable).
timeouts:
  http_seconds: 10

# How long after an action's HTTP response a notification may arrive (the contract's defaults).
deadlines:
  websocket_seconds: 2.0
  push_seconds: 5.0

# Negative checks without a marker event wait this long for anything unexpected.
quiet_window_seconds: 0.5

# Your call ring timeout: user_not_responding is expected after it.
ring_timeout_seconds: 30

# Where a user's token goes on every request (a step with `auth: false` sends none): a header
# with a format, or a query parameter instead (auth: {query: access_token}).
auth:
  header: Authorization
  format: "Bearer {{token}}"

# Creating one fresh user per simulated person. {{name}} is unique per user; the steps together
# must extract `id` and `token` (JSON pointers into the response bodies).
users:
  create:
    - method: POST
      path: /users
      auth: false
      json: {user: {name: "{{name}}", email: "{{name}}@example.test", password: "${B4A_USER_PASSWORD:-conformance-secret}"}}
      expect_status: [201]
      extract: {id: /id, token: /token}

# Registering an FCM device token ({{device_token}}) for the acting user. Leave it out and the
# push checks SKIP.
devices:
  register:
    - {method: POST, path: /devices, json: {token: "{{device_token}}"}}

# How the harness knows a user has no open connection any more: a request and a JSON pointer to
# a boolean (true: online), or a fixed wait instead (presence: {settle_seconds: 1.0}).
presence:
  request: {method: GET, path: "/users/{{user.id}}/presence"}
  online: /online

@WEBSOCKET@
# How your backend reaches FCM during a run: proxy (through the emulator's HTTPS proxy; works
# with unmodified firebase-admin), base_url (configured with the emulator's URL), or none (push
# checks SKIP).
fcm:
  mode: proxy

# The game id game.create sends as {{game_id}}: a fixed id of your catalogue or seed data...
games:
  game_id: 1
# ...or look one up once per run (as a fresh user); the steps must extract game_id:
#   games:
#     lookup:
#       - {method: GET, path: /games, extract: {game_id: /0/id}}

# One list of HTTP steps per abstract action; a step's extractions are placeholders for the later
# steps. Leave an action out and the checks that need it SKIP. What each action receives and must
# extract: `b4a profile check`, or docs/profile.md.
actions:
  # The actor asks {{other}} to be friends; extract the friendship id the next actions use.
  friendship.request:
    - {method: POST, path: /friendships, json: {friend_id: "{{other.id}}"}, extract: {friendship_id: /id}}
  friendship.cancel:
    - {method: POST, path: "/friendships/{{friendship_id}}/cancel"}
  friendship.accept:
    - {method: POST, path: "/friendships/{{friendship_id}}/accept"}
  friendship.reject:
    - {method: POST, path: "/friendships/{{friendship_id}}/reject"}
  friendship.terminate:
    - {method: POST, path: "/friendships/{{friendship_id}}/terminate"}

  # A game session: game.create must extract session_id (and may extract game_id).
  game.create:
    - method: POST
      path: /game_sessions
      json: {game_id: "{{game_id}}", partner_id: "{{other.id}}", game_level: "{{game_level}}", scheduled_at: "{{scheduled_at}}"}
      extract: {session_id: /id}
  # One endpoint taking the new state ({{state}}; {{from_state}} is the state before)...
  game.transition:
    - {method: PATCH, path: "/game_sessions/{{session_id}}", json: {state: "{{state}}"}}
  # ...or one endpoint per transition: declare any of these and it is used for its state.
  # game.accept:  [{method: POST, path: "/game_sessions/{{session_id}}/accept"}]
  # game.reject:  [{method: POST, path: "/game_sessions/{{session_id}}/reject"}]
  # game.start:   [{method: POST, path: "/game_sessions/{{session_id}}/start"}]
  # game.finish:  [{method: POST, path: "/game_sessions/{{session_id}}/finish"}]
  # game.cancel:  [{method: POST, path: "/game_sessions/{{session_id}}/cancel"}]
  # game.resume:  [{method: POST, path: "/game_sessions/{{session_id}}/resume"}]

  # Chat: open (or find) the thread with {{other}}, then post {{text}}; extract thread_id.
  chat.post:
    - {method: POST, path: /chat_threads, json: {participant_id: "{{other.id}}"}, extract: {thread_id: /id}}
    - {method: POST, path: "/chat_threads/{{thread_id}}/messages", json: {text: "{{text}}"}}

  # Calls: call.request and call.schedule must extract call_id and call_session_id.
  call.request:
    - {method: POST, path: /calls, json: {callee_id: "{{other.id}}"}, extract: {call_id: /id, call_session_id: /session_id}}
  call.accept:
    - {method: POST, path: "/calls/{{call_id}}/accept"}
  call.reject:
    - {method: POST, path: "/calls/{{call_id}}/reject"}
  call.terminate:
    - {method: POST, path: "/calls/{{call_id}}/terminate"}
  call.schedule:
    - {method: POST, path: /calls, json: {callee_id: "{{other.id}}", scheduled_at: "{{scheduled_at}}"}, extract: {call_id: /id, call_session_id: /session_id}}

# The game transitions you implement. Left out: every transition of the contract's graph that
# the actions above can drive. A list narrows it, e.g.:
# supports:
#   game_transitions: ["requested->accepted", "requested->rejected", "accepted->started", "started->finished"]

# What the security checks (SEC rules) need; without it, the checks of expired and revoked tokens
# and of browser origins SKIP. issue: a second sign-in of the acting user (extract its token);
# expired: a token of the acting user that has expired; revoke: sign out the token the step
# authenticates with ({{token}}: the harness runs it with the second token). origins.allowed: the
# browser origins your WebSocket endpoint accepts (any other Origin should be refused).
# security:
#   tokens:
#     issue:   [{method: POST, path: /sessions, json: {}, extract: {token: /token}}]
#     expired: [{method: POST, path: /sessions, json: {expires_in: 0}, extract: {token: /token}}]
#     revoke:  [{method: DELETE, path: /sessions/current}]
#   origins:
#     allowed: ["https://app.example.com"]

# Latency budgets for `b4a load` (milliseconds after the action's HTTP response): the load run
# fails when a measured percentile exceeds one. Leave a key out for no budget.
# load:
#   p99_ms: 250
#   push_p99_ms: 1000
'''


def starter_profile(framing: str = "plain") -> str:
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be one of {', '.join(FRAMINGS)}, got {framing!r}")
    return _TEMPLATE.replace("@WEBSOCKET@\n", _WEBSOCKET[framing] + "\n")

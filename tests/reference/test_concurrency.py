"""Two users acting at once leave consistent state: exactly one of two racing actions wins."""
from __future__ import annotations

import threading
from collections.abc import Callable

import requests

from .support import Api, Listeners

ROUNDS = 15


def race(*actions: Callable[[], requests.Response]) -> list[int]:
    """Run the actions at the same instant (a barrier), return their status codes in order."""
    barrier = threading.Barrier(len(actions))
    codes: list[int] = [0] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        codes[index] = actions[index]().status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return codes


def test_cancel_and_accept_of_one_request_exactly_one_wins(api: Api, listen: Listeners) -> None:
    outcomes = set()
    for _ in range(ROUNDS):
        a, b = api.user("a"), api.user("b")
        friendship = api.ok(a, "/friendships", {"friend_id": b.id}, 201)
        a_ws, b_ws = listen(a), listen(b)
        path = f"/friendships/{friendship['id']}"
        # separate sessions: each thread has its own connection
        cancel, accept = Api(api.base_url), Api(api.base_url)
        codes = race(lambda: cancel.post(a, f"{path}/cancel"),
                     lambda: accept.post(b, f"{path}/accept"))
        assert sorted(codes) == [200, 409], codes
        [stored] = api.get(a, "/friendships").json()["friendships"]
        if codes[0] == 200:
            assert stored["status"] == "canceled"
            assert b_ws.next()["status"] == "canceled"
            assert a_ws.quiet(0.1) == []
        else:
            assert stored["status"] == "accepted"
            assert a_ws.next()["status"] == "accepted"
            assert b_ws.quiet(0.1) == []
        outcomes.add(stored["status"])
    assert outcomes <= {"canceled", "accepted"}


def test_mutual_requests_at_once_leave_one_pending_request(api: Api) -> None:
    for _ in range(ROUNDS):
        a, b = api.user("a"), api.user("b")
        one, two = Api(api.base_url), Api(api.base_url)
        codes = race(lambda: one.post(a, "/friendships", {"friend_id": b.id}),
                     lambda: two.post(b, "/friendships", {"friend_id": a.id}))
        assert sorted(codes) == [201, 409], codes
        assert len(api.get(a, "/friendships").json()["friendships"]) == 1


def test_both_opening_a_chat_at_once_get_the_same_thread(api: Api) -> None:
    for _ in range(ROUNDS):
        a, b = api.user("a"), api.user("b")
        one, two = Api(api.base_url), Api(api.base_url)
        ids: list[int] = []
        codes = race(lambda: _keep(ids, one.post(a, "/chat/threads", {"participant_id": b.id})),
                     lambda: _keep(ids, two.post(b, "/chat/threads", {"participant_id": a.id})))
        assert sorted(codes) == [200, 201] and ids[0] == ids[1]


def test_cancel_and_reject_of_one_game_session_exactly_one_wins(api: Api) -> None:
    # both end the session (no transition leaves canceled or rejected), so one must lose
    for _ in range(ROUNDS):
        a, b = api.user("a"), api.user("b")
        session = api.ok(a, "/games/sessions", {"game_id": 1, "partner_id": b.id}, 201)
        path = f"/games/sessions/{session['id']}/state"
        one, two = Api(api.base_url), Api(api.base_url)
        codes = race(lambda: one.post(a, path, {"state": "canceled"}),
                     lambda: two.post(b, path, {"state": "rejected"}))
        assert sorted(codes) == [200, 409], codes


def _keep(ids: list[int], response: requests.Response) -> requests.Response:
    ids.append(response.json()["id"])
    return response

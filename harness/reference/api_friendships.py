"""REST handlers for friendships and the notifications each change sends."""
from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.reference import payloads
from harness.reference.auth import caller
from harness.reference.errors import conflict, forbidden, not_found
from harness.reference.models import Friendship, User
from harness.reference.rest import read_body, respond, respond_list
from harness.reference.state import Backend, Notification
from harness.reference.validation import Body, other_user, path_id

#: action -> (who may do it, required status, new status)
ACTIONS: dict[str, tuple[str, str, str]] = {
    "cancel": ("creator", "pending", "canceled"),
    "accept": ("invitee", "pending", "accepted"),
    "reject": ("invitee", "pending", "rejected"),
    "terminate": ("either", "accepted", "terminated"),
}
#: the patch-state style: PATCH {"friendship": {"status": S}} -> action (cancel is DELETE)
PATCH_STATUSES: dict[str, str] = {"accepted": "accept", "rejected": "reject",
                                  "terminated": "terminate"}
#: late-delivery fault: how long the friendship `canceled` notification is held back
LATE_SECONDS = 3.0


def view(friendship: Friendship) -> dict[str, object]:
    return {"id": friendship.id, "creator_id": friendship.creator_id,
            "invitee_id": friendship.invitee_id, "status": friendship.status}


def _open_requests(backend: Backend, db: sqlite3.Connection, *user_ids: int) -> dict[int, int]:
    """Each user's open_requests, inside the transaction that changed them."""
    outgoing = "open-requests-counts-outgoing" in backend.faults
    return {uid: backend.store.open_requests(db, uid, outgoing) for uid in user_ids}


def _notifications(backend: Backend, status: str, actor: int, recipient: int,
                   open_requests: dict[int, int]) -> list[Notification]:
    """The recipient's notification (friend_id is always the actor, as seen from there)."""
    faults = backend.faults
    push = (status == "new_request" and "missing-push" not in faults
            or status == "canceled" and "push-on-websocket-only" in faults)
    notes = [Notification(recipient, payloads.friendship(
        status, recipient, actor, open_requests[recipient], faults), push)]
    if "echo-to-actor" in faults:
        notes.append(Notification(actor, payloads.friendship(
            status, actor, recipient, open_requests[actor], faults)))
    return notes


async def create(request: Request) -> JSONResponse:
    backend, user = caller(request)
    body = await read_body(request, "friendship", "friend_id")
    friend_id = body.ident("friend_id")
    body.done()
    store = backend.store
    other_user(store, user.id, "friend_id", friend_id, "user")
    with store.transaction() as db:
        if store.active_friendship_exists(db, user.id, friend_id):
            raise conflict("a request is already pending between you, or you are already friends")
        friendship = store.insert_friendship(db, user.id, friend_id)
        counts = _open_requests(backend, db, user.id, friend_id)
    await backend.notify(_notifications(backend, "new_request", user.id, friend_id, counts))
    return respond(request, view(friendship), 201)


async def listing(request: Request) -> JSONResponse:
    backend, user = caller(request)
    return respond_list(request, "friendships",
                        [view(f) for f in backend.store.friendships_of(user.id)])


async def collection(request: Request) -> JSONResponse:
    """One route for GET and POST, so a 405 lists both methods in its Allow header."""
    return await (listing(request) if request.method == "GET" else create(request))


async def transition(request: Request) -> JSONResponse:
    """POST /friendships/{id}/{action} (default and verbs styles)."""
    backend, user = caller(request)
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise not_found("endpoint")
    return await _apply(request, backend, user, action)


async def patch_or_delete(request: Request) -> JSONResponse:
    """The patch-state style: PATCH /friendships/{id} with a status, DELETE to cancel."""
    backend, user = caller(request)
    if request.method == "DELETE":
        return await _apply(request, backend, user, "cancel")
    # this body is wrapped whether or not the envelope style is on: it is the PATCH convention
    body = await Body.read(request, "status", wrapper="friendship")
    status = body.choice("status", tuple(PATCH_STATUSES))
    body.done()
    return await _apply(request, backend, user, PATCH_STATUSES[status])


async def _apply(request: Request, backend: Backend, user: User, action: str) -> JSONResponse:
    store = backend.store
    friendship = store.friendship(path_id(request, "id", "friendship"))
    if friendship is None:
        raise not_found("friendship")
    role, required, new = ACTIONS[action]
    allowed = {"creator": (friendship.creator_id,), "invitee": (friendship.invitee_id,),
               "either": (friendship.creator_id, friendship.invitee_id)}[role]
    if user.id not in allowed:
        who = "either friend" if role == "either" else f"the {role}"
        raise forbidden(f"only {who} can {action} this friendship")
    recipient = friendship.other(user.id)
    with store.transaction() as db:
        # compare-and-set: of two concurrent actions on one request, exactly one wins
        changed = store.set_status(db, "friendships", friendship.id, (required,), new)
        counts = _open_requests(backend, db, user.id, recipient)
    if not changed:
        if action == "accept" and "notify-refused-action" in backend.faults:
            await backend.notify(_notifications(backend, new, user.id, recipient, counts))
        current = store.friendship(friendship.id)
        status = current.status if current else "gone"
        raise conflict(f"cannot {action}: the friendship is {status}, not {required}")
    notes = _notifications(backend, new, user.id, recipient, counts)
    if new == "canceled" and "late-delivery" in backend.faults:
        backend.notify_later(LATE_SECONDS, notes)
    else:
        await backend.notify(notes)
    return respond(request, view(Friendship(friendship.id, friendship.creator_id,
                                            friendship.invitee_id, new)))

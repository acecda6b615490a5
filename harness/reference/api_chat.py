"""REST handlers for chat threads and messages."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from harness.reference import payloads
from harness.reference.auth import caller
from harness.reference.errors import forbidden, not_found
from harness.reference.rest import read_body, respond
from harness.reference.state import Notification
from harness.reference.validation import other_user, path_id


async def open_thread(request: Request) -> JSONResponse:
    backend, user = caller(request)
    body = await read_body(request, "chat_thread", "participant_id")
    participant_id = body.ident("participant_id")
    body.done()
    other_user(backend.store, user.id, "participant_id", participant_id, "user")
    thread, created = backend.store.open_chat_thread(user.id, participant_id)
    return respond(request, payloads.thread_view(thread), 201 if created else 200)


async def post_message(request: Request) -> JSONResponse:
    backend, user = caller(request)
    thread = backend.store.chat_thread(path_id(request, "id", "chat thread"))
    if thread is None:
        raise not_found("chat thread")
    body = await read_body(request, "message", "text")
    text = body.string("text", 1, 4000)
    body.done()
    if user.id not in thread.participant_ids:
        raise forbidden("you are not a participant of this chat thread")
    message = backend.store.add_chat_message(thread.id, user.id, text)
    recipient = next(uid for uid in thread.participant_ids if uid != user.id)
    payload = payloads.chat_message(text, thread, backend.faults)
    notes = [Notification(recipient, payload, push=True)]
    if "leak-to-third" in backend.faults:
        notes += [Notification(uid, payload) for uid in backend.hub.online_users()
                  if uid != recipient]
    await backend.notify(notes)
    # the envelope style nests the thread as a resource of its own
    where = ({"thread": {"id": thread.id}} if backend.conventions.envelope
             else {"thread_id": thread.id})
    return respond(request, {"id": message.id, **where, "sender_id": user.id, "text": text}, 201)

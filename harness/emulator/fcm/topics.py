"""FCM v1 topic subscriptions (`registrations/{token}/topicSubscriptions`), as firebase-admin 7.x calls them."""
from __future__ import annotations

import time
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from harness.emulator.fcm.condition import TOPIC_NAME
from harness.emulator.fcm.errors import FcmRejection, SendRejected, fcm_error
from harness.emulator.fcm.fcm_api import FcmApi
from harness.emulator.fcm.responses import json_response

ROUTE = "/v1/projects/{project}/registrations/{rest:path}"


class TopicApi:
    """Subscribe (POST ...?topic_name=) and unsubscribe (DELETE .../{topic}?allow_missing=)."""

    def __init__(self, fcm: FcmApi) -> None:
        self.fcm = fcm
        self.state = fcm.state

    async def handle(self, request: Request) -> Response:
        project = request.path_params["project"]
        # Tokens arrive percent-encoded (`:` as %3A, `/` as %2F): split the raw path, then decode.
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        tail = raw_path.split("/registrations/", 1)[1].split("/")
        try:
            self.fcm.authorize(request.headers.get("authorization"), project)
            if len(tail) == 2 and tail[1] == "topicSubscriptions" and request.method == "POST":
                return self._subscribe(project, unquote(tail[0]), request)
            if len(tail) == 3 and tail[1] == "topicSubscriptions" and request.method == "DELETE":
                return self._unsubscribe(unquote(tail[0]), unquote(tail[2]), request)
        except SendRejected as rejected:
            return _reject(rejected.rejection)
        return _reject(FcmRejection(404, "NOT_FOUND", "Requested entity was not found.", "NOT_FOUND"))

    def _subscribe(self, project: str, token: str, request: Request) -> Response:
        query = request.query_params
        topic = query.get("topic_name", query.get("topicName", ""))
        self._check(token, topic)
        topics = self.state.subscriptions.setdefault(token, set())
        if topic in topics:
            return _reject(FcmRejection(409, "ALREADY_EXISTS", "Requested entity already exists.", "ALREADY_EXISTS"))
        topics.add(topic)
        created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return json_response({"name": f"projects/{project}/registrations/{token}/topicSubscriptions/{topic}",
                              "topic_name": topic, "create_time": created})

    def _unsubscribe(self, token: str, topic: str, request: Request) -> Response:
        self._check(token, topic)
        query = request.query_params
        allow_missing = query.get("allow_missing", query.get("allowMissing", "false")).lower() == "true"
        topics = self.state.subscriptions.get(token, set())
        if topic not in topics and not allow_missing:
            return _reject(FcmRejection(404, "NOT_FOUND", "Requested entity was not found.", "NOT_FOUND"))
        topics.discard(topic)
        if not topics:
            self.state.subscriptions.pop(token, None)
        return json_response({})

    def _check(self, token: str, topic: str) -> None:
        if not TOPIC_NAME.fullmatch(topic):
            raise SendRejected(fcm_error("INVALID_ARGUMENT", f"Invalid topic name: {topic!r}", field_path="topic_name"))
        token_state = self.state.token_state(token)
        if token_state == "unregistered" or (token_state is None and self.state.strict_tokens):
            raise SendRejected(fcm_error("UNREGISTERED", explanation=f"token {token!r} is not registered"))


def _reject(rejection: FcmRejection) -> Response:
    return json_response(rejection.body(), rejection.http_status, dict(rejection.headers) or None)

"""Transcript entries rendered as steps: one-line summaries and pretty detail blocks per kind."""
from __future__ import annotations

from harness.report.timeline import as_text, pretty, step


def test_http_step() -> None:
    s = step({"t": 0.5, "kind": "http", "label": "A", "method": "POST", "url": "http://h:1/a/b?x=1",
              "request_headers": {"Accept": "*/*"}, "request_body": {"k": 1}, "status": 422,
              "response_body": '{"error": "bad"}', "elapsed_ms": 4.2, "error": None})
    assert (s.t, s.who, s.kind, s.summary, s.error) == (0.5, "A", "http", "POST /a/b?x=1 -> 422 (4.2 ms)", True)
    assert dict(s.texts())["response body (422)"] == '{\n  "error": "bad"\n}'
    assert dict(s.texts())["request headers"] == "Accept: */*"
    assert dict(s.details)["request body"] == {"k": 1}  # the value as recorded, for the HTML report's data
    assert s.duration_ms == 4.2 and not s.marker


def test_http_transport_error() -> None:
    s = step({"t": 0, "kind": "http", "label": "A", "method": "GET", "url": "http://h/x", "status": None,
              "error": "connection refused"})
    assert s.summary == "GET /x -> error: connection refused" and s.error


def test_frame_and_push_steps_name_the_notification() -> None:
    frame = step({"t": 1, "kind": "frame", "label": "B#1", "direction": "in", "framing": "actioncable",
                  "text": '{"message_type": "openvidu_status", "status": "requested"}'})
    assert frame.summary == "received openvidu_status requested [actioncable]"
    push = step({"t": 2, "kind": "push", "label": "B device 1", "token": "dev-1", "http_status": 404,
                 "message": {"token": "dev-1", "data": {"type": "api_chat_message", "status": "new_message"}}})
    assert push.summary == "push api_chat_message new_message to device dev-1 (HTTP 404)" and push.error
    sent = step({"t": 3, "kind": "frame", "label": "B#1", "direction": "out", "text": "ping"})
    assert sent.summary == "sent frame" and dict(sent.details)["frame"] == "ping"


def test_note_and_unknown_kinds() -> None:
    assert step({"t": 0, "kind": "note", "label": "harness", "text": "settled"}).summary == "settled"
    odd = step({"t": 0, "kind": "sse", "label": "x", "data": [1]})
    assert odd.summary == "sse" and '"data"' in dict(odd.texts())["entry"]
    connect = step({"t": 0, "kind": "note", "label": "B#1", "event": "connect", "url": "ws://h/ws?token=***",
                    "framing": "plain", "headers": {}, "subprotocols": None})
    assert connect.summary == "connect ws://h/ws?token=***" and dict(connect.details) == {"details": {"framing": "plain"}}


def test_marker_traffic_is_flagged() -> None:
    """The harness's proof-of-quiet chat messages are told apart from the flow's own traffic."""
    post = step({"t": 1, "kind": "http", "label": "M", "method": "POST", "url": "http://h/chat/threads/3/messages",
                 "request_body": {"text": "b4a-marker 7a24"}, "status": 201, "elapsed_ms": 2.0})
    frame = step({"t": 1.1, "kind": "frame", "label": "A#1", "direction": "in",
                  "text": '{"message": "b4a-marker 7a24", "message_type": "api_chat_message"}'})
    cable = step({"t": 1.1, "kind": "frame", "label": "A#1", "direction": "in",
                  "text": '{"identifier": "x", "message": {"message": "b4a-marker 7a24"}}'})
    push = step({"t": 1.2, "kind": "push", "label": "A device 1", "token": "t",
                 "message": {"token": "t", "data": {"type": "api_chat_message", "message": "b4a-marker 7a24"}}})
    chat = step({"t": 1.3, "kind": "frame", "label": "A#1", "direction": "in",
                 "text": '{"message": "hello b4a-marker ", "message_type": "api_chat_message"}'})
    assert (post.marker, frame.marker, cable.marker, push.marker, chat.marker) == (True, True, True, True, False)


def test_pretty_keeps_text_that_is_not_json() -> None:
    assert pretty("{not json") == "{not json"
    assert pretty("plain") == "plain"
    assert pretty([1, {"a": None}]) == '[\n  1,\n  {\n    "a": null\n  }\n]'


def test_as_text_lines() -> None:
    text = as_text([{"t": 0.25, "kind": "note", "label": "harness", "text": "hello"}])
    assert text == "+   0.250s  harness        note  hello"

// Subscribes to NotificationsChannel with the real @rails/actioncable client and prints, one JSON
// line each, "connected", every received payload, and "rejected"/"disconnected" events.
// Usage: node cable_client.js ws://127.0.0.1:PORT/cable?token=T [ChannelName]
"use strict";
const WebSocket = require("ws");
// @rails/actioncable expects a browser: a global WebSocket and window-level event listeners.
globalThis.WebSocket = WebSocket;
globalThis.addEventListener = () => {};
globalThis.removeEventListener = () => {};
const ActionCable = require("@rails/actioncable");

const [url, channel = "NotificationsChannel"] = process.argv.slice(2);
if (!url) {
  console.error("usage: node cable_client.js WS_URL [CHANNEL]");
  process.exit(2);
}
const say = (event, data) => process.stdout.write(JSON.stringify({ event, data }) + "\n");
const consumer = ActionCable.createConsumer(url);
// a disconnect frame (e.g. unauthorized) arrives on the connection, not on the subscription;
// patch before the first subscription opens the socket (handlers are bound at open)
const original = consumer.connection.events.message;
consumer.connection.events.message = function (event) {
  const frame = JSON.parse(event.data);
  if (frame.type === "disconnect") say("server_disconnect", frame);
  return original.call(this, event);
};
consumer.subscriptions.create({ channel }, {
  connected() { say("connected", consumer.connection.getProtocol()); },
  disconnected(details) { say("disconnected", details || null); },
  rejected() { say("rejected", null); },
  received(data) { say("received", data); },
});
process.stdin.on("end", () => { consumer.disconnect(); process.exit(0); });
process.stdin.resume();

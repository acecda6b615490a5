"""How a profile's paths become URLs: step paths after base_url's path, WebSocket paths at its origin.

The WebSocket rule: `websocket.url` may be absolute (ws://, wss://, or http://, https:// which are
converted), or a path starting with `/`, which joins the ORIGIN of base_url (scheme, host, port), not
its path. Real apps mount their socket at the host root while their REST API sits under a prefix
(Rails: /cable beside /api/v1), so the API prefix belongs to base_url only.
"""
from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["api_url", "websocket_origin", "websocket_url"]

_WS_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def api_url(base_url: str, path: str) -> str:
    """`http://h/api/v1` + `/users` -> `http://h/api/v1/users` (a trailing / on base_url is dropped)."""
    return base_url.rstrip("/") + path


def websocket_origin(base_url: str) -> str:
    """`https://h:8443/api/v1` -> `wss://h:8443`."""
    parts = urlsplit(base_url)
    return f"{_WS_SCHEMES[parts.scheme]}://{parts.netloc}"


def websocket_url(base_url: str, url: str) -> str:
    """The connection URL for an already rendered websocket.url (see the module docstring)."""
    if url.startswith("/"):
        return websocket_origin(base_url) + url
    scheme, separator, rest = url.partition("://")
    return f"{_WS_SCHEMES.get(scheme.lower(), scheme)}{separator}{rest}"

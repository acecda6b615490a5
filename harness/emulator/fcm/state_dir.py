"""A kept state directory: opened with readable errors, and the ports it was set up with.

The CA (tls.py) and the issued service accounts (oauth.py) live there too. The ports matter because
a service account's `token_uri` and the printed env block name them: a backend configured from
`b4a emulator fcm --init-only --port 9099 ...` only keeps working if later runs listen there again.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

PORTS_FILE = "ports.json"
#: The listeners whose ports a state directory remembers (host mode is opt-in on every run).
REMEMBERED = ("port", "proxy_port")


class EmulatorSetupError(RuntimeError):
    """The state directory or the credentials file cannot be used; the message names the path."""


def open_state_dir(path: Path) -> Path:
    """Create `path` if needed and make sure the emulator can write there."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise EmulatorSetupError(f"state directory {path} exists and is not a directory") from None
    except OSError as exc:
        raise EmulatorSetupError(f"cannot create state directory {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise EmulatorSetupError(f"state directory {path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise EmulatorSetupError(f"state directory {path} is not writable")
    return path


def remembered_ports(directory: Path) -> dict[str, int]:
    """The fixed ports an earlier run of this state directory listened on ({} if none)."""
    file = directory / PORTS_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise EmulatorSetupError(f"unreadable {file}: {exc}") from None
    if not isinstance(data, dict):
        raise EmulatorSetupError(f"{file} must hold a JSON object like {{\"port\": 9099}}")
    ports: dict[str, int] = {}
    for name in REMEMBERED:
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise EmulatorSetupError(f"{file}: {name!r} must be a port 1..65535, got {value!r}")
        ports[name] = value
    return ports


def remember_ports(directory: Path, ports: dict[str, int]) -> None:
    """Record the fixed (non-zero) ports; a later run that names none listens on these."""
    fixed = {name: ports[name] for name in REMEMBERED if ports.get(name)}
    if fixed == remembered_ports(directory):
        return
    file = directory / PORTS_FILE
    try:
        file.write_text(json.dumps(fixed, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise EmulatorSetupError(f"cannot write {file}: {exc.strerror or exc}") from None


def write_private_json(path: Path, content: object) -> None:
    """Write a JSON file holding a private key: mode 0600 from the start, replaced atomically.

    Atomic so that a reader polling for the file never sees half of it.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(json.dumps(content, indent=2) + "\n")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise

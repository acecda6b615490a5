"""The target environment a command runs against: the embedded reference backend and FCM emulator
(no --target), or a team's backend described by its profile (with an emulator started for it).

Shared by `b4a run` and `b4a fuzz` (and any command that drives a backend), so that each starts,
preflights and stops the environment the same way. Every failure is a `SetupError` with one line;
the command prints it after its own name and exits 2.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SetupError", "add_embedded_options", "add_external_options", "check_options", "embedded", "environment",
           "external", "preflight", "profile_dir"]


class SetupError(Exception):
    """Cannot start or reach the environment: bad usage, bad profile, unreachable target. One line, exit 2."""


def profile_dir() -> Path:
    from harness.contract import data_dir

    return Path(str(data_dir("fixtures"))) / "profiles"


def add_external_options(parser: argparse.ArgumentParser) -> None:
    """--target and what goes with a team's backend (the options `b4a run` documents)."""
    parser.add_argument("--target", metavar="PROFILE", help="target profile YAML; without it the bundled reference backend and FCM emulator are started on loopback")
    parser.add_argument("--base-url", help="override the profile's base_url")
    parser.add_argument("--emulator", metavar="URL", help="use an FCM emulator already running at URL instead of starting one")
    parser.add_argument("--emulator-port", type=int, default=0, metavar="N", help="with --target: start the FCM emulator on this port (default: a free one), so a backend can be configured before the run")
    parser.add_argument("--emulator-proxy-port", type=int, default=0, metavar="N", help="with --target: the emulator's CONNECT proxy port (default: a free one)")
    parser.add_argument("--emulator-state-dir", metavar="DIR", help="with --target: keep the emulator's CA and service accounts here, so a backend configured once keeps working across runs (see `b4a emulator fcm --state-dir`)")


def add_embedded_options(parser: argparse.ArgumentParser) -> None:
    """The embedded reference backend's switches."""
    parser.add_argument("--fault", action="append", default=[], metavar="NAME", help="embedded reference backend only: switch on a deliberate bug (see `b4a serve --list-faults`)")
    parser.add_argument("--framing", choices=("plain", "actioncable"), default="plain", help="embedded reference backend only: WebSocket framing to test (default: plain)")
    parser.add_argument("--style", choices=("default", "rails", "node"), default="default", help="embedded reference backend only: the API conventions it speaks (rails: /api/v1, {data: ...} envelopes, PATCH states, ActionCable; node: /v2, verb per game move, X-Auth-Token, string ids, millisecond dates, 401 upgrades), each with its own profile; see `b4a serve --list-styles`")


def check_options(args: argparse.Namespace) -> None:
    """The combinations of environment options that make no sense, as one-line SetupErrors."""
    if args.target is None and (args.base_url or args.emulator):
        raise SetupError("--base-url and --emulator need --target (the embedded backend chooses its own)")
    if args.target is None and (args.emulator_port or args.emulator_proxy_port or args.emulator_state_dir):
        raise SetupError("--emulator-port, --emulator-proxy-port and --emulator-state-dir need --target")
    if args.target is not None and (args.fault or args.framing != "plain" or args.style != "default"):
        raise SetupError("--fault, --framing and --style apply to the embedded reference backend only, not with --target")
    if args.style != "default" and args.framing != "plain":
        raise SetupError("--style picks its own framing (its profile's); leave out --framing")


def environment(args: argparse.Namespace, workdir: Path, command: str) -> contextlib.AbstractContextManager[tuple[Path, str, str | None]]:
    """`embedded` without --target, else `external`; yields (profile path, base URL, emulator URL or None)."""
    return embedded(args, workdir, command) if args.target is None else external(args, workdir, command)


@contextlib.contextmanager
def embedded(args: argparse.Namespace, workdir: Path, command: str = "run") -> Iterator[tuple[Path, str, str | None]]:
    """Start the FCM emulator and the reference backend; yield (profile, base_url, emulator url)."""
    from harness.emulator.fcm import FcmEmulator
    from harness.reference import ReferenceBackend, ReferenceBackendError

    from harness.reference.styles import BUNDLE_PROFILES

    if args.style != "default":
        name = BUNDLE_PROFILES[args.style]
    else:
        name = "reference.yaml" if args.framing == "plain" else "reference-cable.yaml"
    profile = profile_dir() / name
    print(f"b4a {command}: starting the FCM emulator and the reference backend{' with faults ' + ', '.join(args.fault) if args.fault else ''}...", file=sys.stderr)
    try:
        emulator = FcmEmulator().start()
    except (OSError, RuntimeError, ValueError) as exc:
        raise SetupError(f"the FCM emulator could not start: {str(exc).splitlines()[0]}") from None
    try:
        styles = (args.style,) if args.style != "default" else ()
        backend = ReferenceBackend(fcm_emulator_url=emulator.base_url, faults=args.fault, styles=styles).start()
    except ReferenceBackendError as exc:
        emulator.stop()
        raise SetupError(str(exc).splitlines()[0]) from None
    try:
        yield profile, backend.api_url, emulator.base_url
    finally:
        # both at once: each waits a moment for its connections to end
        stopping = threading.Thread(target=backend.stop)
        stopping.start()
        emulator.stop()
        stopping.join()


@contextlib.contextmanager
def external(args: argparse.Namespace, workdir: Path, command: str = "run") -> Iterator[tuple[Path, str, str | None]]:
    """A team's backend: load its profile; start an emulator for it unless one is given."""
    from harness.profile import ProfileError, load_profile

    profile_path = Path(args.target)
    overrides = {"base_url": args.base_url} if args.base_url else {}
    try:
        profile = load_profile(profile_path, overrides=overrides)
    except ProfileError as exc:
        raise SetupError(str(exc)) from None
    if args.emulator or profile.fcm_mode == "none":
        yield profile_path, profile.base_url, args.emulator
        return
    from harness.emulator.fcm import FcmEmulator
    from harness.emulator.fcm.command import env_block

    credentials = Path(args.emulator_state_dir or workdir) / "fcm-service-account.json"
    try:
        # the credentials file exists before the emulator answers on any port: a backend that
        # starts when the port opens reads a working service account
        emulator = FcmEmulator(port=args.emulator_port, proxy_port=args.emulator_proxy_port, state_dir=args.emulator_state_dir,
                               credentials_path=credentials).start()
    except (OSError, RuntimeError, ValueError) as exc:
        raise SetupError(f"the FCM emulator could not start: {str(exc).splitlines()[0]}") from None
    try:
        print(f"b4a {command}: FCM emulator at {emulator.base_url} (the profile says fcm.mode: {profile.fcm_mode}); "
              "point the backend at it with one of:", file=sys.stderr)
        print(env_block(emulator, credentials), file=sys.stderr)
        yield profile_path, profile.base_url, emulator.base_url
    finally:
        emulator.stop()


def preflight(profile_path: Path, base_url: str) -> str:
    """Check the target answers; return the profile's name for the report."""
    from harness.profile import ProfileError, load_profile
    from harness.target import Target, TargetError

    try:
        profile = load_profile(profile_path, overrides={"base_url": base_url})
        target = Target(profile)
        target.check_reachable()
        target.warm_up()
    except (ProfileError, TargetError) as exc:
        raise SetupError(f"target not usable: {exc}") from None
    return profile.name

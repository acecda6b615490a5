"""OAuth for the emulator: service accounts it issues, the JWT-bearer grant, access tokens."""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Either scope lets a token call FCM v1 (send reference page).
SEND_SCOPES = frozenset({
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
})
ACCESS_TOKEN_LIFETIME = 3599  # what Google answers; google-auth refreshes below 225 s
MAX_ACCESS_TOKENS = 10_000
#: Google refuses assertions that live longer than an hour ("short-lived token").
MAX_ASSERTION_LIFETIME = 3600
CLOCK_SKEW = 300


@dataclass(frozen=True)
class ServiceAccountKey:
    """The public half of a service account the emulator issued."""

    client_email: str
    key_id: str
    public_key_pem: str


@dataclass(frozen=True)
class AccessGrant:
    """What an access token stands for."""

    client_email: str
    project_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class TokenError:
    """An OAuth error answer, in Google's token-endpoint shape."""

    http_status: int
    error: str
    description: str

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class OAuthAuthority:
    """Issues service accounts, verifies their JWT grants, and recognises the tokens it grants.

    Service accounts are kept (public keys only) in `state_dir/service-accounts.json` when a
    state directory is given, so credentials written by one run still work in the next.
    """

    def __init__(self, project_id: str, state_dir: Path | None) -> None:
        self.project_id = project_id
        self._file = state_dir / "service-accounts.json" if state_dir is not None else None
        self._lock = threading.Lock()  # accounts are issued from the caller's thread too
        self._by_email: dict[str, ServiceAccountKey] = {}
        self._by_kid: dict[str, ServiceAccountKey] = {}
        self._tokens: OrderedDict[str, AccessGrant] = OrderedDict()
        if self._file is not None and self._file.exists():
            for entry in json.loads(self._file.read_text()):
                self._remember(ServiceAccountKey(**entry))

    def issue_service_account(self, token_uri: str) -> dict[str, Any]:
        """A fresh service-account JSON (new RSA key) that firebase-admin's Certificate accepts."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        client_id = str(secrets.randbelow(10**20)).zfill(21)
        email = f"b4a-emulator-{secrets.token_hex(4)}@{self.project_id}.iam.gserviceaccount.com"
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        with self._lock:
            self._remember(ServiceAccountKey(email, key_id, public_pem))
            if self._file is not None:
                entries = [vars(account) for account in self._by_email.values()]
                self._file.write_text(json.dumps(entries, indent=1))
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": key_id,
            "private_key": private_pem,
            "client_email": email,
            "client_id": client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
            "universe_domain": "googleapis.com",
        }

    def recognises(self, account: Any) -> bool:
        """True if `account` (a service-account JSON) is one this authority issued and would accept.

        Lets a kept state directory keep handing out the same credentials file across runs.
        """
        if not isinstance(account, dict) or account.get("project_id") != self.project_id:
            return False
        known = self._by_kid.get(str(account.get("private_key_id")))
        if known is None or known.client_email != account.get("client_email"):
            return False
        try:
            private = serialization.load_pem_private_key(str(account.get("private_key")).encode(), password=None)
        except (ValueError, TypeError):
            return False
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        return public_pem == known.public_key_pem

    def _remember(self, account: ServiceAccountKey) -> None:
        self._by_email[account.client_email] = account
        self._by_kid[account.key_id] = account

    def grant(self, form_body: bytes, audiences: tuple[str, ...]) -> dict[str, Any] | TokenError:
        """Answer a token request: an access token, or Google's error for the bad grant."""
        form = {key: values[-1] for key, values in parse_qs(form_body.decode("latin-1")).items()}
        if form.get("grant_type") != JWT_BEARER:
            return TokenError(400, "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return TokenError(400, "invalid_grant", "Invalid JWT: the assertion is not a JWT.")
        if header.get("alg") != "RS256":
            return TokenError(400, "invalid_grant", "Invalid JWT: the assertion must be signed with RS256.")
        # google-auth names the key (kid); Node's gtoken does not, so fall back to the issuer.
        account = self._by_kid.get(str(header.get("kid"))) if header.get("kid") else None
        account = account or self._by_email.get(str(claims.get("iss")))
        if account is None or account.client_email != claims.get("iss"):
            return TokenError(400, "invalid_grant", "Invalid grant: account not found")
        try:
            claims = jwt.decode(
                assertion,
                account.public_key_pem,
                algorithms=["RS256"],
                audience=list(audiences),
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=CLOCK_SKEW,
            )
        except jwt.InvalidSignatureError:
            return TokenError(400, "invalid_grant", "Invalid JWT Signature.")
        except jwt.InvalidAudienceError:
            return TokenError(400, "invalid_grant", f"Invalid JWT: Failed audience check. The right audience is {GOOGLE_TOKEN_URI}")
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            return _not_short_lived()
        except jwt.PyJWTError as exc:
            return TokenError(400, "invalid_grant", f"Invalid JWT: {exc}")
        if not isinstance(claims["iat"], (int, float)) or claims["exp"] - claims["iat"] > MAX_ASSERTION_LIFETIME:
            return _not_short_lived()
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            return TokenError(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = "ya29.b4a-emulator." + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = AccessGrant(
                account.client_email, self.project_id, scopes, time.time() + ACCESS_TOKEN_LIFETIME
            )
            while len(self._tokens) > MAX_ACCESS_TOKENS:
                self._tokens.popitem(last=False)
        return {"access_token": token, "expires_in": ACCESS_TOKEN_LIFETIME, "token_type": "Bearer"}

    def grant_for(self, access_token: str) -> AccessGrant | None:
        """What a bearer token stands for; None if the emulator never issued it or it expired."""
        grant = self._tokens.get(access_token)
        if grant is None or grant.expires_at < time.time():
            return None
        return grant


def bearer_token(authorization: str | None) -> str | None:
    """The token in an `Authorization: Bearer ...` header, if there is one."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip() or None


def _not_short_lived() -> TokenError:
    return TokenError(
        400,
        "invalid_grant",
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
        "Check your iat and exp values in the assertion and use a clock with skew to account for "
        "clock differences between systems.",
    )

"""The emulator's own CA and the certificate it presents for Google's FCM and OAuth host names."""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

#: Hosts an unmodified backend reaches: FCM v1 (send, topics), OAuth token, legacy IID topics.
GOOGLE_HOSTS = ("fcm.googleapis.com", "oauth2.googleapis.com", "iid.googleapis.com")


@dataclass(frozen=True)
class TlsFiles:
    """PEM files on disk: the CA a client must trust, and the server's chain and key."""

    ca_cert: Path
    server_chain: Path
    server_key: Path

    def server_context(self, alpn: tuple[str, ...]) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_chain, self.server_key)
        context.set_alpn_protocols(list(alpn))
        return context


def prepare_tls(directory: Path) -> TlsFiles:
    """Load the CA kept in `directory` (or create one) and issue the Google-host certificate.

    Keeping the CA lets a client that trusted `ca.pem` once keep trusting later runs.
    """
    ca_cert, ca_key = directory / "ca.pem", directory / "ca-key.pem"
    if ca_cert.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(ca_cert.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="Buddy4all FCM emulator")
        ca_cert.write_bytes(ca.cert_pem.bytes())
        ca_key.write_bytes(ca.private_key_pem.bytes())
        ca_key.chmod(0o600)
    server = ca.issue_cert(*GOOGLE_HOSTS)
    chain, key = directory / "google-hosts.pem", directory / "google-hosts-key.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    key.write_bytes(server.private_key_pem.bytes())
    key.chmod(0o600)
    return TlsFiles(ca_cert, chain, key)

"""HTTPS for the emulator: a throwaway certificate authority and the server's certificate.

Real IAM Identity Center is reached only over TLS, and corporate networks put their own CA
in the way; ``Emulator(tls=True)`` lets tests and demos exercise exactly that. The CA is made
with ``trustme`` (imported here, only when TLS is asked for: a test dependency) and lives as
long as the emulator object; its certificate is written to a private temporary file so that
``AWS_CA_BUNDLE`` or a profile's ``ca_bundle`` can point at it, and removed with the object.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import weakref
from typing import Any

__all__ = ["ThrowawayCA"]

# The names a client may use for a loopback emulator, whatever address it binds.
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def _trustme() -> Any:
    try:
        import trustme
    except ImportError as exc:  # pragma: no cover - only without the test extra
        raise RuntimeError(
            "Emulator(tls=True) needs the trustme package: pip install trustme "
            "(it is in ssooidc-jupyter's test extra)."
        ) from exc
    return trustme


class ThrowawayCA:
    """A CA made for this emulator, and a server certificate it signed for ``host``."""

    def __init__(self, host: str) -> None:
        trustme = _trustme()
        self._ca = trustme.CA(organization_name="ssooidc-jupyter emulator (throwaway)")
        names = dict.fromkeys((*_LOOPBACK_NAMES, host.strip("[]")) if host else _LOOPBACK_NAMES)
        names.pop("0.0.0.0", None)  # noqa: S104 - a wildcard bind is not a name to certify
        names.pop("::", None)
        self._leaf = self._ca.issue_cert(*names)
        self._dir = tempfile.mkdtemp(prefix="ssooidc-emulator-ca-")  # 0700
        self.ca_file = os.path.join(self._dir, "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_file)
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate, PEM (public: trusting it is the point)."""
        pem: bytes = self._ca.cert_pem.bytes()
        return pem

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._leaf.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA only."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self._ca.configure_trust(context)
        return context

    def close(self) -> None:
        self._cleanup()

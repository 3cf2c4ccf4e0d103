"""The HTTP surface over the service model: sockets, routes, wire formats, pages, SigV4.

It imports the model (``emulator.model``) and never the reverse: a request is parsed here,
answered by a model service, and its answer or failure spelled as AWS spells it.

==================  ==========================================================
``_server``         the threaded keep-alive server, fault delivery, the request log
``_api``            URL -> operation; the sso-oidc, portal and STS handlers
``_pages``          the verification, consent and start pages; the browser stand-in
``_wire``           the parsed request; AWS's success, error and fault formats
``_sigv4``          SigV4 verification (botocore's signer) and its error codes
``_tls``            the throwaway CA behind ``Emulator(tls=True)`` (imported lazily)
==================  ==========================================================
"""

from __future__ import annotations

from ._api import Api
from ._pages import Decision, consent_as_browser
from ._server import EmulatorHTTPServer, RequestLog

__all__ = ["Api", "Decision", "EmulatorHTTPServer", "RequestLog", "consent_as_browser"]

"""SigV4 signing of ``CreateTokenWithIAM`` through botocore (the ``aws`` extra).

We never implement SigV4 ourselves: botocore's signer and credential chain are the
reference, and importing them lazily keeps ``import ssooidc_jupyter`` light.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._exceptions import ConfigurationError, MissingDependencyError
from ._config import ClientConfig

__all__ = ["SIGNING_NAME", "load_credentials", "sign"]

SIGNING_NAME = "sso-oauth"


def _botocore() -> Any:
    try:
        import botocore.session
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError(
            "create_token_with_iam signs its request with SigV4 through botocore; install the "
            "aws extra: pip install 'ssooidc-jupyter[aws]'"
        ) from exc
    return botocore


def load_credentials(config: ClientConfig, operation: str) -> Any:
    """Resolve the credentials to sign with: explicit keys, a profile, or the default chain.

    Returns botocore credentials (possibly refreshable: frozen anew for every request).
    """
    if config.anonymous:
        raise ConfigurationError(
            f"{operation} must be signed with AWS credentials, but this client was made with "
            "anonymous credentials; make it with credentials={'creds': {...}} or "
            "{'profile': ...}, or drop 'anonymous'."
        )
    botocore = _botocore()
    from botocore.credentials import Credentials
    from botocore.exceptions import BotoCoreError

    if config.credentials is not None:
        creds = config.credentials
        return Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    try:
        session = botocore.session.Session(profile=config.profile)
        found = session.get_credentials()
    except BotoCoreError as exc:
        raise ConfigurationError(
            f"{operation}: could not load AWS credentials "
            f"({'profile ' + repr(config.profile) if config.profile else 'default chain'}): "
            f"{type(exc).__name__}. Check your AWS config and credentials files."
        ) from exc
    if found is None:
        raise ConfigurationError(
            f"{operation} must be signed with AWS credentials and none were found "
            f"({'profile ' + repr(config.profile) if config.profile else 'default chain'}); "
            "pass credentials={'creds': {...}} or configure a profile."
        )
    return found


def sign(
    credentials: Any, region: str, url: str, body: bytes, headers: Mapping[str, str]
) -> dict[str, str]:
    """Headers for a SigV4-signed POST of ``body`` to ``url`` (signed for ``sso-oauth``)."""
    _botocore()
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials.get_frozen_credentials(), SIGNING_NAME, region).add_auth(request)
    return {key: str(value) for key, value in request.headers.items()}

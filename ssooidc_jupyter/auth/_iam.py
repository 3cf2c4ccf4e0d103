"""Trusted identity propagation: exchanging tokens with ``CreateTokenWithIAM``.

An application (identified by its IAM Identity Center application ARN) calls
CreateTokenWithIAM *as an IAM principal* -- the request is SigV4-signed -- to turn an
authorization code, a refresh token, a JWT from a trusted issuer, or an existing IAM
Identity Center access token into IAM Identity Center tokens for that application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .._exceptions import ConfigurationError
from .._secret import Secret, as_optional_secret, as_secret

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["GRANTS", "GrantArguments", "IAMToken", "iam_token", "iam_token_async"]

Grant = Literal["authorization_code", "refresh_token", "jwt_bearer", "token_exchange"]

GRANTS: dict[str, str] = {
    "authorization_code": "authorization_code",
    "refresh_token": "refresh_token",
    "jwt_bearer": "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "token_exchange": "urn:ietf:params:oauth:grant-type:token-exchange",
}
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a URN)

# Which arguments each grant needs (the service would refuse the call otherwise).
_NEEDS: dict[str, tuple[str, ...]] = {
    "authorization_code": ("code", "redirect_uri"),
    "refresh_token": ("refresh_token",),
    "jwt_bearer": ("assertion",),
    "token_exchange": ("subject_token",),
}


@dataclass(frozen=True)
class IAMToken:
    """What CreateTokenWithIAM issued. The repr shows the types, scopes and lifetime only.

    The tokens are :class:`~.._secret.Secret` (``.get_secret_value()`` gives the string);
    :func:`iam_token` takes them back as they are (``refresh_token=token.refresh_token``)."""

    access_token: Secret = field(repr=False)
    token_type: str
    expires_in: int
    refresh_token: Secret | None = field(default=None, repr=False)
    id_token: Secret | None = field(default=None, repr=False)
    issued_token_type: str | None = None
    scope: list[str] = field(default_factory=list)
    aws_additional_details: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, reply: Mapping[str, Any]) -> IAMToken:
        return cls(
            # Wrapped as they are taken from the answer (a Response: its repr masks them).
            access_token=as_secret(reply["accessToken"]),
            token_type=reply.get("tokenType", "Bearer"),
            expires_in=int(reply.get("expiresIn", 0)),
            refresh_token=as_optional_secret(reply.get("refreshToken")),
            id_token=as_optional_secret(reply.get("idToken")),
            issued_token_type=reply.get("issuedTokenType"),
            scope=list(reply.get("scope") or []),
            aws_additional_details=dict(reply.get("awsAdditionalDetails") or {}),
        )


class GrantArguments(TypedDict, total=False):
    """The grant's inputs, shared by :func:`iam_token` and :func:`iam_token_async` (one
    list, so the twins cannot drift)."""

    code: str | Secret | None
    redirect_uri: str | None
    code_verifier: str | Secret | None
    refresh_token: str | Secret | None
    assertion: str | Secret | None
    subject_token: str | Secret | None
    subject_token_type: str | None
    requested_token_type: str | None
    scopes: Sequence[str] | None


#: The grant arguments that are credentials.
_SECRET_ARGUMENTS = ("code", "code_verifier", "refresh_token", "assertion", "subject_token")


class _Hidden(dict[str, Any]):
    """A copy of the caller's ``credentials=`` mapping whose repr shows no key or secret."""

    def __repr__(self) -> str:
        return "{...credentials...}"


def _hide_inputs(arguments: Any, credentials: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Wrap the secret grant arguments in place (``arguments`` is the ``**kwargs`` dict of
    :func:`iam_token`, shared by its frame) and return ``credentials`` with a masked repr,
    so that no frame of the call shows a caller's plain secret in a traceback."""
    for name in _SECRET_ARGUMENTS:
        value = arguments.get(name)
        if isinstance(value, str):
            arguments[name] = Secret(value)
    return None if credentials is None else _Hidden(credentials)


def _params(client_id: str, grant: str, arguments: GrantArguments) -> dict[str, Any]:
    if grant not in GRANTS:
        raise ConfigurationError(f"grant must be one of {', '.join(sorted(GRANTS))}, not {grant!r}")
    code = arguments.get("code")
    redirect_uri = arguments.get("redirect_uri")
    refresh_token = arguments.get("refresh_token")
    assertion = arguments.get("assertion")
    subject_token = arguments.get("subject_token")
    subject_token_type = arguments.get("subject_token_type")
    scopes = arguments.get("scopes")
    given = {
        "code": code,
        "redirect_uri": redirect_uri,
        "refresh_token": refresh_token,
        "assertion": assertion,
        "subject_token": subject_token,
    }
    missing = [name for name in _NEEDS[grant] if not given[name]]
    if missing:
        raise ConfigurationError(f"the {grant} grant needs {', '.join(missing)}")
    params: dict[str, Any] = {
        "clientId": client_id,
        "grantType": GRANTS[grant],
        "code": code,
        "redirectUri": redirect_uri,
        "codeVerifier": arguments.get("code_verifier"),
        "refreshToken": refresh_token,
        "assertion": assertion,
        "subjectToken": subject_token,
        "subjectTokenType": (
            (subject_token_type or ACCESS_TOKEN_TYPE) if grant == "token_exchange" else None
        ),
        "requestedTokenType": arguments.get("requested_token_type"),
        "scope": list(scopes) if scopes is not None else None,
    }
    return {key: value for key, value in params.items() if value is not None}


def iam_token(
    client_id: str,
    grant: Grant,
    *,
    client: Any = None,
    region: str | None = None,
    endpoint: str | None = None,
    credentials: Mapping[str, Any] | None = None,
    **arguments: Unpack[GrantArguments],
) -> IAMToken:
    """Exchange a grant for IAM Identity Center tokens of application ``client_id``.

    ``grant`` is one of ``authorization_code`` (``code``, ``redirect_uri``, optional
    ``code_verifier``), ``refresh_token``, ``jwt_bearer`` (``assertion``: a JWT from a trusted
    token issuer) or ``token_exchange`` (``subject_token``: an IAM Identity Center access
    token, ``subject_token_type``, ``requested_token_type``); ``scopes`` narrows the token.
    Signed with ``credentials`` (as in :func:`ssooidc`), a profile or the default chain;
    pass ``client`` to reuse an :class:`SSOOIDCClient`. The secret arguments may be plain
    strings or :class:`~ssooidc_jupyter.Secret` (as an :class:`IAMToken` holds them).
    """
    credentials = _hide_inputs(arguments, credentials)
    params = _params(client_id, grant, arguments)
    if client is not None:
        return IAMToken.from_response(client.create_token_with_iam(**params))
    # Lazy: the client pulls in httpx, which importing the package must not.
    from ..oidc._client import SSOOIDCClient

    with SSOOIDCClient(credentials=credentials, endpoint=endpoint, region=region) as own:
        return IAMToken.from_response(own.create_token_with_iam(**params))


async def iam_token_async(
    client_id: str,
    grant: Grant,
    *,
    client: Any = None,
    region: str | None = None,
    endpoint: str | None = None,
    credentials: Mapping[str, Any] | None = None,
    **arguments: Unpack[GrantArguments],
) -> IAMToken:
    """:func:`iam_token` for asyncio (pass an :class:`AsyncSSOOIDCClient` as ``client``)."""
    credentials = _hide_inputs(arguments, credentials)
    params = _params(client_id, grant, arguments)
    if client is not None:
        return IAMToken.from_response(await client.create_token_with_iam(**params))
    # Lazy, as in iam_token.
    from ..oidc._client import AsyncSSOOIDCClient

    async with AsyncSSOOIDCClient(credentials=credentials, endpoint=endpoint, region=region) as own:
        return IAMToken.from_response(await own.create_token_with_iam(**params))

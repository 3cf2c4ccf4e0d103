"""The operations the emulator answers, and which protocol family each speaks.

The names are AWS's operation names where there is one (what a request record and a fault
are keyed by); the pages get names of their own.
"""

from __future__ import annotations

from ._enum import WireEnum


class Operation(WireEnum):
    REGISTER_CLIENT = "RegisterClient"
    START_DEVICE_AUTHORIZATION = "StartDeviceAuthorization"
    CREATE_TOKEN = "CreateToken"  # noqa: S105 - an operation name
    CREATE_TOKEN_WITH_IAM = "CreateTokenWithIAM"  # noqa: S105 - an operation name
    GET_ROLE_CREDENTIALS = "GetRoleCredentials"
    LIST_ACCOUNTS = "ListAccounts"
    LIST_ACCOUNT_ROLES = "ListAccountRoles"
    LOGOUT = "Logout"
    GET_CALLER_IDENTITY = "GetCallerIdentity"
    VERIFICATION_PAGE = "VerificationPage"
    VERIFICATION_SUBMIT = "VerificationSubmit"
    START_PAGE = "StartPage"
    AUTHORIZE = "Authorize"  # GET /authorize: the browser leg of the authorization code grant
    AUTHORIZE_SUBMIT = "AuthorizeSubmit"  # POST /authorize: the consent form's answer
    UNKNOWN = "Unknown"


class Family(WireEnum):
    """The wire protocol of an operation: it decides how errors and faults are spelled."""

    OIDC = "oidc"
    PORTAL = "portal"
    STS = "sts"
    PAGE = "page"


_FAMILIES = {
    Operation.REGISTER_CLIENT: Family.OIDC,
    Operation.START_DEVICE_AUTHORIZATION: Family.OIDC,
    Operation.CREATE_TOKEN: Family.OIDC,
    Operation.CREATE_TOKEN_WITH_IAM: Family.OIDC,
    Operation.GET_ROLE_CREDENTIALS: Family.PORTAL,
    Operation.LIST_ACCOUNTS: Family.PORTAL,
    Operation.LIST_ACCOUNT_ROLES: Family.PORTAL,
    Operation.LOGOUT: Family.PORTAL,
    Operation.GET_CALLER_IDENTITY: Family.STS,
}

OPERATIONS: frozenset[str] = frozenset(op.value for op in Operation)


def family(operation: Operation) -> Family:
    return _FAMILIES.get(operation, Family.PAGE)

"""A local AWS IAM Identity Center emulator for tests, notebooks and demos.

One HTTP server on 127.0.0.1 answers the three APIs a sign-in touches, in the exact wire
formats botocore expects: sso-oidc (device flow, /authorize with PKCE, tokens), the sso
portal (accounts, roles, role credentials) and sts GetCallerIdentity. Importing this
package does not need botocore; only SigV4 verification (CreateTokenWithIAM, STS) does.
"""

from __future__ import annotations

from ._emulator import Emulator
from .model import FAULT_KINDS, OPERATIONS, FaultKind

__all__ = ["FAULT_KINDS", "OPERATIONS", "Emulator", "FaultKind"]

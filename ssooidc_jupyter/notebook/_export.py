"""``%ssooidc login --export``: let default boto3 clients and ``!aws`` use the chosen role.

A kernel-private AWS config file names a profile that uses the sign-in's sso-session and the
chosen account and role; ``AWS_CONFIG_FILE`` and ``AWS_PROFILE`` point the kernel (and the
shell commands it starts) at it. botocore and the AWS CLI then resolve credentials through
the sso-session from the shared token cache, refreshing as they need, exactly as after
``aws sso login``.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..auth._login import LoginContext

__all__ = ["EXPORT_ENV", "EXPORT_PROFILE", "KernelProfile", "export_session_name"]

EXPORT_PROFILE = "ssooidc-jupyter"
EXPORT_ENV = ("AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


class KernelProfile:
    """``--export``: a kernel-private AWS config file naming the signed-in role.

    botocore and the AWS CLI then resolve credentials through the sso-session from the
    shared token cache, refreshing as they need, exactly as after ``aws sso login``.
    """

    def __init__(self) -> None:
        self.path: Path | None = None
        self._saved: dict[str, str | None] | None = None

    def write(self, context: LoginContext, account: str, role: str) -> Path:
        from ..auth._awsconfig import write_sso_profile

        request = context.request
        assert request.session_name is not None  # _context() names one for --export
        if self.path is None:
            directory = Path(tempfile.mkdtemp(prefix="ssooidc-jupyter-"))  # 0700
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            self.path = directory / "config"
        write_sso_profile(
            self.path,
            profile=EXPORT_PROFILE,
            session_name=request.session_name,
            start_url=request.start_url,
            region=request.region,
            scopes=request.scopes,
            account_id=account,
            role_name=role,
            # A fallback only: AWS_REGION / AWS_DEFAULT_REGION still win.
            default_region=request.region,
        )
        if self._saved is None:
            self._saved = {name: os.environ.get(name) for name in EXPORT_ENV}
        os.environ["AWS_CONFIG_FILE"] = str(self.path)
        os.environ["AWS_PROFILE"] = EXPORT_PROFILE
        # botocore reads AWS_DEFAULT_PROFILE before AWS_PROFILE: it would win over ours.
        os.environ.pop("AWS_DEFAULT_PROFILE", None)
        _forget_boto3_default_session()
        return self.path

    def remove(self) -> None:
        if self._saved is not None:
            for name, value in self._saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved = None
            _forget_boto3_default_session()
        if self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)
            self.path = None


def _forget_boto3_default_session() -> None:
    # boto3.client() reuses a default Session that read the profile and config file when
    # it was made; drop it so the next default client sees the exported (or restored) one.
    boto3: Any = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None


def export_session_name(start_url: str) -> str:
    # A profile's sso-session needs a name; a stable one per start URL keeps the cache
    # entry (sha1 of the name) the same across kernels and restarts.
    return "jupyter-" + hashlib.sha1(start_url.encode()).hexdigest()[:12]  # noqa: S324 - a name

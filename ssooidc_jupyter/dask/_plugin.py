"""The worker side: a Dask ``WorkerPlugin`` that puts role credentials in the worker's
environment, where every AWS SDK looks first.

``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` together with
``AWS_CREDENTIAL_EXPIRATION`` make botocore's environment provider *refreshable*: a client
(boto3's, aiobotocore's under s3fs) re-reads the environment once its credentials are inside
botocore's refresh windows (15 minutes before expiry, then 10). So a client made before a
renewal signs with the new keys after it, with no code in the task; the AWS CLI and any
other program a task starts inherit the variables. See ``docs/dask.md`` for why this and
not an ECS-style credentials endpoint.

The scheduler keeps the plugin (pickled, in memory) and gives it to every worker that joins
later. A renewal registers a new plugin under the same name: the worker tears the old one
down and sets the new one up within one turn of its event loop, so the environment never
goes without credentials in between (see :meth:`CredentialsPlugin.teardown`).

This module imports only the standard library, ``distributed`` and our error tree: it is
what a worker loads to unpickle the plugin (ssooidc-jupyter must be installed there, as
every package a task uses).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from typing import Any

from .._exceptions import MissingDependencyError
from .._secret import Secret

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError as exc:  # pragma: no cover - only without the extra
    raise MissingDependencyError(
        "Forwarding credentials to Dask needs distributed: pip install 'ssooidc-jupyter[dask]'"
    ) from exc

__all__ = ["CREDENTIAL_VARS", "PLUGIN_NAME", "REGION_VARS", "CredentialsPlugin", "holding"]

PLUGIN_NAME = "ssooidc-jupyter-aws-credentials"
CREDENTIAL_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
)
REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
# Saved and restored with ours: the legacy name botocore still reads for the session token.
_TOUCHED = (*CREDENTIAL_VARS, *REGION_VARS, "AWS_SECURITY_TOKEN")

# Per process, not per worker: the workers of a thread-based cluster share one environment.
_lock = threading.Lock()
_saved: dict[str, str | None] | None = None  # the process's own values, before ours
_holders: set[int] = set()  # id() of each worker whose plugin is set up


def holding() -> bool:
    """Whether this process holds forwarded credentials now."""
    with _lock:
        return bool(_holders)


class CredentialsPlugin(WorkerPlugin):
    """Role credentials for the workers. ``repr`` shows the account, role and expiry only;
    the keys are sent (pickled) because they are the point, and only they are."""

    name = PLUGIN_NAME
    idempotent = False

    def __init__(
        self,
        *,
        access_key_id: str,
        secret_access_key: Secret,
        session_token: Secret,
        expiration: str,
        region: str | None,
        account_id: str,
        role_name: str,
    ) -> None:
        # The keys stay Secret values (masked in any repr or traceback) until they are put
        # in the worker's environment, the one place they must be plain.
        self._env: dict[str, str | Secret] = {
            "AWS_ACCESS_KEY_ID": access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret_access_key,
            "AWS_SESSION_TOKEN": session_token,
            "AWS_CREDENTIAL_EXPIRATION": expiration,
        }
        self.region = region
        self.account_id = account_id
        self.role_name = role_name
        self.expiration = expiration

    def __repr__(self) -> str:
        return (
            f"<CredentialsPlugin account_id={self.account_id!r} role_name={self.role_name!r} "
            f"expiration={self.expiration!r}>"
        )

    __str__ = __repr__

    def setup(self, worker: Any) -> None:
        global _saved
        with _lock:
            first = _saved is None
            if _saved is None:
                _saved = {name: os.environ.get(name) for name in _TOUCHED}
            env = dict(self._env)
            if self.region and not any(_saved[name] for name in REGION_VARS):
                # Only where the worker has no region of its own.
                env["AWS_DEFAULT_REGION"] = self.region
            # A stale legacy token would not be read (AWS_SESSION_TOKEN wins), but it is
            # not ours to leave beside ours either.
            os.environ.pop("AWS_SECURITY_TOKEN", None)
            os.environ.update({name: _plain(value) for name, value in env.items()})
            _holders.add(id(worker))
        if first:
            _forget_sdk_caches()

    def teardown(self, worker: Any) -> None:
        # Called both when the plugin is replaced by a renewal (the new one is set up right
        # after, in the same turn of the loop) and when it is removed (stop()). Removing the
        # variables at once would leave a gap a task's thread could fall into, so decide on
        # the next turn: by then a replacement is in worker.plugins.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        running = getattr(getattr(worker, "status", None), "name", "") in ("running", "paused")
        if loop is None or not running:
            _lapse(worker)  # the worker is closing: nothing replaces us
        else:
            loop.call_soon(_lapse_unless_replaced, worker)


def _plain(value: str | Secret) -> str:
    return value.get_secret_value() if isinstance(value, Secret) else value


def _lapse_unless_replaced(worker: Any) -> None:
    if PLUGIN_NAME not in getattr(worker, "plugins", {}):
        _lapse(worker)


def _lapse(worker: Any) -> None:
    """Give the process its own variables back, once no worker in it holds ours."""
    global _saved
    with _lock:
        _holders.discard(id(worker))
        if _holders or _saved is None:
            return
        for name, value in _saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _saved = None
    _forget_sdk_caches()


def _forget_sdk_caches() -> None:
    """Objects that resolved credentials once and keep them: made again on next use."""
    boto3: Any = sys.modules.get("boto3")
    if boto3 is not None:
        # boto3.client() reuses one default Session, which may have resolved other
        # credentials (or, after stop(), ours) before.
        boto3.DEFAULT_SESSION = None
    s3fs: Any = sys.modules.get("s3fs")
    if s3fs is not None:
        # fsspec caches S3FileSystem instances, and s3fs falls back to anonymous access
        # when it found no credentials: a cached anonymous one would never use ours.
        s3fs.S3FileSystem.clear_instance_cache()

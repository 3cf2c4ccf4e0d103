"""The device authorization grant (RFC 8628): StartDeviceAuthorization, the person's
approval (verification page or test hook), and the CreateToken polls that redeem it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _values
from ._clients import Clients, Sessions, TokenGrant
from ._settings import DEFAULT_SCOPES
from ._store import (
    Device,
    DeviceStatus,
    GrantType,
    OAuthError,
    OAuthErrorCode,
    Registration,
    Store,
)
from ._values import ceil_seconds, required

# RFC 8628 section 3.5: each slow_down adds 5 seconds to the polling interval.
SLOW_DOWN_STEP = 5.0
# A poll that arrives this much early still counts as on time: timers and scheduling on a
# busy machine are not exact, and a client sleeping exactly `interval` must not be punished.
POLL_TOLERANCE = 0.01


@dataclass(frozen=True)
class DeviceAuthorization:
    """What StartDeviceAuthorization answers."""

    device_code: str = field(repr=False)
    user_code: str
    expires_in: int
    interval: float


@dataclass(frozen=True)
class UserCodeInfo:
    """What the verification page may show about a code (nothing secret)."""

    user_code: str
    client_name: str
    status: DeviceStatus


class DeviceFlow:
    def __init__(self, store: Store, clients: Clients, sessions: Sessions) -> None:
        self._s = store
        self._clients = clients
        self._sessions = sessions

    def start(self, params: Mapping[str, Any]) -> DeviceAuthorization:
        client_id = required(params, "clientId")
        client_secret = required(params, "clientSecret")
        required(params, "startUrl")
        store = self._s
        with store.lock:
            reg = self._clients.authenticate(client_id, client_secret)
            self._clients.check_grant_allowed(reg, GrantType.DEVICE_CODE)
            code = _values.user_code()
            while code in store.user_codes:  # astronomically rare, but codes must be unique
                code = _values.user_code()
            now = store.clock()
            device = Device(
                device_code=store.secret(_values.opaque("emu-device-", 48)),
                user_code=code,
                client_id=client_id,
                scopes=reg.scopes,
                created=now,
                expires_at=now + store.settings.code_ttl,
                interval=float(store.settings.interval),
            )
            store.devices[device.device_code] = device
            store.user_codes[code] = device.device_code
            store.user_code_order.append(code)
        return DeviceAuthorization(
            device_code=device.device_code,
            user_code=code,
            expires_in=ceil_seconds(store.settings.code_ttl),
            interval=store.settings.interval,
        )

    def user_codes(self) -> list[str]:
        """Every user code issued, oldest first."""
        with self._s.lock:
            return list(self._s.user_code_order)

    # -- the person's decision (verification page and the approve/deny test hooks) ---------

    def _status(self, device: Device, now: float) -> DeviceStatus:
        """Current status, applying expiry and auto-approval lazily (no timers needed)."""
        if device.status is DeviceStatus.PENDING:
            auto = self._s.settings.auto_approve
            if auto is not None and device.created + auto <= now < device.expires_at:
                device.status = DeviceStatus.APPROVED
        if device.status is not DeviceStatus.CONSUMED and now >= device.expires_at:
            return DeviceStatus.EXPIRED
        return device.status

    def _by_user_code(self, user_code: str) -> Device:
        normalized = _values.normalize_user_code(user_code) if isinstance(user_code, str) else None
        device_code = self._s.user_codes.get(normalized) if normalized else None
        if device_code is None:
            raise KeyError(f"unknown user code {user_code!r}")
        return self._s.devices[device_code]

    def decide(self, user_code: str, decision: DeviceStatus) -> None:
        """Approve or deny. KeyError: never issued; ValueError: expired/used/decided otherwise."""
        verb = "approve" if decision is DeviceStatus.APPROVED else "deny"
        with self._s.lock:
            device = self._by_user_code(user_code)
            status = self._status(device, self._s.clock())
            if status is decision:
                return  # idempotent: approving twice is harmless
            if status is not DeviceStatus.PENDING:
                raise ValueError(f"user code {device.user_code} is {status}; cannot {verb} it")
            device.status = decision

    def describe(self, user_code: str) -> UserCodeInfo | None:
        with self._s.lock:
            try:
                device = self._by_user_code(user_code)
            except KeyError:
                return None
            reg = self._s.registrations.get(device.client_id)
            return UserCodeInfo(
                user_code=device.user_code,
                client_name=reg.client_name if reg else "",
                status=self._status(device, self._s.clock()),
            )

    # -- CreateToken with the device_code grant ---------------------------------------------

    def poll(self, reg: Registration, device_code: str) -> TokenGrant:
        with self._s.lock:
            now = self._s.clock()
            device = self._s.devices.get(device_code)
            if device is None or device.client_id != reg.client_id:
                raise OAuthError(OAuthErrorCode.INVALID_GRANT, "Invalid device code provided")
            if device.status is DeviceStatus.CONSUMED:
                raise OAuthError(OAuthErrorCode.INVALID_GRANT, "Device code has already been used")
            status = self._status(device, now)
            if status is DeviceStatus.EXPIRED:
                raise OAuthError(OAuthErrorCode.EXPIRED_TOKEN, "Device code has expired")
            # RFC 8628 slow_down: measured from the previous poll of this code (every poll
            # counts, the first one has nothing to be measured against), whatever the approval.
            previous, device.last_poll = device.last_poll, now
            if previous is not None and now - previous + POLL_TOLERANCE < device.interval:
                device.interval += SLOW_DOWN_STEP
                raise OAuthError(OAuthErrorCode.SLOW_DOWN, "Client is polling too quickly")
            if status is DeviceStatus.DENIED:
                raise OAuthError(
                    OAuthErrorCode.ACCESS_DENIED, "The user denied the authorization request"
                )
            if status is DeviceStatus.PENDING:
                raise OAuthError(
                    OAuthErrorCode.AUTHORIZATION_PENDING, "Authorization is still pending"
                )
            device.status = DeviceStatus.CONSUMED
            session = self._sessions.new(reg.client_id, self._s.settings.user_name)
            return self._sessions.issue(
                session,
                reg.client_id,
                device.scopes or DEFAULT_SCOPES,
                iam=False,
                with_refresh=reg.refreshable,
            )

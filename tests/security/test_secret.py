"""``Secret``: what it shows (nothing), what it gives (its value, on request), how it behaves.

And where it sits: the models that carry credentials hold ``Secret`` (the cache's token and
registration, role credentials, IAM tokens, the request body), while the documented API
that hands strings out (``SSOToken.access_token``, ``export()``, the boto3-style clients'
dicts) still does.
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
from datetime import datetime, timedelta, timezone

import pytest

import ssooidc_jupyter as sj
from ssooidc_jupyter._secret import MASK, Secret, as_secret, reveal
from ssooidc_jupyter.auth._aws import RoleCredentials
from ssooidc_jupyter.auth._models import CachedRegistration, CachedToken
from ssooidc_jupyter.oidc._protocol import OPERATIONS, build_body

VALUE = "aoa-very-secret-token-value-1234"


def test_repr_str_format_and_fstring_are_masked() -> None:
    secret = Secret(VALUE)
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret!s}",
        f"{secret:>40}",
        f"{secret:d}",  # a numeric spec: still the mask, never an error or the value
        format(secret, ""),
        "%s %r" % (secret, secret),  # noqa: UP031 - the old style must mask too
        "{} {!r}".format(secret, secret),  # noqa: UP032
        repr([secret, {"k": secret}, (secret,)]),
    ]
    for text in shown:
        assert VALUE not in text, text
    assert repr(secret) == f"Secret('{MASK}')"
    assert str(secret) == MASK == f"{secret}"
    assert f"{secret:>12}" == f"  {MASK}"


def test_pretty_printers_and_logging_mask_it() -> None:
    import pprint

    from IPython.lib.pretty import pretty

    secret = Secret(VALUE)
    assert VALUE not in pretty(secret) and VALUE not in pprint.pformat({"t": secret})
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", (secret,), None)
    assert VALUE not in record.getMessage()


def test_unwrapping_is_explicit() -> None:
    secret = Secret(VALUE)
    assert secret.get_secret_value() == VALUE
    assert reveal(secret) == VALUE and reveal("plain") == "plain" and reveal(None) is None
    assert as_secret(VALUE) == secret and as_secret(secret) is secret


def test_not_a_str_and_refuses_string_operations() -> None:
    secret = Secret(VALUE)
    assert not isinstance(secret, str)
    with pytest.raises(TypeError):
        secret + "x"  # type: ignore[operator]
    with pytest.raises(TypeError):
        "x" + secret  # type: ignore[operator]
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Secret(None)  # type: ignore[arg-type]


def test_json_dumps_refuses_without_quoting_it() -> None:
    with pytest.raises(TypeError) as raised:
        json.dumps({"accessToken": Secret(VALUE)})
    assert VALUE not in str(raised.value)


def test_equality_and_hash_by_value_never_with_a_plain_str() -> None:
    a, b, c = Secret(VALUE), Secret(VALUE), Secret(VALUE + "x")
    assert a == b and hash(a) == hash(b) and len({a, b, c}) == 2
    assert a != c
    assert a != VALUE and a != VALUE  # a Secret is not a string
    assert bool(Secret("")) is False and bool(a) is True and len(a) == len(VALUE)


def test_immutable_and_copy_keeps_the_same_object() -> None:
    secret = Secret(VALUE)
    with pytest.raises(AttributeError):
        secret._value = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del secret._value
    assert copy.copy(secret) is secret and copy.deepcopy(secret) is secret
    assert copy.deepcopy({"t": secret})["t"] == secret


def test_pickle_round_trip_keeps_the_masking() -> None:
    # Kept, not refused: a worker process (multiprocessing, Dask) needs the value.
    again = pickle.loads(pickle.dumps(Secret(VALUE)))
    assert isinstance(again, Secret) and again.get_secret_value() == VALUE
    assert VALUE not in repr(again)


def test_exported_lazily_from_the_package() -> None:
    assert "Secret" in sj.__all__ and sj.Secret is Secret


# ---- where it is held ------------------------------------------------------------------------


def _token(**overrides: object) -> CachedToken:
    values: dict[str, object] = {
        "start_url": "https://d-123.awsapps.com/start",
        "region": "us-east-1",
        "access_token": "access-token-value-1",
        "expires_at": datetime(2030, 1, 1, tzinfo=timezone.utc),
        "refresh_token": "refresh-token-value-2",
        "client_id": "cid",
        "client_secret": "client-secret-value-3",
    }
    values.update(overrides)
    return CachedToken(**values)  # type: ignore[arg-type]


def test_cached_models_hold_secrets_and_unwrap_only_in_to_json() -> None:
    token = _token()
    assert isinstance(token.access_token, Secret)
    assert isinstance(token.refresh_token, Secret) and isinstance(token.client_secret, Secret)
    data = token.to_json()
    assert data["accessToken"] == "access-token-value-1"
    assert data["refreshToken"] == "refresh-token-value-2"
    assert data["clientSecret"] == "client-secret-value-3"
    again = CachedToken.from_json(json.loads(json.dumps(data)))
    assert again.access_token == token.access_token and again.to_json() == data
    registration = CachedRegistration(
        client_id="cid",
        client_secret="client-secret-value-3",
        expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )
    assert isinstance(registration.client_secret, Secret)
    assert registration.to_json()["clientSecret"] == "client-secret-value-3"
    assert isinstance(CachedRegistration.from_json(registration.to_json()).client_secret, Secret)


def test_role_credentials_hold_the_secret_key_and_session_token_as_secret() -> None:
    creds = RoleCredentials(
        access_key_id="ASIAEXAMPLE",
        secret_access_key="secret-key-value-4",
        session_token="session-token-value-5",
        expiration=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    assert isinstance(creds.secret_access_key, Secret) and isinstance(creds.session_token, Secret)
    assert "value-" not in repr(vars(creds))  # every field, not only the repr we wrote


def test_request_bodies_take_secrets_and_are_secret_themselves() -> None:
    body = build_body(
        OPERATIONS["CreateToken"],
        {
            "clientId": "cid",
            "clientSecret": Secret("client-secret-value-3"),
            "grantType": "refresh_token",
            "refreshToken": "refresh-token-value-2",  # a plain string still works
        },
    )
    assert isinstance(body, Secret) and "value" not in repr(body)
    assert json.loads(body.get_secret_value()) == {
        "clientId": "cid",
        "clientSecret": "client-secret-value-3",
        "grantType": "refresh_token",
        "refreshToken": "refresh-token-value-2",
    }

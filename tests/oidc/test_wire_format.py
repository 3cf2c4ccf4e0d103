"""Our requests are byte-for-byte what botocore sends: same path, same JSON members.

A small recording HTTP server on 127.0.0.1 receives the same call from botocore's own
``sso-oidc`` (or ``sso``, the portal) client and from ours; the two requests are compared.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import botocore.session
import pytest
import trustme
from botocore import UNSIGNED
from botocore.config import Config

from ssooidc_jupyter import ParamValidationError, ssooidc
from ssooidc_jupyter.oidc._portal import BEARER_HEADER, PortalClient


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.seen: list[dict[str, Any]] = []
        self.scheme = "http"
        if tls is not None:
            # The same bytes inside TLS (a certificate of a throwaway CA; AWS_CA_BUNDLE).
            self.socket = tls.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"


class RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        )
        # One body that is a valid answer of every operation (answers are validated).
        oidc_answer = json.dumps(
            {
                "clientId": "c",
                "clientSecret": "s",
                "deviceCode": "d",
                "userCode": "U",
                "verificationUri": "https://device.example/",
                "expiresIn": 600,
                "accessToken": "a",
            }
        ).encode()
        payload = PORTAL_ANSWERS.get(urlsplit(self.path).path, oidc_answer)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


# The portal's smallest valid answers (our client checks every answer against its model).
PORTAL_ANSWERS = {
    "/assignment/accounts": b'{"accountList": []}',
    "/assignment/roles": b'{"roleList": []}',
    "/federation/credentials": json.dumps(
        {
            "roleCredentials": {
                "accessKeyId": "AKID",
                "secretAccessKey": "sk",
                "sessionToken": "st",
                "expiration": int(time.time() * 1000) + 3_600_000,
            }
        }
    ).encode(),
}


@pytest.fixture(params=["http", "https"])
def recorder(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Recorder]:
    """The recording server, over plain HTTP and over TLS (botocore and ours trust its
    private CA through AWS_CA_BUNDLE, as behind a company proxy)."""
    tls = None
    if request.param == "https":
        ca = trustme.CA()
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(tls)
        ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    server = Recorder(tls)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


CALLS = [
    pytest.param(
        "register_client",
        {"clientName": "nb", "clientType": "public", "scopes": ["sso:account:access"]},
        id="register_client",
    ),
    pytest.param(
        "register_client",
        {
            "clientName": "nb",
            "clientType": "public",
            "grantTypes": ["authorization_code", "refresh_token"],
            "redirectUris": ["http://127.0.0.1/cb"],
            "issuerUrl": "https://identitycenter.amazonaws.com/ssoins-1",
        },
        id="register_client-all-members",
    ),
    pytest.param(
        "start_device_authorization",
        {"clientId": "cid", "clientSecret": "cs", "startUrl": "https://x.awsapps.com/start"},
        id="start_device_authorization",
    ),
    pytest.param(
        "create_token",
        {
            "clientId": "cid",
            "clientSecret": "cs",
            "grantType": "urn:ietf:params:oauth:grant-type:device_code",
            "deviceCode": "dc",
        },
        id="create_token-device_code",
    ),
    pytest.param(
        "create_token",
        {
            "clientId": "cid",
            "clientSecret": "cs",
            "grantType": "refresh_token",
            "refreshToken": "rt",
            "scope": ["a", "b"],
        },
        id="create_token-refresh",
    ),
]


@pytest.mark.parametrize(("method", "params"), CALLS)
def test_unsigned_requests_match_botocore(
    recorder: Recorder, method: str, params: dict[str, Any]
) -> None:
    boto = botocore.session.get_session().create_client(
        "sso-oidc",
        region_name="us-east-1",
        endpoint_url=recorder.url,
        config=Config(retries={"max_attempts": 0}),
    )
    getattr(boto, method)(**params)
    ours = ssooidc(endpoint=recorder.url, region="us-east-1")
    getattr(ours, method)(**params)
    theirs_req, our_req = recorder.seen
    assert our_req["path"] == theirs_req["path"]
    assert json.loads(our_req["body"]) == json.loads(theirs_req["body"]) == params
    assert our_req["headers"]["content-type"] == "application/json"
    # Unsigned operations carry no credentials at all.
    assert "authorization" not in our_req["headers"]
    assert "authorization" not in theirs_req["headers"]


def test_omitted_optionals_are_not_sent(recorder: Recorder) -> None:
    ssooidc(endpoint=recorder.url).create_token(
        clientId="c", clientSecret="s", grantType="refresh_token", refreshToken="r", scope=None
    )
    assert json.loads(recorder.seen[0]["body"]) == {
        "clientId": "c",
        "clientSecret": "s",
        "grantType": "refresh_token",
        "refreshToken": "r",
    }


def test_create_token_with_iam_is_signed_like_botocore(recorder: Recorder) -> None:
    creds = {"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI"}
    params = {"clientId": "arn:app", "grantType": "refresh_token", "refreshToken": "rt"}
    boto = botocore.session.get_session().create_client(
        "sso-oidc",
        region_name="eu-west-1",
        endpoint_url=recorder.url,
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        config=Config(retries={"max_attempts": 0}),
    )
    boto.create_token_with_iam(**params)
    ours = ssooidc(endpoint=recorder.url, region="eu-west-1", credentials={"creds": creds})
    ours.create_token_with_iam(**params)
    theirs_req, our_req = recorder.seen
    assert our_req["path"] == theirs_req["path"] == "/token?aws_iam=t"
    assert json.loads(our_req["body"]) == json.loads(theirs_req["body"])
    ours_auth = our_req["headers"]["authorization"]
    theirs_auth = theirs_req["headers"]["authorization"]
    # Same scheme, key, scope (region/service) and signed headers; the signature differs only
    # through the timestamp.
    assert ours_auth.split("Signature=")[0].split("/", 2)[0] == theirs_auth.split("/", 2)[0]
    assert "/eu-west-1/sso-oauth/aws4_request" in ours_auth
    assert "/eu-west-1/sso-oauth/aws4_request" in theirs_auth
    assert "x-amz-date" in our_req["headers"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"clientName": "n"}, "missing required parameter(s) clientType", id="missing"),
        pytest.param(
            {"clientName": "n", "clientType": "public", "scope": ["x"]},
            "unknown parameter(s) scope",
            id="unknown",
        ),
        pytest.param(
            {"clientName": "n", "clientType": "public", "scopes": "sso:account:access"},
            "scopes must be a list of strings",
            id="string-for-list",
        ),
        pytest.param({"clientName": 1, "clientType": "public"}, "must be a string", id="int"),
    ],
)
def test_bad_parameters_are_refused_before_sending(
    recorder: Recorder, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParamValidationError) as info:
        ssooidc(endpoint=recorder.url).register_client(**params)
    assert message in str(info.value)
    assert recorder.seen == []


# ---- the portal (sso) --------------------------------------------------------------------

PORTAL_CALLS = [
    pytest.param("list_accounts", {"accessToken": "tok"}, id="list_accounts"),
    pytest.param(
        "list_accounts",
        {"accessToken": "tok", "nextToken": "a/b+c=", "maxResults": 7},
        id="list_accounts-page",
    ),
    pytest.param(
        "list_account_roles", {"accessToken": "tok", "accountId": "111111111111"}, id="roles"
    ),
    pytest.param(
        "list_account_roles",
        {"accessToken": "tok", "accountId": "111111111111", "nextToken": "n x", "maxResults": 2},
        id="roles-page",
    ),
    pytest.param(
        "get_role_credentials",
        {"accessToken": "tok", "accountId": "111111111111", "roleName": "Admin & Co"},
        id="get_role_credentials",
    ),
    pytest.param("logout", {"accessToken": "tok"}, id="logout"),
]


@pytest.mark.parametrize(("method", "params"), PORTAL_CALLS)
def test_portal_requests_match_botocore(
    recorder: Recorder, method: str, params: dict[str, Any]
) -> None:
    boto = botocore.session.get_session().create_client(
        "sso",
        region_name="us-east-1",
        endpoint_url=recorder.url,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 0}),
    )
    getattr(boto, method)(**params)
    with PortalClient(endpoint=recorder.url, region="us-east-1") as ours:
        getattr(ours, method)(**params)
    theirs_req, our_req = recorder.seen
    assert our_req["method"] == theirs_req["method"]
    theirs_url, our_url = urlsplit(theirs_req["path"]), urlsplit(our_req["path"])
    assert our_url.path == theirs_url.path
    assert parse_qs(our_url.query) == parse_qs(theirs_url.query)
    assert our_req["headers"][BEARER_HEADER] == theirs_req["headers"][BEARER_HEADER] == "tok"
    assert our_req["body"] == theirs_req["body"] == b""
    for header in ("content-type", "content-length"):
        assert our_req["headers"].get(header) == theirs_req["headers"].get(header), header
    # The portal is unsigned: no credentials beyond the bearer token.
    assert "authorization" not in our_req["headers"]
    assert "authorization" not in theirs_req["headers"]


def test_portal_bad_parameters_are_refused_before_sending(recorder: Recorder) -> None:
    ours = PortalClient(endpoint=recorder.url, region="us-east-1")
    with ours, pytest.raises(ParamValidationError, match="accountId"):
        ours.list_account_roles(accessToken="tok")  # type: ignore[call-arg]
    assert recorder.seen == []

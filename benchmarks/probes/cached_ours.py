"""A cached sign-in: ``login()`` served from the cache; "t" once it returns, and which heavy
modules it loaded ("heavy": none is the goal).

Arguments: start URL, region, sso-session name."""

import json
import sys
import time

import ssooidc_jupyter

token = ssooidc_jupyter.login(sys.argv[1], sys.argv[2], session_name=sys.argv[3])
t = time.time()
heavy = sorted(
    m
    for m in ("httpx", "httpcore", "anyio", "h11", "ssl", "asyncio", "filelock")
    if m in sys.modules
)
answer = {"t": t, "ok": token.expires_at is not None, "heavy": heavy}
sys.stdout.write("BENCH " + json.dumps(answer) + "\n")

"""botocore's cached token for an sso-session profile: "t" once it is read.

Argument: the profile."""

import json
import sys
import time

import botocore.session
from botocore.tokens import SSOTokenProvider

token = SSOTokenProvider(botocore.session.Session(profile=sys.argv[1])).load_token()
frozen = token.get_frozen_token()
sys.stdout.write("BENCH " + json.dumps({"t": time.time(), "ok": bool(frozen.token)}) + "\n")

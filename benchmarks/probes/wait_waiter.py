"""``login()`` while another process holds the same sign-in: the time from the call to the
notice of that sign-in ("s").

Arguments: start URL, region."""

import json
import os
import sys
import time

import ssooidc_jupyter

started = time.perf_counter()


def notice(message):
    if hasattr(message, "pending"):
        elapsed = time.perf_counter() - started
        sys.stdout.write("BENCH " + json.dumps({"s": elapsed}) + "\n")
        sys.stdout.flush()
        os._exit(0)


ssooidc_jupyter.login(sys.argv[1], sys.argv[2], session_name="bench", on_notice=notice, timeout=30)

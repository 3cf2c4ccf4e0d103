"""Holds a sign-in pending (its prompt out, "PROMPT" on stdout; nobody approves) until it is
cancelled from another process.

Arguments: start URL, region."""

import contextlib
import sys

import ssooidc_jupyter


def shown(prompt):
    sys.stdout.write("PROMPT\n")
    sys.stdout.flush()


with contextlib.suppress(ssooidc_jupyter.LoginCancelledError):
    ssooidc_jupyter.login(sys.argv[1], sys.argv[2], session_name="bench", on_prompt=shown)

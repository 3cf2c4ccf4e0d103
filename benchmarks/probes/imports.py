"""One import (or import and client) in a fresh interpreter, by name: its duration ("s").

Argument: ours, ours_client, botocore or botocore_client."""

import json
import sys
import time

case = sys.argv[1]
t = time.perf_counter()
if case == "ours":
    import ssooidc_jupyter
elif case == "ours_client":
    import ssooidc_jupyter

    ssooidc_jupyter.ssooidc  # noqa: B018  (the lazy attribute loads the client module)
elif case == "botocore":
    import botocore.session
elif case == "botocore_client":
    import botocore.session

    botocore.session.get_session().create_client("sso-oidc", region_name="us-east-1")
else:
    raise SystemExit(f"unknown case {case!r}")
sys.stdout.write("BENCH " + json.dumps({"s": time.perf_counter() - t}) + "\n")

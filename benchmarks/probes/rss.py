"""The memory a shell gains from ``%load_ext`` and a whole ``%ssooidc login --wait`` ("mb").

Arguments: start URL, region, endpoint (an emulator that approves at once)."""

import json
import sys

from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


c = Config()
c.HistoryManager.hist_file = ":memory:"
ip = InteractiveShell.instance(config=c)
before = rss_mb()
ip.run_line_magic("load_ext", "ssooidc_jupyter")
ip.run_line_magic(
    "ssooidc",
    f"login --wait --start-url {sys.argv[1]} --region {sys.argv[2]} --endpoint {sys.argv[3]}",
)
assert ip.user_ns["ssooidc_token"].expires_at is not None
sys.stdout.write("BENCH " + json.dumps({"mb": rss_mb() - before}) + "\n")

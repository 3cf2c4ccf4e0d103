"""``%load_ext ssooidc_jupyter`` in a fresh IPython shell: its duration ("s")."""

import json
import sys
import time

from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

c = Config()
c.HistoryManager.hist_file = ":memory:"
ip = InteractiveShell.instance(config=c)
start = time.perf_counter()
ip.run_line_magic("load_ext", "ssooidc_jupyter")
elapsed = time.perf_counter() - start
assert "ssooidc" in ip.magics_manager.magics["line"]
sys.stdout.write("BENCH " + json.dumps({"s": elapsed}) + "\n")

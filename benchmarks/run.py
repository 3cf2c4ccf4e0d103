"""Side-by-side benchmarks: ssooidc-jupyter against a botocore-based flow, in one run.

Everything runs against the local emulator on 127.0.0.1, so the figures compare the
clients' own overheads (imports, request building, signing, parsing), not AWS.

Two tables:

* what a notebook user waits for (issue 10): ``%load_ext``, a fresh process to the user
  code on screen, the approval noticed, a cached sign-in in a fresh process, a kernel's
  round trip while a sign-in is pending, the memory added. Where a process start is
  involved, each sample is a fresh interpreter, ours and theirs interleaved (the order
  alternates) so that machine noise hits both; figures are medians. Ratio = ours / theirs
  (lower: ours faster).
* single in-process operations (ratio = botocore / ours: higher: ours faster).

Fresh interpreters read byte code from a private ``PYTHONPYCACHEPREFIX`` filled by one
warm-up run of each probe, as an installed package (and botocore in site-packages) would,
even when the environment sets ``PYTHONDONTWRITEBYTECODE``.

Run with ``make bench`` or ``python benchmarks/run.py [--quick] [--json PATH] [--plot PATH]``.
Never used as a timed assertion in tests (``--quick`` is a smoke test of this script).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# ---- probes: the code each fresh interpreter runs ---------------------------------------------
# Each writes one JSON line marked "BENCH " (in one write: a shell's display thread may
# write too). "t" is time.time() at the moment measured
# (compared with the parent's time.time() just before the process was started).

PROBE_LOAD_EXT = """
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
c = Config(); c.HistoryManager.hist_file = ":memory:"
ip = InteractiveShell.instance(config=c)
start = time.perf_counter()
ip.run_line_magic("load_ext", "ssooidc_jupyter")
elapsed = time.perf_counter() - start
assert "ssooidc" in ip.magics_manager.magics["line"]
sys.stdout.write("BENCH " + json.dumps({"s": elapsed}) + "\\n")
"""

PROBE_IMPORT_BOTO3 = """
import json, sys, time
start = time.perf_counter()
import boto3
elapsed = time.perf_counter() - start
sys.stdout.write("BENCH " + json.dumps({"s": elapsed}) + "\\n")
"""

# login() with a cached registration: one StartDeviceAuthorization, then the prompt callback.
PROBE_CODE_OURS = """
import json, os, sys, time
import ssooidc_jupyter
def shown(prompt):
    sys.stdout.write("BENCH " + json.dumps({"t": time.time(), "code": prompt.user_code}) + "\\n")
    sys.stdout.flush()
    os._exit(0)  # the code is on screen: that is the moment measured
ssooidc_jupyter.login(sys.argv[1], sys.argv[2], endpoint=sys.argv[3], on_prompt=shown)
"""

# The AWS CLI's way: import boto3, an unsigned sso-oidc client, the registration from its
# cache file, StartDeviceAuthorization.
PROBE_CODE_BOTOCORE = """
import json, sys, time
import boto3
from botocore import UNSIGNED
from botocore.config import Config
with open(sys.argv[4]) as f:
    registration = json.load(f)
client = boto3.session.Session().client(
    "sso-oidc", region_name=sys.argv[2], endpoint_url=sys.argv[3],
    config=Config(signature_version=UNSIGNED),
)
answer = client.start_device_authorization(
    clientId=registration["clientId"], clientSecret=registration["clientSecret"],
    startUrl=sys.argv[1],
)
sys.stdout.write("BENCH " + json.dumps({"t": time.time(), "code": answer["userCode"]}) + "\\n")
"""

PROBE_CACHED_OURS = """
import json, sys, time
import ssooidc_jupyter
token = ssooidc_jupyter.login(sys.argv[1], sys.argv[2], session_name=sys.argv[3])
t = time.time()
heavy = sorted(m for m in ("httpx", "httpcore", "anyio", "h11", "ssl", "asyncio", "filelock")
               if m in sys.modules)
answer = {"t": t, "ok": token.expires_at is not None, "heavy": heavy}
sys.stdout.write("BENCH " + json.dumps(answer) + "\\n")
"""

PROBE_CACHED_BOTOCORE = """
import json, sys, time
import botocore.session
from botocore.tokens import SSOTokenProvider
token = SSOTokenProvider(botocore.session.Session(profile=sys.argv[1])).load_token()
frozen = token.get_frozen_token()
sys.stdout.write("BENCH " + json.dumps({"t": time.time(), "ok": bool(frozen.token)}) + "\\n")
"""

PROBE_RSS = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
c = Config(); c.HistoryManager.hist_file = ":memory:"
ip = InteractiveShell.instance(config=c)
before = rss_mb()
ip.run_line_magic("load_ext", "ssooidc_jupyter")
ip.run_line_magic(
    "ssooidc", f"login --wait --start-url {sys.argv[1]} --region {sys.argv[2]} "
    f"--endpoint {sys.argv[3]}")
assert ip.user_ns["ssooidc_token"].expires_at is not None
sys.stdout.write("BENCH " + json.dumps({"mb": rss_mb() - before}) + "\\n")
"""


# ---- helpers ------------------------------------------------------------------------------------


def timeit(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up: connection pools, lazy imports
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@dataclass
class Bench:
    """Where the fresh interpreters run: a throwaway root, its byte-code cache, their env."""

    root: Path

    def env(self, home: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("AWS_ENDPOINT_URL", None)
        env.pop("AWS_PROFILE", None)
        home = home or self.root / "home-empty"
        home.mkdir(parents=True, exist_ok=True)
        env.update(
            HOME=str(home),
            PYTHONPYCACHEPREFIX=str(self.root / "pyc"),
            AWS_CONFIG_FILE=str(home / ".aws" / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            # A dependency's deprecation warning on stderr is not a figure.
            PYTHONWARNINGS="ignore",
        )
        return env

    def home(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, probe: str, *args: str, home: Path | None = None) -> tuple[float, dict[str, Any]]:
        """Run ``probe`` in a fresh interpreter: (seconds from process start, its JSON)."""
        env = self.env(home)
        started = time.time()
        out = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.root,
            timeout=120,
        )
        # The probe's answer is its last line marked BENCH (a shell may print other lines,
        # even start one that the answer then ends).
        marked = [
            line[line.index("BENCH {") + len("BENCH ") :]
            for line in out.stdout.splitlines()
            if "BENCH {" in line
        ]
        if out.returncode != 0 or not marked:
            raise RuntimeError(
                f"probe failed (exit {out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
            )
        result = json.loads(marked[-1])
        return result.get("t", started) - started, result


def interleaved(
    pairs: int, ours: Callable[[], float], theirs: Callable[[], float]
) -> tuple[list[float], list[float]]:
    """``pairs`` samples of each, alternating who goes first; one warm-up of each first (it
    fills the byte-code cache and the page cache)."""
    ours(), theirs()
    a: list[float] = []
    b: list[float] = []
    for i in range(pairs):
        if i % 2:
            b.append(theirs())
            a.append(ours())
        else:
            a.append(ours())
            b.append(theirs())
    return a, b


def ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def approve_on_prompt(emu: Any, delay: float = 0.0) -> Callable[[Any], None]:
    def on_prompt(prompt: Any) -> None:
        threading.Timer(delay, emu.approve, args=(prompt.user_code,)).start()

    return on_prompt


# ---- the figures of issue 10 ----------------------------------------------------------------


def load_ext_figures(bench: Bench, pairs: int, samples: dict[str, list[float]]) -> dict[str, Any]:
    ours, theirs = interleaved(
        pairs,
        lambda: bench.run(PROBE_LOAD_EXT)[1]["s"],
        lambda: bench.run(PROBE_IMPORT_BOTO3)[1]["s"],
    )
    samples["load_ext_ms"] = [s * 1000 for s in ours]
    samples["import_boto3_ms"] = [s * 1000 for s in theirs]
    return {"load_ext_ms": ms(ours), "import_boto3_ms": ms(theirs)}


def cached_registration(emu: Any, home: Path) -> Path:
    """A first login in ``home`` that stops at the prompt: the registration is cached, no
    token. Returns the registration's cache file."""
    import ssooidc_jupyter as sj

    cache = home / ".aws" / "sso" / "cache"
    cancel = threading.Event()
    with contextlib.suppress(sj.LoginCancelledError):
        sj.login(
            emu.start_url,
            emu.region,
            endpoint=emu.url,
            cache=cache,
            on_prompt=lambda prompt: cancel.set(),
            cancel=cancel,
        )
    for path in cache.glob("*.json"):
        if "clientId" in json.loads(path.read_text()):
            return path
    raise RuntimeError("the first login cached no registration")


def time_to_code_figures(
    bench: Bench, pairs: int, samples: dict[str, list[float]]
) -> dict[str, Any]:
    import ssooidc_jupyter as sj
    from ssooidc_jupyter.emulator import Emulator

    # Nobody approves: every probe stops at its code. A long interval: no poll in between.
    with Emulator(interval=5) as emu:
        home = bench.home("home-registered")
        registration = cached_registration(emu, home)
        where = (emu.start_url, emu.region, emu.url)
        ours, theirs = interleaved(
            pairs,
            lambda: bench.run(PROBE_CODE_OURS, *where, home=home)[0],
            lambda: bench.run(PROBE_CODE_BOTOCORE, *where, str(registration), home=home)[0],
        )

        # The requests before the code, in process, on the same cached registration.
        before = len(emu.requests)
        counted: list[int] = []
        cancel = threading.Event()

        def shown(prompt: Any) -> None:
            counted.append(len(emu.requests) - before)
            cancel.set()

        with contextlib.suppress(sj.LoginCancelledError):
            sj.login(
                emu.start_url,
                emu.region,
                endpoint=emu.url,
                cache=home / ".aws" / "sso" / "cache",
                on_prompt=shown,
                cancel=cancel,
            )
    samples["time_to_code_ms"] = [s * 1000 for s in ours]
    samples["botocore_time_to_code_ms"] = [s * 1000 for s in theirs]
    return {
        "time_to_code_ms": ms(ours),
        "botocore_time_to_code_ms": ms(theirs),
        "requests_to_code_warm": counted[0],
    }


def detection_figures(bench: Bench, logins: int, interval: float) -> dict[str, Any]:
    """Approve at a random moment after the code shows; time until login() returns."""
    import ssooidc_jupyter as sj
    from ssooidc_jupyter.emulator import Emulator

    rng = random.Random(10)
    latencies: list[float] = []
    with Emulator(interval=interval) as emu:
        cache = bench.home("home-detection") / "cache"
        for _ in range(logins):
            delay = rng.uniform(0, 2 * interval)
            approved: list[float] = []

            def on_prompt(
                prompt: Any, delay: float = delay, approved: list[float] = approved
            ) -> None:
                def approve() -> None:
                    approved.append(time.perf_counter())
                    emu.approve(prompt.user_code)

                threading.Timer(delay, approve).start()

            sj.login(
                emu.start_url,
                emu.region,
                endpoint=emu.url,
                cache=cache,
                force=True,
                timeout=60,
                on_prompt=on_prompt,
            )
            latencies.append(time.perf_counter() - approved[0])
    return {
        "detection_latency_max_ms": round(max(latencies) * 1000, 2),
        "interval_ms": round(interval * 1000, 2),
    }


def cached_login_figures(
    bench: Bench, pairs: int, repeat: int, samples: dict[str, list[float]]
) -> dict[str, Any]:
    import ssooidc_jupyter as sj
    from ssooidc_jupyter.emulator import Emulator

    with Emulator(interval=0.05) as emu:
        home = bench.home("home-signed-in")
        cache = home / ".aws" / "sso" / "cache"
        sj.login(
            emu.start_url,
            emu.region,
            endpoint=emu.url,
            cache=cache,
            session_name="bench",
            on_prompt=approve_on_prompt(emu),
        )
        # The same sign-in in botocore's words: an sso-session of the config file.
        (home / ".aws" / "config").write_text(
            "[profile bench]\nsso_session = bench\n[sso-session bench]\n"
            f"sso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
        )

        def again() -> Any:
            return sj.login(emu.start_url, emu.region, cache=cache, session_name="bench")

        before = len(emu.requests)
        in_process = timeit(again, repeat)
        reused = len(emu.requests) - before

    heavy: list[str] = []

    def ours() -> float:
        seconds, result = bench.run(
            PROBE_CACHED_OURS, emu.start_url, emu.region, "bench", home=home
        )
        assert result["ok"]
        heavy[:] = result["heavy"]
        return seconds

    def theirs() -> float:
        seconds, result = bench.run(PROBE_CACHED_BOTOCORE, "bench", home=home)
        assert result["ok"]
        return seconds

    a, b = interleaved(pairs, ours, theirs)
    samples["cached_login_fresh_process_ms"] = [s * 1000 for s in a]
    samples["botocore_cached_token_fresh_process_ms"] = [s * 1000 for s in b]
    return {
        "requests_cached_reuse": reused,
        "cached_login_ms": round(in_process * 1000, 3),
        "cached_login_fresh_process_ms": ms(a),
        "botocore_cached_token_fresh_process_ms": ms(b),
        "cached_login_fresh_process_imports": heavy,
    }


class Kernel:
    """A real IPython kernel through jupyter_client, for execute round trips."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        from jupyter_client.manager import KernelManager

        self.manager = KernelManager(kernel_name="python3")
        # The kernel's own log (a TCP warning) is not a figure: keep it off the table.
        self.manager.start_kernel(env=env, cwd=str(cwd), stderr=subprocess.DEVNULL)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def execute(self, code: str) -> float:
        started = time.perf_counter()
        msg_id = self.client.execute(code, store_history=False)
        while True:
            reply = self.client.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        elapsed = time.perf_counter() - started
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{code!r} failed in the kernel: {reply['content'].get('ename')}")
        return elapsed

    def sample(self, rounds: int, spread: float, rng: random.Random) -> list[float]:
        """``rounds`` round trips of a trivial request, at random moments over about
        ``rounds * spread / 2`` seconds (so that they meet the sign-in's polls)."""
        found = []
        for _ in range(rounds):
            time.sleep(rng.uniform(0, spread))
            found.append(self.execute("1"))
        return found

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def kernel_figures(bench: Bench, rounds: int, samples: dict[str, list[float]]) -> dict[str, Any]:
    from ssooidc_jupyter.emulator import Emulator

    home = bench.home("home-kernel")
    rng = random.Random(10)
    interval = 0.2
    with Emulator(interval=interval) as emu:  # nobody approves: the sign-in stays pending, polling
        kernel = Kernel(bench.env(home), bench.root)
        try:
            kernel.execute("%load_ext ssooidc_jupyter")
            for _ in range(3):
                kernel.execute("1")  # warm up
            idle = kernel.sample(rounds // 2, interval, rng)
            kernel.execute(
                f"%ssooidc login --start-url {emu.start_url} --region {emu.region} "
                f"--endpoint {emu.url}"
            )
            deadline = time.monotonic() + 30
            while not emu.user_codes:  # the code is out: the sign-in is pending
                if time.monotonic() > deadline:
                    raise RuntimeError("the kernel's sign-in never asked for a code")
                time.sleep(0.01)
            polls = sum(r["operation"] == "CreateToken" for r in emu.requests)
            during = kernel.sample(rounds, interval, rng)
            polls = sum(r["operation"] == "CreateToken" for r in emu.requests) - polls
            kernel.execute("%ssooidc cancel")
            idle += kernel.sample(rounds - rounds // 2, interval, rng)
        finally:
            kernel.close()
    if polls < 2:
        raise RuntimeError("the sign-in did not poll while the round trips were measured")
    samples["kernel_latency_during_login_ms"] = [s * 1000 for s in during]
    samples["kernel_latency_idle_ms"] = [s * 1000 for s in idle]
    return {"kernel_latency_during_login_ms": ms(during), "kernel_latency_idle_ms": ms(idle)}


def rss_figures(bench: Bench, runs: int) -> dict[str, Any]:
    from ssooidc_jupyter.emulator import Emulator

    deltas = []
    with Emulator(interval=0.05, auto_approve=0.0) as emu:
        for i in range(runs):
            home = bench.home(f"home-rss-{i}")
            _, result = bench.run(PROBE_RSS, emu.start_url, emu.region, emu.url, home=home)
            deltas.append(result["mb"])
    return {"rss_delta_mb": round(statistics.median(deltas), 2)}


# Each figure of issue 10: (ours key, theirs key or None, target text, met(figures) -> bool).
FIGURES: list[tuple[str, str | None, str, Callable[[dict[str, Any]], bool]]] = [
    # Issue 20, in Chromium (benchmarks/statusbar.py): a kernel's sign-in reaching every open
    # tab, an idle tab's requests, Shift+Enter on %ssooidc login to the code on screen.
    ("status_latency_ms", None, "<= 500 ms", lambda f: f["status_latency_ms"] <= 500),
    ("idle_requests_per_min", None, "== 0", lambda f: f["idle_requests_per_min"] == 0),
    (
        "warm_kernel_time_to_code_ms",
        "botocore_warm_kernel_time_to_code_ms",
        "(reported)",
        lambda f: True,
    ),
    (
        "load_ext_ms",
        "import_boto3_ms",
        "< 3% of import boto3",
        lambda f: f["load_ext_ms"] < 0.03 * f["import_boto3_ms"],
    ),
    (
        "time_to_code_ms",
        "botocore_time_to_code_ms",
        "<= 0.4x botocore",
        lambda f: f["time_to_code_ms"] <= 0.4 * f["botocore_time_to_code_ms"],
    ),
    ("requests_to_code_warm", None, "== 1", lambda f: f["requests_to_code_warm"] == 1),
    (
        "detection_latency_max_ms",
        "interval_ms",
        "<= interval + 100 ms",
        lambda f: f["detection_latency_max_ms"] <= f["interval_ms"] + 100,
    ),
    ("requests_cached_reuse", None, "== 0", lambda f: f["requests_cached_reuse"] == 0),
    ("cached_login_ms", None, "< 5 ms", lambda f: f["cached_login_ms"] < 5),
    (
        "cached_login_fresh_process_ms",
        "botocore_cached_token_fresh_process_ms",
        "<= 0.3x botocore",
        lambda f: (
            f["cached_login_fresh_process_ms"] <= 0.3 * f["botocore_cached_token_fresh_process_ms"]
        ),
    ),
    (
        "kernel_latency_during_login_ms",
        "kernel_latency_idle_ms",
        "< 50 ms",
        lambda f: f["kernel_latency_during_login_ms"] < 50,
    ),
    ("rss_delta_mb", None, "(reported)", lambda f: True),
    # A fresh client's first request: TCP (+ TLS handshake) + RegisterClient; the difference
    # between the rows is what TLS costs per new connection (kept alive afterwards).
    ("first_request_tls_ms", "first_request_http_ms", "(reported)", lambda f: True),
    (
        "botocore_first_request_tls_ms",
        "botocore_first_request_http_ms",
        "(reported)",
        lambda f: True,
    ),
    ("waiting_notice_ms", None, "<= 1000 ms", lambda f: f["waiting_notice_ms"] <= 1000),
]


# ---- issue 20: a sign-in in progress, seen by whoever waits for it ---------------------------

_WAIT_HOLDER = """
import sys
import ssooidc_jupyter
def shown(prompt):
    sys.stdout.write("PROMPT\\n"); sys.stdout.flush()
try:
    ssooidc_jupyter.login(sys.argv[1], sys.argv[2], session_name="bench", on_prompt=shown)
except ssooidc_jupyter.LoginCancelledError:
    pass
"""
_WAIT_WAITER = """
import json, os, sys, time
import ssooidc_jupyter
started = time.perf_counter()
def notice(message):
    if hasattr(message, "pending"):
        elapsed = time.perf_counter() - started
        sys.stdout.write("BENCH " + json.dumps({"s": elapsed}) + "\\n"); sys.stdout.flush()
        os._exit(0)
ssooidc_jupyter.login(sys.argv[1], sys.argv[2], session_name="bench", on_notice=notice,
                      timeout=30)
"""


def waiting_notice_figures(
    bench: Bench, rounds: int, samples: dict[str, list[float]]
) -> dict[str, Any]:
    """``waiting_notice_ms``: a second process calls ``login()`` while another process holds
    a pending sign-in (its prompt out, nobody approving) -> the waiter is shown that sign-in
    (median; from the call, so the interpreter's start-up is not counted)."""
    from ssooidc_jupyter.auth._cache import TokenCache
    from ssooidc_jupyter.auth._inflight import request_cancel
    from ssooidc_jupyter.auth._models import token_cache_key
    from ssooidc_jupyter.emulator import Emulator

    home = bench.home("home-waiting")
    env = bench.env(home)
    cache = TokenCache(home / ".aws" / "sso" / "cache")
    found: list[float] = []
    with Emulator(interval=0.05) as emu:
        env["AWS_ENDPOINT_URL"] = emu.url
        where = (emu.start_url, emu.region)
        for _ in range(rounds):
            holder = subprocess.Popen(
                [sys.executable, "-c", _WAIT_HOLDER, *where],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
                cwd=bench.root,
            )
            try:
                assert holder.stdout is not None
                if holder.stdout.readline().strip() != "PROMPT":
                    raise RuntimeError("the holding sign-in showed no prompt")
                out = subprocess.run(
                    [sys.executable, "-c", _WAIT_WAITER, *where],
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=bench.root,
                    timeout=60,
                )
                marked = [ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")]
                if not marked:
                    raise RuntimeError(f"the waiter saw nothing:\n{out.stderr[-2000:]}")
                found.append(json.loads(marked[-1][len("BENCH ") :])["s"])
                request_cancel(cache, token_cache_key("bench", ""))
                holder.wait(30)
            finally:
                if holder.poll() is None:
                    holder.kill()
                holder.wait()
                if holder.stdout is not None:
                    holder.stdout.close()
    samples["waiting_notice"] = found
    return {"waiting_notice_ms": ms(found)}


def tls_figures(repeat: int) -> dict[str, Any]:
    """RegisterClient on a new connection, over plain HTTP and over TLS (Emulator(tls=True),
    its CA in AWS_CA_BUNDLE as behind a company proxy), in process: ours with a fresh client
    each time (its construction included), botocore's with its pool emptied each time."""
    import boto3
    from botocore.config import Config

    from ssooidc_jupyter import ssooidc
    from ssooidc_jupyter.emulator import Emulator

    def ours(url: str) -> None:
        with ssooidc(endpoint=url, region="us-east-1") as client:
            client.register_client(clientName="bench", clientType="public")

    clients: dict[str, Any] = {}

    def theirs(url: str) -> None:
        # One client (making one costs ~20 ms: models, not the network); its connection
        # pool is emptied after each call, so every call opens a new connection.
        if url not in clients:
            clients[url] = boto3.session.Session().client(
                "sso-oidc",
                region_name="us-east-1",
                endpoint_url=url,
                config=Config(retries={"total_max_attempts": 1}),
            )
        clients[url].register_client(clientName="bench", clientType="public")
        clients[url]._endpoint.http_session.close()

    figures: dict[str, Any] = {}
    saved = os.environ.get("AWS_CA_BUNDLE")
    try:
        for scheme in ("http", "tls"):
            with Emulator(tls=scheme == "tls") as emu:
                if emu.ca_file:
                    os.environ["AWS_CA_BUNDLE"] = emu.ca_file
                ours(emu.url)  # warm: imports, the SSL context of the CA setting
                theirs(emu.url)
                figures[f"first_request_{scheme}_ms"] = timeit(lambda: ours(emu.url), repeat) * 1000
                figures[f"botocore_first_request_{scheme}_ms"] = (
                    timeit(lambda: theirs(emu.url), repeat) * 1000
                )
    finally:
        for client in clients.values():
            client.close()
        os.environ.pop("AWS_CA_BUNDLE", None)
        if saved is not None:
            os.environ["AWS_CA_BUNDLE"] = saved
    return {key: round(value, 3) for key, value in figures.items()}


def figures_table(figures: dict[str, Any]) -> str:
    head = ("figure", "ours", "theirs", "ratio", "target", "")
    rows = [head]
    for ours, theirs, target, met in FIGURES:
        if ours not in figures:
            continue  # not measured in this run (the browser figures without Chromium)
        value = figures[ours]
        other = figures[theirs] if theirs else None
        ratio = f"{value / other:.2f}x" if other else ""
        rows.append(
            (
                f"{ours}" + (f" / {theirs}" if theirs else ""),
                f"{value:g}",
                "" if other is None else f"{other:g}",
                ratio,
                target,
                "met" if met(figures) else "MISSED",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(w) if i in (0, 4, 5) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


# ---- single in-process operations (today's table) -------------------------------------------


def subprocess_time(bench: Bench, code: str, repeat: int) -> float:
    probe = (
        f"import json, sys, time; t = time.perf_counter(); {code}; "
        "sys.stdout.write('BENCH ' + json.dumps({'s': time.perf_counter() - t}) + '\\n')"
    )
    bench.run(probe)  # warm up the byte-code cache
    return statistics.median(bench.run(probe)[1]["s"] for _ in range(repeat))


def operations_table(
    bench: Bench, repeat: int, import_repeat: int
) -> list[tuple[str, float, float]]:
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.tokens import SSOTokenProvider
    from botocore.utils import JSONFileCache

    import ssooidc_jupyter as sj
    from ssooidc_jupyter.auth._cache import cache_dir
    from ssooidc_jupyter.emulator import Emulator

    rows: list[tuple[str, float, float]] = []
    with Emulator(interval=0.05, auto_approve=0.0) as emu:
        ours = sj.ssooidc(endpoint=emu.url, region=emu.region)
        boto = botocore.session.get_session().create_client(
            "sso-oidc",
            region_name=emu.region,
            endpoint_url=emu.url,
            config=Config(signature_version=UNSIGNED),
        )
        reg = ours.register_client(clientName="bench", clientType="public")
        device = {
            "clientId": reg["clientId"],
            "clientSecret": reg["clientSecret"],
            "startUrl": emu.start_url,
        }
        rows.append(
            (
                "RegisterClient round trip",
                timeit(lambda: ours.register_client(clientName="b", clientType="public"), repeat),
                timeit(lambda: boto.register_client(clientName="b", clientType="public"), repeat),
            )
        )
        rows.append(
            (
                "StartDeviceAuthorization round trip",
                timeit(lambda: ours.start_device_authorization(**device), repeat),
                timeit(lambda: boto.start_device_authorization(**device), repeat),
            )
        )

        with Emulator(interval=0.05) as emu_pending:
            ours_p = sj.ssooidc(endpoint=emu_pending.url, region=emu.region)
            boto_p = botocore.session.get_session().create_client(
                "sso-oidc",
                region_name=emu.region,
                endpoint_url=emu_pending.url,
                config=Config(signature_version=UNSIGNED),
            )
            reg_p = ours_p.register_client(clientName="bench", clientType="public")
            auth_p = ours_p.start_device_authorization(
                clientId=reg_p["clientId"],
                clientSecret=reg_p["clientSecret"],
                startUrl=emu_pending.start_url,
            )
            poll = {
                "clientId": reg_p["clientId"],
                "clientSecret": reg_p["clientSecret"],
                "grantType": "urn:ietf:params:oauth:grant-type:device_code",
                "deviceCode": auth_p["deviceCode"],
            }

            def poll_ours() -> None:
                # pending or slow_down: an error answer, parsed into an exception
                with contextlib.suppress(sj.SSOOIDCError):
                    ours_p.create_token(**poll)

            def poll_boto() -> None:
                with contextlib.suppress(boto_p.exceptions.ClientError):
                    boto_p.create_token(**poll)

            rows.append(
                (
                    "CreateToken error answer (pending/slow_down)",
                    timeit(poll_ours, repeat),
                    timeit(poll_boto, repeat),
                )
            )
            ours_p.close()

        # A cached-token sign-in: ours reads and checks the cache; botocore's token provider
        # does the same for an sso-session profile.
        sj.login(
            emu.start_url, emu.region, endpoint=emu.url, on_prompt=lambda p: None, session_name="b"
        )
        Path(os.environ["AWS_CONFIG_FILE"]).write_text(
            f"[profile bench]\nsso_session = b\n[sso-session b]\n"
            f"sso_start_url = {emu.start_url}\nsso_region = {emu.region}\n"
        )
        core = botocore.session.Session(profile="bench")
        provider = SSOTokenProvider(core, cache=JSONFileCache(str(cache_dir())))
        rows.append(
            (
                "cached-token login (no network)",
                timeit(lambda: sj.login(emu.start_url, emu.region, session_name="b"), repeat),
                timeit(lambda: provider.load_token().get_frozen_token(), repeat),
            )
        )
        rows.append(
            (
                "client construction",
                timeit(lambda: sj.ssooidc(endpoint=emu.url, region=emu.region).close(), repeat),
                timeit(
                    lambda: botocore.session.get_session().create_client(
                        "sso-oidc",
                        region_name=emu.region,
                        endpoint_url=emu.url,
                        config=Config(signature_version=UNSIGNED),
                    ),
                    max(5, repeat // 10),
                ),
            )
        )
        ours.close()

    rows.append(
        (
            "import (fresh interpreter)",
            subprocess_time(bench, "import ssooidc_jupyter", import_repeat),
            subprocess_time(bench, "import botocore.session", import_repeat),
        )
    )
    rows.append(
        (
            "import + client module (fresh interpreter)",
            subprocess_time(
                bench, "import ssooidc_jupyter; ssooidc_jupyter.ssooidc", import_repeat
            ),
            subprocess_time(
                bench,
                "import botocore.session; botocore.session.get_session()"
                ".create_client('sso-oidc', region_name='us-east-1')",
                import_repeat,
            ),
        )
    )
    return rows


def operations_text(rows: list[tuple[str, float, float]]) -> str:
    width = max(len(r[0]) for r in rows)
    lines = [f"{'operation':<{width}}  {'ours':>10}  {'botocore':>10}  {'ratio':>7}"]
    for name, ours_t, boto_t in rows:
        lines.append(
            f"{name:<{width}}  {ours_t * 1e3:>8.3f}ms  {boto_t * 1e3:>8.3f}ms  "
            f"{boto_t / ours_t:>6.1f}x"
        )
    return "\n".join(lines)


# ---- the run ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": None if load is None else [round(x, 2) for x in load],
    }


@contextlib.contextmanager
def isolated() -> Iterator[Path]:
    """A throwaway root; this process's HOME and AWS files point into it."""
    root = Path(tempfile.mkdtemp(prefix="ssooidc-bench-"))
    saved = dict(os.environ)
    home = root / "home-parent"
    home.mkdir()
    os.environ.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    try:
        yield root
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="ssooidc-jupyter against botocore, side by side (see the module docstring)."
    )
    parser.add_argument("--quick", action="store_true", help="few repetitions (a CI smoke test)")
    parser.add_argument("--json", type=Path, help="also write the figures here, as one object")
    parser.add_argument("--plot", type=Path, help="also plot time-to-code to this PNG")
    parser.add_argument(
        "--browser",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the status-bar figures in Chromium on a real JupyterLab (default: on, off "
        "with --quick)",
    )
    args = parser.parse_args(argv)

    pairs = 3 if args.quick else 15
    repeat = 20 if args.quick else 200
    import_repeat = 3 if args.quick else 7
    interval = 0.2 if args.quick else 1.0
    logins = 10 if args.quick else 12
    rounds = 10 if args.quick else 40

    figures: dict[str, Any] = {}
    samples: dict[str, list[float]] = {}
    info = machine()
    started = time.perf_counter()
    with isolated() as root:
        bench = Bench(root=root)
        figures.update(load_ext_figures(bench, pairs, samples))
        figures.update(time_to_code_figures(bench, pairs, samples))
        figures.update(detection_figures(bench, logins, interval))
        figures.update(cached_login_figures(bench, pairs, repeat, samples))
        figures.update(kernel_figures(bench, rounds, samples))
        figures.update(rss_figures(bench, 1 if args.quick else 3))
        figures.update(tls_figures(10 if args.quick else 50))
        figures.update(waiting_notice_figures(bench, 3 if args.quick else 10, samples))
        rows = operations_table(bench, repeat, import_repeat)
        if args.browser or (args.browser is None and not args.quick):
            from statusbar import statusbar_figures  # benchmarks/statusbar.py, beside this file

            figures.update(statusbar_figures(root / "browser", quick=args.quick))

    out = sys.stdout
    out.write(figures_table(figures) + "\n")
    out.write(
        f"ratio = ours / theirs (lower: ours faster); medians of {pairs} fresh processes each, "
        f"interleaved; {rounds} kernel round trips; {logins} approvals at random moments\n\n"
    )
    out.write(operations_text(rows) + "\n")
    out.write(
        "ratio = botocore / ours (higher: ours faster); medians of "
        f"{repeat} runs ({import_repeat} for imports)\n"
    )
    out.write(
        f"machine: {info['nproc']} x {info['cpu']}, Python {info['python']}; "
        f"took {time.perf_counter() - started:.0f} s\n"
    )
    result = dict(figures)
    result["targets_met"] = {ours: met(figures) for ours, _, _, met in FIGURES if ours in figures}
    result["samples"] = {k: [round(v, 3) for v in vs] for k, vs in samples.items()}
    result["operations"] = [
        {"name": n, "ours_s": o, "botocore_s": b, "ratio": b / o} for n, o, b in rows
    ]
    result["machine"] = info
    result["quick"] = args.quick
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.plot:
        from plot import plot  # benchmarks/plot.py, beside this file

        plot([result], args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

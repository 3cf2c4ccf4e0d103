"""The figures of issue 10 and 20 that are not a kernel's or a browser's: what a notebook
user waits for, each sample a fresh interpreter running a probe of ``probes/`` (ours and
botocore's interleaved), or in process against the emulator."""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench_tools import Bench, approve_on_prompt, interleaved, ms, timeit


def load_ext_figures(bench: Bench, pairs: int, samples: dict[str, list[float]]) -> dict[str, Any]:
    ours, theirs = interleaved(
        pairs,
        lambda: bench.run("load_ext")[1]["s"],
        lambda: bench.run("import_boto3")[1]["s"],
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
            lambda: bench.run("code_ours", *where, home=home)[0],
            lambda: bench.run("code_botocore", *where, str(registration), home=home)[0],
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
        seconds, result = bench.run("cached_ours", emu.start_url, emu.region, "bench", home=home)
        assert result["ok"]
        heavy[:] = result["heavy"]
        return seconds

    def theirs() -> float:
        seconds, result = bench.run("cached_botocore", "bench", home=home)
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


def rss_figures(bench: Bench, runs: int) -> dict[str, Any]:
    from ssooidc_jupyter.emulator import Emulator

    deltas = []
    with Emulator(interval=0.05, auto_approve=0.0) as emu:
        for i in range(runs):
            home = bench.home(f"home-rss-{i}")
            _, result = bench.run("rss", emu.start_url, emu.region, emu.url, home=home)
            deltas.append(result["mb"])
    return {"rss_delta_mb": round(statistics.median(deltas), 2)}


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
                bench.command("wait_holder", *where),
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
                    bench.command("wait_waiter", *where),
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

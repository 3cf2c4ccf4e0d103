"""``benchmarks/run.py --quick`` as a smoke test: it runs end to end (emulator, fresh
interpreters, a real kernel) and writes every figure of issue 10 with the right type.

Never a timing assertion: the figures depend on the machine. The counts are exact, though:
one request to the code, none for a cached sign-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._support import ROOT

MILLISECONDS = [
    "load_ext_ms",
    "import_boto3_ms",
    "time_to_code_ms",
    "botocore_time_to_code_ms",
    "detection_latency_max_ms",
    "interval_ms",
    "cached_login_ms",
    "cached_login_fresh_process_ms",
    "botocore_cached_token_fresh_process_ms",
    "kernel_latency_during_login_ms",
    "kernel_latency_idle_ms",
    # A new connection over plain HTTP and over TLS (Emulator(tls=True)), ours and botocore's.
    "first_request_http_ms",
    "first_request_tls_ms",
    "botocore_first_request_http_ms",
    "botocore_first_request_tls_ms",
    # Issue 20: a second process's login() is shown the sign-in another process holds.
    "waiting_notice_ms",
]
COUNTS = ["requests_to_code_warm", "requests_cached_reuse"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quick_run_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=230,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())

    for key in MILLISECONDS:
        assert type(figures[key]) is float, (key, figures[key])
        assert figures[key] >= 0, key
    for key in COUNTS:
        assert type(figures[key]) is int, (key, figures[key])
    assert type(figures["rss_delta_mb"]) is float
    # Counted by the emulator, not timed: exact on any machine.
    assert figures["requests_to_code_warm"] == 1
    assert figures["requests_cached_reuse"] == 0
    # The printed table names every figure.
    for key in [*MILLISECONDS, *COUNTS, "rss_delta_mb"]:
        assert key in done.stdout, key
    # The samples behind the medians, for the plot.
    assert len(figures["samples"]["time_to_code_ms"]) == len(
        figures["samples"]["botocore_time_to_code_ms"]
    )


BROWSER_MILLISECONDS = [
    "status_latency_ms",
    "warm_kernel_time_to_code_ms",
    "botocore_warm_kernel_time_to_code_ms",
]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_browser_figures(tmp_path: Path) -> None:
    """Issue 20's figures (benchmarks/statusbar.py), quick, in Chromium: each a float; an
    idle tab's requests to our routes counted by the browser, exactly 0."""
    sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests" / "browser")]
    from _harness import missing_requirement
    from statusbar import statusbar_figures

    if missing_requirement() is not None:
        pytest.skip(f"needs Chromium and playwright: {missing_requirement()}")
    figures = statusbar_figures(tmp_path, quick=True)
    for key in BROWSER_MILLISECONDS:
        assert type(figures[key]) is float and figures[key] > 0, (key, figures[key])
    assert figures["idle_requests_per_min"] == 0

"""``import boto3`` in a fresh interpreter: its duration ("s"), what %load_ext is held to."""

import json
import sys
import time

start = time.perf_counter()
import boto3  # noqa: E402, F401  (the import is what is timed)

elapsed = time.perf_counter() - start
sys.stdout.write("BENCH " + json.dumps({"s": elapsed}) + "\n")

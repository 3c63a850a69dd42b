#!/usr/bin/env python3
"""Times a local JIT worker's start: launch to the first byte of its ready frame, median of 7.

Usage: python3 bench/worker-start.py EXECUTABLE ASSEMBLIES [NAME=VALUE ...]
  EXECUTABLE  the application (its apphost), e.g. bench/Neutral.Benchmarks/bin/Release/net10.0/Neutral.Benchmarks
  ASSEMBLIES  what the client passes in NEUTRAL_WORKER_ASSEMBLIES, e.g. "MonteCarlo;Neutral.Bench.Functions;Neutral.Benchmarks"
  NAME=VALUE  more environment for the worker, e.g. DOTNET_TC_QuickJitForLoops=1

The environment is the one the local provider's client gives its workers (docs/local-provider.md).
"""
import os
import subprocess
import sys
import time

if len(sys.argv) < 3:
    sys.exit(__doc__)
executable, assemblies = sys.argv[1], sys.argv[2]
env = dict(os.environ, NEUTRAL_WORKER="local", DOTNET_STARTUP_HOOKS="Neutral.Workers", DOTNET_TC_QuickJitForLoops="0",
           NEUTRAL_FORWARD_OUTPUT="1", NEUTRAL_LOCAL_JOB_DATA="memory", NEUTRAL_WORKER_ASSEMBLIES=assemblies)
env.update(a.split("=", 1) for a in sys.argv[3:])
times = []
for _ in range(7):
    start = time.perf_counter()
    worker = subprocess.Popen([executable], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    if not worker.stdout.read(1):
        sys.exit(f"the worker exited before its ready frame (exit code {worker.wait()})")
    times.append((time.perf_counter() - start) * 1000)
    worker.stdin.close()  # no shutdown frame: the worker exits as when its client is gone
    worker.wait()
times.sort()
print(f"worker launch to ready frame: median {times[3]:.1f} ms, min {times[0]:.1f} ms")

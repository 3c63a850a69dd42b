#!/usr/bin/env bash
# The test command (README.md): installs what the tests need, builds once, runs every test suite, then publishes the
# NativeAOT smoke worker and fails on any AOT/trim warning.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '\n== %s\n' "$*"; }

# NativeAOT links with clang and zlib (Debian packages).
need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

log "build"
dotnet build Neutral.sln -c Release -nologo -v quiet

log "tests"
results=$(mktemp)
status=0
dotnet test Neutral.sln -c Release --no-build -nologo 2>&1 | tee "$results" || status=$?

log "NativeAOT publish (zero warnings allowed)"
publish_log=$(mktemp)
out=$(mktemp -d)
dotnet publish tests/Neutral.AotSmoke -c Release -o "$out" -nologo 2>&1 | tee "$publish_log"
if grep -E 'warning (IL|CS|NEU)[0-9]+' "$publish_log"; then
  echo "NativeAOT publish produced warnings" >&2
  status=1
fi
aot_passed=0
aot_failed=0
if "$out/Neutral.AotSmoke"; then aot_passed=1; else aot_failed=1; status=1; fi

passed=$(grep -oE 'Passed: +[0-9]+' "$results" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$results" | awk '{s+=$2} END {print s+0}')
printf '\n%d passed, %d failed\n' "$((passed + aot_passed))" "$((failed + aot_failed))"
exit $status

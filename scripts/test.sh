#!/usr/bin/env bash
# The test command (README.md): installs what the tests need, starts the test servers (scripts/services.sh: Redis, Ceph RGW
# for the S3/MinIO stores, Azurite for the Blob store and queues), builds once, runs every test suite, publishes the
# NativeAOT smoke worker (failing on any AOT/trim warning), then packs the packages and builds, publishes and runs a
# consumer app against them (tests/Neutral.Packaging.Tests). Everything it writes outside the repository (temporary
# files, the packages' copies in the NuGet cache) is removed when it ends, except Azurite, installed from npm once into
# ~/.cache/neutral/ (NEUTRAL_AZURITE_CACHE) so that later runs work offline.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# No MSBuild server processes left behind once the command ends.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0

log() { printf '\n== %s\n' "$*"; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/neutral-test.XXXXXX")
export NEUTRAL_SERVICES_DIR="$scratch/services"
trap 'bash scripts/services.sh stop || true; rm -rf "$scratch"' EXIT

# NativeAOT links with clang and zlib (Debian packages). Nothing is installed when they are there, so the command runs
# without root on a machine that has them.
need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "The tests need ${need[*]} (Debian packages); install them, or run this as root." >&2
    exit 1
  fi
  # Another package manager (unattended upgrades at boot, say) may hold the dpkg or apt lists lock: wait for it,
  # bounded (10 minutes), saying so; any other failure stops at once.
  apt_get() {
    local waited=0 err="$scratch/apt.err"
    until "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 "$@" 2>"$err"; do
      if ! grep -qiE 'could not get lock|unable to lock' "$err" || [ "$waited" -ge 600 ]; then
        cat "$err" >&2
        return 1
      fi
      echo "another package manager holds the lock; waiting (${waited} s so far, 600 s at most)" >&2
      sleep 15
      waited=$((waited + 15))
    done
  }
  apt_get update -qq
  apt_get install -y -qq "${need[@]}" >/dev/null
fi

log "build"
dotnet build Neutral.sln -c Release -nologo -v quiet

log "test servers (scripts/services.sh): Ceph RGW, Azurite and Redis on 127.0.0.1"
# Assigned first: a failing start stops the command here (an eval of a failed substitution would not).
service_variables=$(bash scripts/services.sh start)
eval "$service_variables"

log "tests"
# What the tests write to the temporary folder (published apps, about 100 MB, kept for the run) goes under the scratch
# folder, which the exit trap removes.
export TMPDIR="$scratch/tmp"
mkdir -p "$TMPDIR"
results="$scratch/results.txt"
status=0
dotnet test Neutral.sln -c Release --no-build -nologo --filter "Category!=Packaging" 2>&1 | tee "$results" || status=$?

log "NativeAOT publish (zero warnings allowed)"
publish_log="$scratch/publish.txt"
dotnet publish tests/Neutral.AotSmoke -c Release -o "$scratch/aot" -nologo 2>&1 | tee "$publish_log"
if grep -E 'warning (IL|CS|NEU)[0-9]+' "$publish_log"; then
  echo "NativeAOT publish produced warnings" >&2
  status=1
fi
aot_passed=0
aot_failed=0
if "$scratch/aot/Neutral.AotSmoke"; then aot_passed=1; else aot_failed=1; status=1; fi

log "packages: pack, then build, publish (-r, --self-contained, NativeAOT) and run a consumer app"
dotnet test tests/Neutral.Packaging.Tests -c Release --no-build -nologo 2>&1 | tee -a "$results" || status=$?

passed=$(grep -oE 'Passed: +[0-9]+' "$results" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$results" | awk '{s+=$2} END {print s+0}')
# The failed tests again, each with the first line of its message, last: a log cut to its end still names them.
if [ "$failed" -gt 0 ]; then
  printf '\nfailed tests:\n'
  awk '/^ +Failed [A-Za-z_]/ { sub(/^ +/, "  "); print; want = 1; next }
       want && /Error Message:/ { getline; sub(/^ +/, "    "); print; want = 0 }' "$results"
fi
printf '\n%d passed, %d failed\n' "$((passed + aot_passed))" "$((failed + aot_failed))"
exit $status

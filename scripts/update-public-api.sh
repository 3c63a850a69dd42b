#!/usr/bin/env bash
# Adds every undeclared public symbol (RS0016) of a project to its PublicAPI.Unshipped.txt.
# Usage: scripts/update-public-api.sh Abstractions
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:?project folder}
file="$project/PublicAPI.Unshipped.txt"
for _ in 1 2 3; do
  found=$(dotnet build "$project" --no-incremental 2>&1 | grep -oE "RS0016: Symbol '[^']+'" | sed -E "s/RS0016: Symbol '(.*)'/\1/" | sort -u || true)
  [ -z "$found" ] && break
  { tail -n +2 "$file"; printf '%s\n' "$found"; } | grep -v '^$' | sort -u > "$file.tmp"
  { echo '#nullable enable'; cat "$file.tmp"; } > "$file"
  rm "$file.tmp"
done
dotnet build "$project" 2>&1 | grep -E "RS00[0-9]+" | sort -u | head -20 || true

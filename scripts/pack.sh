#!/usr/bin/env bash
# Builds the NuGet packages (Neutral, Neutral.Abstractions with the generator, Neutral.Workers, Neutral.Providers.Aws, Neutral.Providers.Azure, Neutral.Providers.OpenWhisk, Neutral.Providers.Redis, Neutral.Providers.Sdk which they share, Neutral.Testing, and the neutral tool Neutral.Cli) and their symbol
# packages into artifacts/packages. Usage: bash scripts/pack.sh [-p:PackageVersion=0.2.0] [-p:NeutralRepositoryUrl=...]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
dotnet pack Neutral.sln -c Release -nologo -v quiet -o artifacts/packages "$@"
ls -1 artifacts/packages
# The version packed (the default, or -p:PackageVersion=...): the one to reference. NuGet uses a cached copy of a
# version it restored before, silently, so a changed Neutral needs a new version.
properties=()
for argument in "$@"; do
  case "$argument" in -p:*|/p:*) properties+=("$argument") ;; esac
done
version=$(dotnet msbuild Core/Neutral.csproj -getProperty:PackageVersion -p:Configuration=Release "${properties[@]}" 2>/dev/null | tail -1 || true)
echo "packed Neutral ${version}: dotnet add package Neutral --version ${version}"

#!/usr/bin/env bash
# Compiles and lints every Bicep file under infra/ with the Bicep CLI from NuGet.
# Any warning or error fails the check. Needs only the .NET SDK and access to NuGet; the CLI is
# restored once into the git-ignored .tools/ folder and reused (well under a minute when warm).
set -euo pipefail

infra_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$infra_dir")"
bicep="$("$infra_dir/tools/bicep.sh")"

# Nothing may be fetched at build time: no registry modules, no telemetry.
export BICEP_TELEMETRY_ENABLED=false
export DOTNET_CLI_TELEMETRY_OPTOUT=1

cd "$repo_dir"
count="$(find infra -name '*.bicep' | wc -l)"
if [[ $count -eq 0 ]]; then
  echo "infra/check.sh: no .bicep files found under infra/" >&2
  exit 1
fi

out_dir="$(mktemp -d)"
trap 'rm -rf "$out_dir"' EXIT
failed=0
# One process per command over every file keeps this to a few seconds.
for command in lint build; do
  args=("$command" --pattern 'infra/**/*.bicep' --no-restore)
  if [[ $command == build ]]; then
    args+=(--outdir "$out_dir")
  fi
  # Diagnostics go to stderr and the exit code only reflects errors, so warnings are caught by text.
  if ! output="$("$bicep" "${args[@]}" 2>&1)"; then
    failed=1
  fi
  if grep -Eq ': (Warning|Error) ' <<<"$output"; then
    failed=1
  fi
  if [[ -n "$output" ]]; then
    printf '%s\n' "$output" | sed "s#^#[bicep $command] #" >&2
  fi
done

# The scripts next to the templates must at least parse.
for script in infra/*.sh infra/tools/*.sh; do
  bash -n "$script" || failed=1
done

if [[ $failed -ne 0 ]]; then
  echo "infra/check.sh: Bicep reported warnings or errors (treated as failures)" >&2
  exit 1
fi
echo "infra/check.sh: $count Bicep files lint and build cleanly; scripts parse"

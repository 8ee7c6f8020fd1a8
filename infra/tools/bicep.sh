#!/usr/bin/env bash
# Prints the path of the Bicep CLI, restoring it from NuGet into the git-ignored .tools/ folder
# the first time (infra/tools/bicep-cli.csproj). Needs only the .NET SDK and NuGet.
set -euo pipefail

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$tools_dir/../.." && pwd)"
bicep_version="0.49.2"
packages_dir="$repo_dir/.tools/nuget"
bicep="$packages_dir/azure.bicep.commandline.linux-x64/$bicep_version/tools/bicep"

if [[ ! -f "$bicep" ]]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "bicep: the .NET SDK (dotnet) is required to fetch the Bicep CLI from NuGet" >&2
    exit 2
  fi
  echo "bicep: restoring Bicep CLI $bicep_version from NuGet into .tools/" >&2
  dotnet restore "$tools_dir/bicep-cli.csproj" --packages "$packages_dir" --verbosity quiet \
    -p:BicepVersion="$bicep_version" >&2
fi
# NuGet does not always keep the executable bit when it extracts a package.
[[ -x "$bicep" ]] || chmod +x "$bicep"
echo "$bicep"

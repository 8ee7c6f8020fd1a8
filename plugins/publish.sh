#!/usr/bin/env bash
# Publishes every plugin for linux-x64 into OUTDIR: OUTDIR/snmp, OUTDIR/ssh.
# Usage: plugins/publish.sh OUTDIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
plugins=(Nms.Plugins.Snmp Nms.Plugins.Ssh)

# Skip the (slow) native link when no plugin source changed since the last publish into this OUTDIR.
stamp="$out/.publish-stamp"
fingerprint="$(cd "$here" && find . -path '*/bin' -prune -o -path '*/obj' -prune -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.sh' \) -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
fingerprint="$fingerprint-$(sha256sum "$here/../Directory.Build.props" "$here/../Directory.Packages.props" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$fingerprint" ]] && [[ -x "$out/snmp" && -x "$out/ssh" && -f "$out/snmp.manifest.json" ]]; then
  echo "plugins: up to date in $out" >&2
  exit 0
fi

for project in "${plugins[@]}"; do
  echo "plugins: publishing $project" >&2
  dotnet publish "$here/$project/$project.csproj" -c Release -r linux-x64 -o "$out" --nologo -v quiet -p:DebugType=none >&2
done

# Each plugin declares what it supports (serve mode: one long-running process per app instance) beside itself.
for name in snmp ssh; do
  "$out/$name" -manifest > "$out/$name.manifest.json"
done

echo "$fingerprint" > "$stamp"
echo "plugins: published into $out" >&2

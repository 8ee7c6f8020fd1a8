#!/usr/bin/env bash
# Builds Nms.Functions, deploys infra/main.bicep to a resource group and the app package to the
# Function App, then prints the API URL. `./nms deploy ARGS` calls this with the same ARGS.
#
#   infra/deploy.sh --resource-group RG [--location REGION] [options]
#
# Run `infra/deploy.sh --help` for the options. See infra/README.md for what gets created.
set -euo pipefail

infra_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$infra_dir")"

usage() {
  cat <<'EOF'
Usage: infra/deploy.sh --resource-group RG [options]

Deploys Nms.Functions to Azure: builds and publishes the app (linux-x64) with its plugins,
deploys infra/main.bicep with the Azure CLI, uploads the package and prints the API URL.
Needs the Azure CLI (az), a login (az login) and the .NET SDK.

Options:
  -g, --resource-group RG   Resource group to deploy into (created if missing). Required.
  -l, --location REGION     Region for a new resource group (default: the group's, or eastus2).
  --plan flex|premium       Hosting plan (default flex: Flex Consumption, TCP reachability).
                            premium runs infra/Dockerfile's image (ICMP via fping).
  --image REF               premium: image already pushed (e.g. myacr.azurecr.io/nms-functions:1).
  --acr NAME                premium: build the image in Azure Container Registry NAME with
                            `az acr build` (no local Docker needed) and deploy it.
  --name-prefix PREFIX      Resource name prefix (default nms).
  --crypto-keys ID[,ID...]  Credential-encryption key ids to keep (default: key1). New ids get a
                            generated key in Key Vault; stored ones are never changed.
  --active-key ID           Key id new secrets are sealed under (default: the last --crypto-keys id).
  --parameter NAME=VALUE    Extra main.bicep parameter (repeatable), e.g. postgresSkuTier=Burstable.
  --build-only              Build and stage the package in artifacts/deploy/, deploy nothing.
  --skip-build              Reuse the package already staged in artifacts/deploy/.
  -h, --help                Show this help.
EOF
}

fail() {
  echo "deploy: $*" >&2
  exit 1
}

resource_group=""
location=""
plan="flex"
image=""
acr=""
name_prefix="nms"
crypto_keys="key1"
active_key=""
build_only=false
skip_build=false
extra_parameters=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    -g | --resource-group) resource_group="${2:-}"; shift 2 ;;
    -l | --location) location="${2:-}"; shift 2 ;;
    --plan) plan="${2:-}"; shift 2 ;;
    --image) image="${2:-}"; shift 2 ;;
    --acr) acr="${2:-}"; shift 2 ;;
    --name-prefix) name_prefix="${2:-}"; shift 2 ;;
    --crypto-keys) crypto_keys="${2:-}"; shift 2 ;;
    --active-key) active_key="${2:-}"; shift 2 ;;
    --parameter) extra_parameters+=("${2:-}"); shift 2 ;;
    --build-only) build_only=true; shift ;;
    --skip-build) skip_build=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown option '$1' (see infra/deploy.sh --help)" ;;
  esac
done

# ---- Refuse early, with one line saying what is missing ----------------------------------

if [[ $build_only == false ]]; then
  command -v az >/dev/null 2>&1 ||
    fail "the Azure CLI (az) is not installed; install it (https://aka.ms/azure-cli) and run 'az login'"
  az account show --output none >/dev/null 2>&1 ||
    fail "not logged in to Azure; run 'az login' (and 'az account set --subscription ...')"
  [[ -n $resource_group ]] || fail "missing --resource-group RG"
fi
[[ $plan == flex || $plan == premium ]] || fail "--plan must be flex or premium, not '$plan'"
if [[ $plan == premium && $build_only == false && -z $image && -z $acr ]]; then
  fail "--plan premium needs --image REF (already pushed) or --acr NAME (build with az acr build)"
fi
command -v dotnet >/dev/null 2>&1 || [[ $skip_build == true ]] ||
  fail "the .NET SDK (dotnet) is not installed"
command -v zip >/dev/null 2>&1 || [[ $skip_build == true ]] ||
  fail "zip is not installed (needed to build the package)"

IFS=',' read -r -a key_ids <<<"$crypto_keys"
[[ ${#key_ids[@]} -gt 0 ]] || fail "--crypto-keys needs at least one key id"
for id in "${key_ids[@]}"; do
  [[ $id =~ ^[A-Za-z0-9]{1,32}$ ]] ||
    fail "crypto key id '$id' must be 1-32 letters or digits (it becomes part of a setting and secret name)"
done
active_key="${active_key:-${key_ids[${#key_ids[@]}-1]}}"
[[ " ${key_ids[*]} " == *" $active_key "* ]] ||
  fail "--active-key '$active_key' is not one of --crypto-keys ($crypto_keys)"

# ---- Build and stage the package ----------------------------------------------------------

stage_dir="$repo_dir/artifacts/deploy"
app_dir="$stage_dir/app"
package="$repo_dir/artifacts/nms-functions.zip"

build_package() {
  local publish_plugins="$repo_dir/plugins/publish.sh"
  [[ -f $publish_plugins ]] || fail "plugins/publish.sh is missing"
  rm -rf "$stage_dir" "$package"
  mkdir -p "$app_dir"
  echo "deploy: publishing functions/Nms.Functions (Release, linux-x64)" >&2
  dotnet publish "$repo_dir/functions/Nms.Functions/Nms.Functions.csproj" \
    --configuration Release --runtime linux-x64 --self-contained false \
    --output "$app_dir" --nologo --verbosity quiet >&2
  echo "deploy: publishing plugins (Native AOT, linux-x64) into the package" >&2
  bash "$publish_plugins" "$app_dir/plugins" >&2
  local plugin
  for plugin in snmp ssh; do
    [[ -f $app_dir/plugins/$plugin ]] || fail "plugins/publish.sh did not produce plugins/$plugin"
    chmod 0755 "$app_dir/plugins/$plugin"
  done
  cp "$infra_dir/Dockerfile" "$stage_dir/Dockerfile"
  # zip keeps Unix mode bits, so the plugins stay executable once the package is mounted.
  (cd "$app_dir" && zip -q -r -X "$package" .)
  for plugin in snmp ssh; do
    zipinfo "$package" "plugins/$plugin" | grep -q '^-rwx' ||
      fail "plugins/$plugin lost its executable bit in $package"
  done
}

if [[ $skip_build == true ]]; then
  [[ -d $app_dir && -f $package ]] ||
    fail "--skip-build: nothing staged in artifacts/ (run without --skip-build first)"
else
  build_package
fi

if [[ $build_only == true ]]; then
  echo "deploy: staged $stage_dir (app/ and Dockerfile) and $package; nothing deployed"
  exit 0
fi

# ---- Resource group and secrets -----------------------------------------------------------

if [[ $(az group exists --name "$resource_group") != true ]]; then
  location="${location:-eastus2}"
  echo "deploy: creating resource group $resource_group in $location" >&2
  az group create --name "$resource_group" --location "$location" --output none
fi
location="${location:-$(az group show --name "$resource_group" --query location --output tsv)}"

# Secrets are generated once. Whether one exists is read from the control plane (no Key Vault
# data-plane role needed); only missing ones are passed, so a redeploy never rotates anything.
# A lookup that fails for any other reason than "not found" stops the deployment: guessing
# "missing" would replace a stored encryption key and make existing credentials unreadable.
vault="$(az resource list --resource-group "$resource_group" \
  --resource-type Microsoft.KeyVault/vaults --query '[0].name' --output tsv)" ||
  fail "could not list the Key Vaults in $resource_group"
secret_state() {
  local out
  if [[ -z $vault ]]; then
    echo absent
  elif out="$(az resource show --resource-group "$resource_group" \
    --namespace Microsoft.KeyVault --parent "vaults/$vault" --resource-type secrets \
    --name "$1" --query name --output tsv 2>&1)"; then
    echo present
  elif [[ $out == *NotFound* && $out == *"$1"* ]]; then
    echo absent
  else
    fail "could not check whether Key Vault secret $1 exists: $(head -n 1 <<<"$out")"
  fi
}
random_base64() { openssl rand -base64 "$1" | tr -d '\n'; }

command -v openssl >/dev/null 2>&1 || fail "openssl is not installed (needed to generate secrets)"
db_password=""
bootstrap_key=""
new_keys_json=""
state="$(secret_state nms-db-password)"
[[ $state == present ]] || db_password="$(openssl rand -hex 24)Aa1!"
state="$(secret_state nms-bootstrap-admin-key)"
[[ $state == present ]] || bootstrap_key="$(openssl rand -hex 32)"
for id in "${key_ids[@]}"; do
  state="$(secret_state "nms-crypto-key-$id")"
  if [[ $state == absent ]]; then
    echo "deploy: generating credential-encryption key $id" >&2
    new_keys_json+="${new_keys_json:+,}\"$id\":\"$(random_base64 32)\""
  fi
done
key_ids_json="$(printf '"%s",' "${key_ids[@]}")"

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
chmod 700 "$work_dir"
# Secrets go through a parameters file, never the command line (visible to other processes).
cat >"$work_dir/secrets.parameters.json" <<JSON
{
  "\$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "databasePassword": { "value": "$db_password" },
    "bootstrapAdminKey": { "value": "$bootstrap_key" },
    "newCryptoKeys": { "value": { $new_keys_json } },
    "cryptoKeyIds": { "value": [ ${key_ids_json%,} ] }
  }
}
JSON

# Compile with the repo's pinned Bicep CLI (from NuGet), so az needs no Bicep download.
bicep="$("$infra_dir/tools/bicep.sh")"
"$bicep" build "$infra_dir/main.bicep" --outfile "$work_dir/main.json" --no-restore

# ---- Container image (premium) ------------------------------------------------------------

registry_parameter=""

if [[ $plan == premium && -n $acr ]]; then
  tag="$(git -C "$repo_dir" rev-parse --short HEAD 2>/dev/null || date +%Y%m%d%H%M%S)"
  login_server="$(az acr show --name "$acr" --query loginServer --output tsv)" ||
    fail "container registry '$acr' not found"
  image="$login_server/nms-functions:$tag"
  echo "deploy: building $image with az acr build" >&2
  az acr build --registry "$acr" --image "nms-functions:$tag" "$stage_dir" --output none
  if [[ $(az acr show --name "$acr" --query resourceGroup --output tsv) == "$resource_group" ]]; then
    registry_parameter="containerRegistryName=$acr"
  else
    echo "deploy: $acr is in another resource group: grant the app identity AcrPull on it (see infra/README.md)" >&2
  fi
fi

# ---- Infrastructure ------------------------------------------------------------------------

# Whoever deploys may read and add secrets (Key Vault Secrets Officer), e.g. to fetch the
# bootstrap admin key or rotate a key by hand. Left out when the principal cannot be looked up.
operator_id=""
operator_type="User"
case "$(az account show --query user.type --output tsv)" in
  user) operator_id="$(az ad signed-in-user show --query id --output tsv 2>/dev/null || true)" ;;
  servicePrincipal)
    operator_type="ServicePrincipal"
    operator_id="$(az ad sp show --id "$(az account show --query user.name --output tsv)" \
      --query id --output tsv 2>/dev/null || true)" ;;
esac

parameters=(
  "@$work_dir/secrets.parameters.json"
  "location=$location"
  "namePrefix=$name_prefix"
  "hostingPlan=$plan"
  "cryptoActiveKeyId=$active_key"
  "operatorPrincipalId=$operator_id"
  "operatorPrincipalType=$operator_type"
)
[[ $plan == premium ]] && parameters+=("containerImage=$image")
[[ -n $registry_parameter ]] && parameters+=("$registry_parameter")
# (the +"..." form keeps bash 3.2, macOS's, happy with an empty array under set -u)
parameters+=(${extra_parameters[@]+"${extra_parameters[@]}"})

deployment="nms-$(date +%Y%m%d%H%M%S)"
echo "deploy: deploying infrastructure ($plan) to $resource_group as $deployment" >&2
az deployment group create --resource-group "$resource_group" --name "$deployment" \
  --template-file "$work_dir/main.json" --parameters "${parameters[@]}" --output none

output() {
  az deployment group show --resource-group "$resource_group" --name "$deployment" \
    --query "properties.outputs.$1.value" --output tsv
}
app_name="$(output functionAppName)"
api_url="$(output apiUrl)"

# ---- Application package (flex) -----------------------------------------------------------

if [[ $plan == flex ]]; then
  # config-zip rather than `func azure functionapp publish`: func rebuilds the project and would
  # leave out the Native AOT plugins staged next to it.
  echo "deploy: uploading the package to $app_name" >&2
  az functionapp deployment source config-zip --resource-group "$resource_group" \
    --name "$app_name" --src "$package" --output none
fi

echo "deploy: done. Bootstrap admin key: az keyvault secret show --vault-name $(output keyVaultName) --name nms-bootstrap-admin-key --query value -o tsv" >&2
echo "$api_url"

// Nms.Functions on Azure: one resource group holding the Function App (Flex Consumption by
// default, Elastic Premium with a custom container as the alternative), its storage account,
// PostgreSQL Flexible Server, Key Vault, Application Insights + Log Analytics and a VNet.
// Deploy with infra/deploy.sh (./nms deploy); see infra/README.md.

targetScope = 'resourceGroup'

// ---- Names and placement -----------------------------------------------------------------

@description('Azure region for every resource. Flex Consumption is offered in a subset of regions.')
param location string = resourceGroup().location

@description('Short prefix for resource names (lowercase letters and digits).')
@minLength(2)
@maxLength(10)
param namePrefix string = 'nms'

@description('Suffix that makes global names unique; the default is stable per resource group.')
@maxLength(13)
param nameSuffix string = uniqueString(resourceGroup().id)

@description('Tags applied to every resource.')
param tags object = {
  application: 'nms-functions'
}

// ---- Hosting -----------------------------------------------------------------------------

@description('flex: Flex Consumption (default; TCP reachability). premium: Elastic Premium running infra/Dockerfile\'s image (ICMP via fping).')
@allowed([
  'flex'
  'premium'
])
param hostingPlan string = 'flex'

@description('Flex Consumption: most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 20

@description('Flex Consumption: memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Premium: plan SKU.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param premiumSku string = 'EP1'

@description('Premium: most instances the plan scales out to.')
@minValue(1)
@maxValue(100)
param premiumMaximumWorkers int = 10

@description('Email address the Azure Monitor alerts (poison messages, poll lag) notify; empty for none.')
param alertEmail string = ''

@description('Premium: container image built from infra/Dockerfile (in a registry the app identity can pull from with AcrPull).')
param containerImage string = ''

@description('Premium: Azure Container Registry in this resource group holding the image; the app identity gets AcrPull on it. Empty: grant AcrPull yourself.')
param containerRegistryName string = ''

@description('Reachability check: empty picks tcp on Flex Consumption (no raw sockets there) and icmp on Premium.')
@allowed([
  ''
  'icmp'
  'tcp'
])
param reachabilityMode string = ''

// ---- Network -----------------------------------------------------------------------------

@description('VNet address space; peer it with (or VPN into) the networks holding your devices.')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('Subnet the Function App integrates with.')
param functionsSubnetPrefix string = '10.40.0.0/24'

@description('Subnet delegated to PostgreSQL.')
param postgresSubnetPrefix string = '10.40.1.0/24'

// ---- PostgreSQL --------------------------------------------------------------------------

@description('PostgreSQL compute SKU. PgBouncer needs General Purpose or Memory Optimized.')
param postgresSkuName string = 'Standard_D2ds_v5'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'GeneralPurpose'

@minValue(32)
param postgresStorageSizeGB int = 32

@allowed([
  '15'
  '16'
  '17'
])
param postgresVersion string = '16'

@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 7

@description('Admin login the app connects as.')
param postgresAdministratorLogin string = 'nmsadmin'

@description('Database name.')
param databaseName string = 'nms'

@description('Maximum Pool Size of the API pool, per instance.')
@minValue(1)
param apiPoolSize int = 10

@description('Maximum Pool Size of the metrics-writer pool, per instance.')
@minValue(1)
param metricsPoolSize int = 8

// ---- Secrets (deploy.sh passes each one only when it is new) -----------------------------

@secure()
@description('PostgreSQL admin password. Required on the first deployment; empty afterwards keeps it.')
param databasePassword string = ''

@secure()
@description('Bootstrap admin API key. Required on the first deployment; empty afterwards keeps it.')
param bootstrapAdminKey string = ''

@secure()
@description('New credential-encryption keys to store: key id to base64 32-byte key.')
param newCryptoKeys object = {}

@description('Key id new credential secrets are sealed under.')
param cryptoActiveKeyId string = 'key1'

@description('Every key id still needed to open stored secrets (the active one included).')
param cryptoKeyIds array = [
  'key1'
]

@description('Object id of whoever deploys; gets Key Vault Secrets Officer (deploy.sh fills it in). Empty to skip.')
param operatorPrincipalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

@description('Key Vault purge protection (cannot be turned off once on).')
param keyVaultPurgeProtection bool = false

// ---- App behaviour (defaults match local.settings.sample.json) ----------------------------

param queueNames object = {
  discovery: 'discovery'
  poll: 'poll'
  metrics: 'metrics'
  failures: 'failures'
  notifications: 'notifications'
}

param schedulerSchedule string = '*/10 * * * * *'
param maintenanceSchedule string = '0 */10 * * * *'
param recoverySchedule string = '30 * * * * *'
param compactionSchedule string = '0 */5 * * * *'
param alertingSchedule string = '*/30 * * * * *'
param pluginMaxConcurrentProcesses int = 4
param pluginRunTimeoutSeconds int = 60
param discoveryMaxAddressesPerRun int = 65536
param discoveryBatchSize int = 64
param pollingBatchSize int = 64
param healthWindowSeconds int = 300
param healthThreshold int = 3
param healthRecoveryProbeEnabled bool = false
param metricsRawRetentionDays int = 14
param metricsRollup5mRetentionDays int = 90
param metricsRollup1hRetentionDays int = 730

@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

// ---- Resources ---------------------------------------------------------------------------

var isFlex = hostingPlan == 'flex'
var prefix = toLower(namePrefix)
var suffix = toLower(nameSuffix)
var names = {
  identity: 'id-${prefix}-${suffix}'
  vnet: 'vnet-${prefix}-${suffix}'
  storage: take('st${prefix}${suffix}', 24)
  keyVault: take('kv-${prefix}-${suffix}', 24)
  postgres: 'psql-${prefix}-${suffix}'
  workspace: 'log-${prefix}-${suffix}'
  appInsights: 'appi-${prefix}-${suffix}'
  plan: 'plan-${prefix}-${suffix}'
  app: 'func-${prefix}-${suffix}'
}
// Flex Consumption gets TCP-connect reachability unless told otherwise: ICMP needs raw sockets.
var effectiveReachabilityMode = reachabilityMode == 'icmp' ? 'icmp' : (reachabilityMode == 'tcp' ? 'tcp' : (isFlex ? 'tcp' : 'icmp'))
var usePgBouncer = postgresSkuTier != 'Burstable'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  tags: tags
}

module network 'modules/network.bicep' = {
  name: 'network'
  params: {
    location: location
    vnetName: names.vnet
    addressPrefix: vnetAddressPrefix
    functionsSubnetPrefix: functionsSubnetPrefix
    postgresSubnetPrefix: postgresSubnetPrefix
    functionsSubnetDelegation: isFlex ? 'Microsoft.App/environments' : 'Microsoft.Web/serverFarms'
    postgresDnsZoneName: '${names.postgres}.private.postgres.database.azure.com'
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    storageAccountName: names.storage
    deploymentContainerName: 'app-package'
    queueNames: [
      queueNames.discovery
      queueNames.poll
      queueNames.metrics
      queueNames.failures
      queueNames.notifications
    ]
    appPrincipalId: identity.properties.principalId
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    retentionDays: logRetentionDays
    appPrincipalId: identity.properties.principalId
    tags: tags
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    location: location
    namePrefix: '${prefix}-${suffix}'
    appInsightsId: monitoring.outputs.appInsightsId
    alertEmail: alertEmail
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    keyVaultName: names.keyVault
    appPrincipalId: identity.properties.principalId
    enablePurgeProtection: keyVaultPurgeProtection
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
    databasePassword: databasePassword
    bootstrapAdminKey: bootstrapAdminKey
    newCryptoKeys: newCryptoKeys
    tags: tags
  }
}

// Uses the network module's outputs, so the DNS zone is linked before the server is created.
module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    location: location
    serverName: names.postgres
    databaseName: databaseName
    administratorLogin: postgresAdministratorLogin
    administratorPassword: databasePassword
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    postgresVersion: postgresVersion
    backupRetentionDays: postgresBackupRetentionDays
    delegatedSubnetId: network.outputs.postgresSubnetId
    privateDnsZoneId: network.outputs.postgresDnsZoneId
    enablePgBouncer: usePgBouncer
    tags: tags
  }
}

var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!isFlex && !empty(containerRegistryName)) {
  name: containerRegistryName
}

resource appCanPullImage 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!isFlex && !empty(containerRegistryName)) {
  scope: registry
  name: guid(resourceGroup().id, containerRegistryName, identity.id, acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The app module uses outputs of storage, keyVault and monitoring, so their role assignments
// exist before the site: the host can read its storage and Key Vault references on first start.
module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    planName: names.plan
    appName: names.app
    hostingPlan: hostingPlan
    identityId: identity.id
    identityClientId: identity.properties.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    functionsSubnetId: network.outputs.functionsSubnetId
    appInsightsConnectionString: monitoring.outputs.connectionString
    keyVaultName: keyVault.outputs.keyVaultName
    db: {
      host: postgres.outputs.fqdn
      name: postgres.outputs.databaseName
      user: postgresAdministratorLogin
      metricsViaPgBouncer: usePgBouncer
      apiPoolSize: apiPoolSize
      metricsPoolSize: metricsPoolSize
    }
    queues: {
      discovery: queueNames.discovery
      poll: queueNames.poll
      metrics: queueNames.metrics
      failures: queueNames.failures
      notifications: queueNames.notifications
    }
    timers: {
      scheduler: schedulerSchedule
      maintenance: maintenanceSchedule
      recovery: recoverySchedule
      compaction: compactionSchedule
      alerting: alertingSchedule
    }
    nms: {
      pluginMaxConcurrentProcesses: pluginMaxConcurrentProcesses
      pluginRunTimeoutSeconds: pluginRunTimeoutSeconds
      discoveryMaxAddressesPerRun: discoveryMaxAddressesPerRun
      discoveryBatchSize: discoveryBatchSize
      pollingBatchSize: pollingBatchSize
      healthWindowSeconds: healthWindowSeconds
      healthThreshold: healthThreshold
      healthRecoveryProbeEnabled: healthRecoveryProbeEnabled
      metricsRawRetentionDays: metricsRawRetentionDays
      metricsRollup5mRetentionDays: metricsRollup5mRetentionDays
      metricsRollup1hRetentionDays: metricsRollup1hRetentionDays
    }
    cryptoActiveKeyId: cryptoActiveKeyId
    cryptoKeyIds: cryptoKeyIds
    reachabilityMode: effectiveReachabilityMode
    fpingPath: '/usr/bin/fping'
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    premiumSku: premiumSku
    premiumMaximumWorkers: premiumMaximumWorkers
    containerImage: containerImage
    tags: tags
  }
  dependsOn: [
    // Premium pulls its image on start.
    appCanPullImage
  ]
}

output functionAppName string = functionApp.outputs.appName
output apiUrl string = 'https://${functionApp.outputs.defaultHostName}/api'
output keyVaultName string = keyVault.outputs.keyVaultName
output storageAccountName string = storage.outputs.storageAccountName
output postgresHost string = postgres.outputs.fqdn
output hostingPlan string = hostingPlan
output reachabilityMode string = effectiveReachabilityMode

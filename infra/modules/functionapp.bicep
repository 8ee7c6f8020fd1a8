// The Function App (isolated worker, Linux) and its plan.
//   flex:    Flex Consumption (FC1), code deployed as a zip to a blob container, VNet-integrated.
//   premium: Elastic Premium (EP1-3) running infra/Dockerfile's image (fping with CAP_NET_RAW).
// Every app setting the app reads is set below (the *Settings variables); tests/Nms.Infra.Tests
// compares their names with local.settings.sample.json so the two cannot drift.

import { database, queueNames, schedules, tuning } from 'types.bicep'

param location string
param planName string
param appName string

@allowed([
  'flex'
  'premium'
])
param hostingPlan string

@description('Resource id and client id of the app\'s user-assigned identity.')
param identityId string
param identityClientId string

param blobEndpoint string
param queueEndpoint string
param tableEndpoint string

@description('Flex Consumption: blob container URL the deployment package goes to.')
param deploymentContainerUrl string

param functionsSubnetId string
param appInsightsConnectionString string
param keyVaultName string

param db database
param queues queueNames
param timers schedules
param nms tuning

@description('Key id new credential secrets are sealed under; must be one of cryptoKeyIds.')
param cryptoActiveKeyId string

@description('Every key id still in use (alphanumeric). Each has a Key Vault secret nms-crypto-key-<id>.')
param cryptoKeyIds array

@allowed([
  'icmp'
  'tcp'
])
param reachabilityMode string

param fpingPath string

@description('Flex Consumption: most instances the app scales out to.')
param maximumInstanceCount int

@description('Flex Consumption: memory per instance.')
param instanceMemoryMB int

@description('Premium: EP1, EP2 or EP3.')
param premiumSku string

@description('Premium: most instances the plan scales out to.')
param premiumMaximumWorkers int

@description('Premium: container image, e.g. myregistry.azurecr.io/nms-functions:1.0.')
param containerImage string

param tags object

var isFlex = hostingPlan == 'flex'

// Plugins ship inside the package (or image) under plugins/ next to the app.
var appRoot = '/home/site/wwwroot'

func keyVaultRef(vault string, secret string) string => '@Microsoft.KeyVault(VaultName=${vault};SecretName=${secret})'

// Connection strings carry no password: Npgsql reads it from PGPASSWORD (a Key Vault reference).
// The API pool connects directly (5432): the startup migration holds a session-level advisory
// lock, which PgBouncer's transaction pooling would not keep on one server connection.
var apiConnectionString = 'Host=${db.host};Port=5432;Database=${db.name};Username=${db.user};SSL Mode=Require;Timeout=15;Maximum Pool Size=${db.apiPoolSize};Application Name=nms-api'
var metricsPort = db.metricsViaPgBouncer ? 6432 : 5432
var metricsPgBouncerOptions = db.metricsViaPgBouncer ? ';No Reset On Close=true' : ''
var metricsConnectionString = 'Host=${db.host};Port=${metricsPort};Database=${db.name};Username=${db.user};SSL Mode=Require;Timeout=15;Maximum Pool Size=${db.metricsPoolSize};Application Name=nms-metrics${metricsPgBouncerOptions}'

// AzureWebJobsStorage with the managed identity instead of a connection string. The host reads
// all of these; the app's own queue client reads __queueServiceUri with DefaultAzureCredential,
// which picks the user-assigned identity from AZURE_CLIENT_ID.
var storageSettings = {
  AzureWebJobsStorage__blobServiceUri: blobEndpoint
  AzureWebJobsStorage__queueServiceUri: queueEndpoint
  AzureWebJobsStorage__tableServiceUri: tableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AZURE_CLIENT_ID: identityClientId
}

var monitoringSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

var nmsSettings = {
  NmsDiscoveryQueue: queues.discovery
  NmsPollQueue: queues.poll
  NmsMetricsQueue: queues.metrics
  NmsFailuresQueue: queues.failures
  NmsNotificationsQueue: queues.notifications
  NmsSchedulerSchedule: timers.scheduler
  NmsMaintenanceSchedule: timers.maintenance
  NmsRecoverySchedule: timers.recovery
  NmsCompactionSchedule: timers.compaction
  NmsAlertingSchedule: timers.alerting
  Nms__Database__ApiConnectionString: apiConnectionString
  Nms__Database__MetricsConnectionString: metricsConnectionString
  // Safe with many instances: MigrationRunner serialises on a PostgreSQL advisory lock.
  Nms__Database__MigrateOnStartup: 'true'
  PGPASSWORD: keyVaultRef(keyVaultName, 'nms-db-password')
  Nms__Auth__BootstrapAdminKey: keyVaultRef(keyVaultName, 'nms-bootstrap-admin-key')
  Nms__Crypto__ActiveKeyId: cryptoActiveKeyId
  Nms__Plugins__Directory: '${appRoot}/plugins'
  Nms__Plugins__MaxConcurrentProcesses: string(nms.pluginMaxConcurrentProcesses)
  Nms__Plugins__RunTimeoutSeconds: string(nms.pluginRunTimeoutSeconds)
  Nms__Plugins__MaxOutputBytes: '16777216'
  Nms__Plugins__Serve: 'true'
  Nms__Reachability__Mode: reachabilityMode
  Nms__Reachability__FpingPath: fpingPath
  Nms__Reachability__TimeoutMilliseconds: '500'
  Nms__Reachability__Retries: '1'
  Nms__Reachability__UdpPlugins: 'snmp'
  Nms__Discovery__MaxAddressesPerRun: string(nms.discoveryMaxAddressesPerRun)
  Nms__Discovery__BatchSize: string(nms.discoveryBatchSize)
  Nms__Discovery__DefaultTimeoutMilliseconds: '2000'
  Nms__Discovery__FailureSampleSize: '20'
  Nms__Polling__BatchSize: string(nms.pollingBatchSize)
  Nms__Polling__PopChunkSize: '1000'
  Nms__Polling__BacklogBatchSize: '500'
  Nms__Polling__MaxPopChunkSize: '16000'
  Nms__Polling__TickBudgetMilliseconds: '5000'
  Nms__Polling__TimeoutMilliseconds: '5000'
  Nms__Health__WindowSeconds: string(nms.healthWindowSeconds)
  Nms__Health__Threshold: string(nms.healthThreshold)
  Nms__Health__RecoveryProbeEnabled: toLower(string(nms.healthRecoveryProbeEnabled))
  Nms__Health__SuccessfulPollClearsFailures: 'true'
  Nms__Health__RecoveryBackoffBaseSeconds: '60'
  Nms__Health__RecoveryBackoffCapSeconds: '3600'
  Nms__Health__RecoveryBatchSize: '50'
  Nms__Health__RecoveryProbeTimeoutMilliseconds: '5000'
  Nms__Health__FailureEventRetentionDays: '8'
  Nms__Metrics__RawRetentionDays: string(nms.metricsRawRetentionDays)
  Nms__Metrics__Rollup5mRetentionDays: string(nms.metricsRollup5mRetentionDays)
  Nms__Metrics__Rollup1hRetentionDays: string(nms.metricsRollup1hRetentionDays)
  Nms__Metrics__PartitionDaysAhead: '3'
  Nms__Metrics__MaxRowsPerQuery: '10000'
  Nms__Metrics__MaxPointsPerSeries: '11000'
  Nms__Metrics__CompactionWindowMinutes: '120'
  Nms__Metrics__CompactionDevicesPerTransaction: '200'
  Nms__Metrics__BackfillBatchSize: '20000'
  Nms__Alerting__HistoryRetentionDays: '30'
  Nms__Alerting__DeliveryTimeoutSeconds: '10'
  Nms__Alerting__MaxAlertsPerNotification: '100'
  Nms__Alerting__MaxDeliveryAttempts: '5'
  Nms__Alerting__RetryBaseSeconds: '30'
  Nms__Alerting__RetryCapSeconds: '1800'
  // Consumers hold their message while PostgreSQL or the queue service is down (docs/resilience.md); the hold stays
  // below host.json's functionTimeout.
  Nms__Resilience__MaxHoldSeconds: '240'
  Nms__Resilience__ProbeIntervalMilliseconds: '1000'
  Nms__Resilience__ProbeTimeoutMilliseconds: '2000'
  Nms__Resilience__BlipRetries: '3'
  // How often the nms.queue.* gauges (queue depths, poison counts: the poison alert's signal) are refreshed.
  Nms__Queues__SampleSeconds: '60'
  // Telemetry goes to Application Insights (APPLICATIONINSIGHTS_CONNECTION_STRING above); no scrape endpoint in Azure.
  Nms__Telemetry__PrometheusPort: '0'
  Nms__Telemetry__PrometheusHost: '127.0.0.1'
  Nms__Telemetry__ServiceName: 'nms-functions'
}

// One setting per key id, so a rotated-out key keeps opening old rows.
var cryptoKeySettings = toObject(cryptoKeyIds, id => 'Nms__Crypto__Keys__${id}', id => keyVaultRef(keyVaultName, 'nms-crypto-key-${id}'))

// Flex Consumption rejects these as app settings: there the runtime is functionAppConfig.runtime.
var premiumSettings = {
  FUNCTIONS_WORKER_RUNTIME: 'dotnet-isolated'
  FUNCTIONS_EXTENSION_VERSION: '~4'
  WEBSITES_ENABLE_APP_SERVICE_STORAGE: 'false'
}

var appSettings = union(storageSettings, monitoringSettings, nmsSettings, cryptoKeySettings, isFlex ? {} : premiumSettings)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex
    ? {
        name: 'FC1'
        tier: 'FlexConsumption'
      }
    : {
        name: premiumSku
        tier: 'ElasticPremium'
      }
  properties: {
    reserved: true
    maximumElasticWorkerCount: isFlex ? null : premiumMaximumWorkers
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp,linux' : 'functionapp,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: functionsSubnetId
    vnetRouteAllEnabled: isFlex ? null : true
    functionAppConfig: isFlex
      ? {
          deployment: {
            storage: {
              type: 'blobContainer'
              value: deploymentContainerUrl
              authentication: {
                type: 'UserAssignedIdentity'
                userAssignedIdentityResourceId: identityId
              }
            }
          }
          runtime: {
            name: 'dotnet-isolated'
            version: '10.0'
          }
          scaleAndConcurrency: {
            maximumInstanceCount: maximumInstanceCount
            instanceMemoryMB: instanceMemoryMB
          }
        }
      : null
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      linuxFxVersion: isFlex ? null : 'DOCKER|${containerImage}'
      acrUseManagedIdentityCreds: isFlex ? null : true
      acrUserManagedIdentityID: isFlex ? null : identityClientId
      functionsRuntimeScaleMonitoringEnabled: isFlex ? null : true
      appSettings: [
        for setting in items(appSettings): {
          name: setting.key
          value: setting.value
        }
      ]
    }
  }
}

output appName string = site.name
output defaultHostName string = site.properties.defaultHostName

// Azure Database for PostgreSQL Flexible Server with private (VNet) access, the app database
// and, on General Purpose / Memory Optimized tiers, the built-in PgBouncer on port 6432.

param location string
param serverName string
param databaseName string

@description('Admin login; the app connects as this role (its password lives in Key Vault).')
param administratorLogin string

@secure()
@description('Admin password. Required when the server is created; empty on later deployments keeps it.')
param administratorPassword string

@description('Compute SKU, e.g. Standard_D2ds_v5 (General Purpose) or Standard_B1ms (Burstable).')
param skuName string

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string

param storageSizeGB int
param postgresVersion string
param backupRetentionDays int
param delegatedSubnetId string
param privateDnsZoneId string

@description('PgBouncer is not offered on the Burstable tier.')
param enablePgBouncer bool

param tags object

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: serverName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: postgresVersion
    administratorLogin: administratorLogin
    // Omitted (null) on redeploys so the stored password is left alone.
    administratorLoginPassword: empty(administratorPassword) ? null : administratorPassword
    authConfig: {
      passwordAuth: 'Enabled'
      activeDirectoryAuth: 'Disabled'
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      delegatedSubnetResourceId: delegatedSubnetId
      privateDnsZoneArmResourceId: privateDnsZoneId
      publicNetworkAccess: 'Disabled'
    }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

resource pgBouncer 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (enablePgBouncer) {
  parent: server
  name: 'pgbouncer.enabled'
  properties: {
    value: 'true'
    source: 'user-override'
  }
  dependsOn: [
    database
  ]
}

// The metrics writer prepares its batch claim once per connection: PgBouncer's transaction pooling keeps protocol-level
// prepared statements across server connections only when this is above zero (the default is 0).
resource pgBouncerPreparedStatements 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = if (enablePgBouncer) {
  parent: server
  name: 'pgbouncer.max_prepared_statements'
  properties: {
    value: '100'
    source: 'user-override'
  }
  dependsOn: [
    pgBouncer
  ]
}

output fqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
output serverName string = server.name

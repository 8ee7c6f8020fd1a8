// Key Vault for the app's secrets, read through Key Vault references with the app's identity.
// Secrets are written only when a value is passed: deploy.sh generates each one the first time
// and passes nothing on later runs, so redeploying never rotates a secret by accident.

param location string
param keyVaultName string

@description('Principal id of the app\'s user-assigned identity (gets Key Vault Secrets User).')
param appPrincipalId string

@description('Principal id of whoever deploys (gets Key Vault Secrets Officer); empty to skip.')
param operatorPrincipalId string

@allowed([
  'User'
  'ServicePrincipal'
])
param operatorPrincipalType string

@description('Purge protection cannot be turned off again once on; recommended for production.')
param enablePurgeProtection bool

@secure()
@description('PostgreSQL admin password; empty keeps the stored secret.')
param databasePassword string

@secure()
@description('Bootstrap admin API key; empty keeps the stored secret.')
param bootstrapAdminKey string

@secure()
@description('New credential-encryption keys: key id to base64 AES-256 key. Ids not listed keep their stored secret.')
param newCryptoKeys object

param tags object

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: enablePurgeProtection ? true : null
    // Key Vault references on Flex Consumption cannot reach a network-restricted vault.
    publicNetworkAccess: 'Enabled'
  }
}

resource appCanReadSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, appPrincipalId, keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource operatorCanManageSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  scope: vault
  name: guid(vault.id, operatorPrincipalId, keyVaultSecretsOfficer)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource databasePasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(databasePassword)) {
  parent: vault
  name: 'nms-db-password'
  properties: {
    value: databasePassword
    contentType: 'PostgreSQL admin password'
  }
}

resource bootstrapAdminKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(bootstrapAdminKey)) {
  parent: vault
  name: 'nms-bootstrap-admin-key'
  properties: {
    value: bootstrapAdminKey
    contentType: 'NMS bootstrap admin API key'
  }
}

resource cryptoKeySecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for key in items(newCryptoKeys): {
    parent: vault
    name: 'nms-crypto-key-${key.key}'
    properties: {
      value: key.value
      contentType: 'NMS credential-encryption key (base64 AES-256)'
    }
  }
]

output keyVaultName string = vault.name
output keyVaultUri string = vault.properties.vaultUri
// Role assignment id, so the app can depend on being able to read secrets before it starts.
output readerAssignmentId string = appCanReadSecrets.id

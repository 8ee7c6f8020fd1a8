// Virtual network the app is integrated into: one subnet for the Function App's outbound
// traffic (so it can reach devices on private networks peered or VPN-connected to this VNet)
// and one delegated subnet for PostgreSQL Flexible Server private access.

@description('Azure region.')
param location string

@description('Virtual network name.')
param vnetName string

@description('Address space of the virtual network. Must not overlap the device networks you peer with.')
param addressPrefix string

@description('Subnet for Function App VNet integration (/27 or larger; Flex Consumption recommends /24 for scale-out).')
param functionsSubnetPrefix string

@description('Subnet delegated to PostgreSQL Flexible Server.')
param postgresSubnetPrefix string

@description('Flex Consumption needs the subnet delegated to Microsoft.App/environments; Premium to Microsoft.Web/serverFarms.')
@allowed([
  'Microsoft.App/environments'
  'Microsoft.Web/serverFarms'
])
param functionsSubnetDelegation string

@description('Private DNS zone name for PostgreSQL private access (ends with .postgres.database.azure.com).')
param postgresDnsZoneName string

param tags object

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'snet-functions'
        properties: {
          addressPrefix: functionsSubnetPrefix
          // The app reaches storage, Key Vault and Application Insights on their public endpoints.
          // Newer network API versions make subnets private by default; keep egress explicit here.
          // (Attach a NAT gateway for a fixed egress IP, e.g. for device firewalls.)
          defaultOutboundAccess: true
          delegations: [
            {
              name: 'functions'
              properties: {
                serviceName: functionsSubnetDelegation
              }
            }
          ]
        }
      }
      {
        name: 'snet-postgres'
        properties: {
          addressPrefix: postgresSubnetPrefix
          delegations: [
            {
              name: 'postgres'
              properties: {
                serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers'
              }
            }
          ]
        }
      }
    ]
  }
}

resource postgresDnsZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: postgresDnsZoneName
  location: 'global'
  tags: tags
}

resource postgresDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: postgresDnsZone
  name: '${vnetName}-link'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

output vnetId string = vnet.id
output functionsSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'snet-functions')
output postgresSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'snet-postgres')
output postgresDnsZoneId string = postgresDnsZone.id
// The server must not be created before the zone is linked, or its name will not resolve in the VNet.
output postgresDnsLinkId string = postgresDnsLink.id

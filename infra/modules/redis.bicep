// Azure Managed Redis (Microsoft.Cache/redisEnterprise): the state every instance of the router
// shares (token and request budgets, breakers, escalated sessions, classifier verdicts). Entra
// only: access keys are off and the app's user-assigned identity is the one user with the
// database's default access policy.
// https://learn.microsoft.com/azure/redis/entra-for-authentication
// https://learn.microsoft.com/azure/templates/microsoft.cache/redisenterprise

param name string
param location string
param tags object = {}

@description('Object (principal) ID of the identity the app runs as.')
param appPrincipalId string

// Balanced B0 is the smallest size: the router keeps a few hundred bytes per deployment and
// per remembered session or verdict, so 0.5 GB holds millions of them.
@description('Azure Managed Redis SKU.')
param skuName string = 'Balanced_B0'

@allowed([
  'Enabled'
  'Disabled'
])
@description('Public endpoint (TLS and Entra only); Disabled needs a private endpoint and VNet integration.')
param publicNetworkAccess string = 'Enabled'

resource cluster 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    minimumTlsVersion: '1.2'
    // Two nodes with replication: a failover loses no shared state the router cannot rebuild.
    highAvailability: 'Enabled'
    publicNetworkAccess: publicNetworkAccess
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: cluster
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    // One endpoint, any Redis client: each of the router's scripts touches one key.
    clusteringPolicy: 'EnterpriseCluster'
    // Every key the router writes has a time to live: evict among those first.
    evictionPolicy: 'VolatileLRU'
    accessKeysAuthentication: 'Disabled'
  }
}

resource appAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = {
  parent: database
  name: 'routerapp'
  properties: {
    accessPolicyName: 'default'
    user: {
      objectId: appPrincipalId
    }
  }
}

output name string = cluster.name
// rediss:// with no password: the router signs in with its managed identity (redis-entraid).
output url string = 'rediss://${cluster.properties.hostName}:${database.properties.port}'

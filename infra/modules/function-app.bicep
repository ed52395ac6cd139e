// Flex Consumption plan (FC1) and the Python function app that hosts the router. Shape follows the
// official Flex Consumption samples: functionAppConfig carries the deployment storage, runtime and
// scale settings; app settings must not include FUNCTIONS_WORKER_RUNTIME or
// FUNCTIONS_EXTENSION_VERSION, which Flex Consumption rejects.

param planName string
param appName string
param location string
param tags object = {}

@description('azd service name; azd deploy finds the app by this tag.')
param serviceName string = 'api'

@description('Resource ID of the user-assigned identity the app runs as.')
param identityId string

@description('Blob endpoint of the storage account, with trailing slash.')
param storageBlobEndpoint string

@description('Container that holds the deployment package.')
param deploymentContainerName string

@description('App settings (name -> value). See infra/app-settings.json for the contract.')
param appSettings object

@allowed([
  '3.11'
])
param pythonVersion string = '3.11'

@description('Memory per instance in MB; CPU and network scale with it.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on instances the app scales out to (a cost cap).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

// The router is async and spends almost all of a request waiting on the model (seconds, often
// streaming). One Python instance's event loop can hold dozens of such requests; Flex's Python
// default of 1 request per instance would start an instance per concurrent request (cold starts,
// cost) for no CPU gain.
@description('Concurrent HTTP requests per instance before Flex scales out.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 32

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy on Flex Consumption needs always-ready instances (a standing cost) and is not in every region; opt in per environment.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: the router is a public OpenAI-compatible API; callers authenticate at the app (function keys or Entra).
  // checkov:skip=CKV_AZURE_17: OpenAI SDK clients do not present client certificates; mTLS would break them.
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero per request; failover comes from the platform, not a fixed instance floor.
  // checkov:skip=CKV_AZURE_213: App Service health check (healthCheckPath) is not available on Flex Consumption.
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [for setting in items(appSettings): {
        name: setting.key
        value: setting.value
      }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
    }
  }

  // Deployments use Entra tokens (azd, functions-action with OIDC): no publishing passwords.
  resource ftpCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output baseUrl string = 'https://${site.properties.defaultHostName}/api/v1'

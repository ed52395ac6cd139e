// Storage for the Functions host (AzureWebJobsStorage, identity-based) and the Flex Consumption
// deployment package container. Shared keys are off: everything authenticates with Entra.

param name string
param location string
param tags object = {}

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Blob container of the router\'s Responses API state (one blob per stored response).')
param responsesContainerName string

@minValue(1)
@description('Days a stored response is kept; the lifecycle rule deletes older blobs.')
param responsesTtlDays int

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: Flex Consumption without VNet integration reaches host storage over the public endpoint; Entra auth + RBAC still required (shared keys off).
  // checkov:skip=CKV_AZURE_59: same as CKV_AZURE_35; disable with VNet integration and private endpoints.
  // checkov:skip=CKV_AZURE_206: LRS is enough: the account holds a rebuildable deployment package and host state, no business data.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Flex Consumption without VNet integration reaches its storage over the public endpoint;
    // access still requires an Entra token and an RBAC role.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'
    properties: {
      deleteRetentionPolicy: {
        enabled: true
        days: 7
      }
    }

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }

    resource responsesContainer 'containers' = {
      name: responsesContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  // Bounds the Responses state: what no read expired first is deleted after the TTL.
  // https://learn.microsoft.com/azure/storage/blobs/lifecycle-management-overview
  resource responsesLifecycle 'managementPolicies' = {
    name: 'default'
    properties: {
      policy: {
        rules: [
          {
            name: 'expire-router-responses'
            enabled: true
            type: 'Lifecycle'
            definition: {
              filters: {
                blobTypes: [
                  'blockBlob'
                ]
                prefixMatch: [
                  '${responsesContainerName}/'
                ]
              }
              actions: {
                baseBlob: {
                  delete: {
                    daysAfterModificationGreaterThan: responsesTtlDays
                  }
                }
              }
            }
          }
        ]
      }
    }
  }
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerName string = deploymentContainerName

// An Azure AI Foundry account (kind AIServices) and its model deployments. Keyless only:
// callers need an Entra token and a Cognitive Services role on this account.

@description('Account name; also its custom subdomain, which Entra auth requires.')
param name string

param location string
param tags object = {}

@description('Public network access to the account. Disable it once private endpoints exist.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Model deployments: see docs/deployment.md. capacity is the deployment quota in thousands of tokens per minute.')
param deployments array

resource account 'Microsoft.CognitiveServices/accounts@2025-06-01' = {
  // checkov:skip=CKV_AZURE_134: public access is a parameter (publicNetworkAccess); the default is Enabled because the Flex app without VNet integration calls the public endpoint, keyless (disableLocalAuth) with RBAC.
  name: name
  location: location
  tags: tags
  kind: 'AIServices'
  sku: {
    name: 'S0'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
  }
}

// One at a time: parallel deployments on one account fail with "another operation is in progress".
@batchSize(1)
resource modelDeployments 'Microsoft.CognitiveServices/accounts/deployments@2025-06-01' = [for d in deployments: {
  parent: account
  name: d.deploymentName
  sku: {
    name: d.skuName
    capacity: d.capacity
  }
  properties: {
    model: {
      format: d.modelFormat
      name: d.modelName
      version: d.modelVersion
    }
    // Pinned until the version retires, then moved to the default: no silent model change.
    versionUpgradeOption: 'OnceCurrentVersionExpired'
  }
}]

output name string = account.name
output id string = account.id
// The OpenAI routes (/openai/v1, /openai/deployments) and the Foundry Models inference route
// (/models, https://learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/endpoints).
output endpoint string = 'https://${name}.openai.azure.com'
output modelsEndpoint string = 'https://${name}.services.ai.azure.com'
output deploymentNames array = [for d in deployments: d.deploymentName]

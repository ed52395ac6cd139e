// The user-assigned identity the function app runs as: it reads the deployment package, the host
// storage, calls Foundry and publishes telemetry. User-assigned (not system-assigned) so that role
// assignments can be created before the app exists and survive re-creating it.

param name string
param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId

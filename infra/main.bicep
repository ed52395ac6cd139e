// hybrid-router: Foundry account + model deployments, and the Flex Consumption function app that
// routes between them. Subscription scope so that `azd up` creates the resource group too.
targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds the resource name hash.')
param environmentName string

// Regions where the default models (Phi-4-mini-instruct, gpt-5-nano and GPT-5, Global Standard)
// and the Flex Consumption plan are all offered; see docs/deployment.md for the pages and what a first
// `azd provision` still has to confirm. Add a region here only after checking all three.
@allowed([
  'eastus2'
  'swedencentral'
])
@description('Region of every resource except an optional second Foundry account.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group name. Empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object ID of the deploying user or service principal, given data-plane access to Foundry for local runs. Empty: none.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principalId: User for a person (azd up), ServicePrincipal for a pipeline.')
param principalType string = 'User'

@allowed([
  'Enabled'
  'Disabled'
])
@description('Public network access to the Foundry account(s).')
param foundryPublicNetworkAccess string = 'Enabled'

// One entry per tier. How the router calls it follows from modelFormat (OpenAI models on the
// OpenAI v1 route, other Foundry Models on the models inference route). For OpenAI models
// capacity is the quota in thousands of tokens per minute and becomes the tier's tpm; Foundry
// Models have a per-deployment rate limit of their own (foundryModelsTpm) instead.
// Prices are USD per 1M tokens (list prices: check before relying on cost figures). capabilities
// are what the router may send the tier (tools, json_schema, vision; reasoning: a reasoning model);
// reasoningEffort is the effort a reasoning tier gets when the caller names none ('' = the model's
// own default). Three tiers: Phi-4-mini for plain chat and the classifier, gpt-5-nano for simple
// turns that carry tools or a JSON schema (Phi-4-mini on Foundry takes neither), GPT-5 for the rest.
@description('Model deployments on the primary Foundry account, one per router tier. See docs/deployment.md.')
param modelDeployments array = [
  {
    tier: 'small'
    deploymentName: 'Phi-4-mini'
    modelFormat: 'Microsoft'
    modelName: 'Phi-4-mini-instruct'
    modelVersion: '1'
    skuName: 'GlobalStandard'
    capacity: 1
    inputPricePer1M: json('0.075')
    outputPricePer1M: json('0.30')
    contextWindow: 131072
    capabilities: []
    reasoningEffort: ''
    fallbacks: []
  }
  {
    tier: 'small-tools'
    deploymentName: 'gpt-5-nano'
    modelFormat: 'OpenAI'
    modelName: 'gpt-5-nano'
    modelVersion: '2025-08-07'
    skuName: 'GlobalStandard'
    capacity: 200
    inputPricePer1M: json('0.05')
    outputPricePer1M: json('0.40')
    contextWindow: 400000
    capabilities: [
      'reasoning'
      'tools'
      'vision'
      'json_schema'
    ]
    reasoningEffort: 'minimal'
    fallbacks: []
  }
  {
    tier: 'large'
    deploymentName: 'gpt-5'
    modelFormat: 'OpenAI'
    modelName: 'gpt-5'
    modelVersion: '2025-08-07'
    skuName: 'GlobalStandard'
    capacity: 100
    inputPricePer1M: json('1.25')
    outputPricePer1M: json('10.00')
    contextWindow: 400000
    capabilities: [
      'reasoning'
      'tools'
      'vision'
      'json_schema'
    ]
    reasoningEffort: ''
    fallbacks: []
  }
]

// Microsoft's default rate limit for a Foundry Model deployment (not Azure OpenAI): 400,000 tokens
// and 1,000 requests per minute ("Rest of models", Foundry Models quotas and limits).
@minValue(1)
@description('Tokens per minute the router budgets for each non-OpenAI (Foundry Models) deployment.')
param foundryModelsTpm int = 400000

@description('Region of an optional second Foundry account (e.g. the large tier\'s fallback). Empty: none.')
param secondaryFoundryLocation string = ''

@description('Model deployments on the second Foundry account; same shape as modelDeployments. Their tiers get an endpoint field.')
param secondaryModelDeployments array = []

@description('Tier the router treats as small (ROUTER_SMALL_TIER).')
param smallTier string = 'small'

@description('Tier the router treats as large (ROUTER_LARGE_TIER).')
param largeTier string = 'large'

@description('Routing preset (ROUTER_PRESET).')
param routerPreset string = 'balanced'

@allowed([
  512
  2048
  4096
])
@description('Flex Consumption instance memory in MB.')
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
@description('Flex Consumption maximum instance count (a cost cap).')
param maximumInstanceCount int = 100

// The router is async and I/O-bound (it waits on model calls), so one instance serves many requests
// at once; see modules/function-app.bicep.
@minValue(1)
@maxValue(1000)
@description('Concurrent HTTP requests per instance before Flex Consumption scales out.')
param httpPerInstanceConcurrency int = 32

@minValue(1)
@description('Days the router keeps a stored Responses API response (store / previous_response_id).')
param responsesTtlDays int = 30

// Off by default: an Azure Managed Redis instance is billed by the hour whether traffic flows or
// not, while one instance of the app needs no shared state. Turn it on when the app runs on more
// than one instance (docs/deployment.md, "Shared state").
@description('Share token budgets, breakers, sessions and classifier verdicts across instances in Azure Managed Redis.')
param enableSharedState bool = false

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-api-${resourceToken}'
var foundryAccountName = 'ais-${resourceToken}'
var secondaryFoundryAccountName = 'ais-${resourceToken}-2'
// Each account's two inference hosts (customSubDomainName = account name): the OpenAI routes
// (/openai/v1) and the Foundry Models inference route (/models).
var primaryOpenAiEndpoint = 'https://${foundryAccountName}.openai.azure.com'
var primaryModelsEndpoint = 'https://${foundryAccountName}.services.ai.azure.com'
var secondaryOpenAiEndpoint = 'https://${secondaryFoundryAccountName}.openai.azure.com'
var secondaryModelsEndpoint = 'https://${secondaryFoundryAccountName}.services.ai.azure.com'
var responsesContainerName = 'router-responses'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

// Built-in role definition IDs.
var roleIds = {
  // Chat completions on OpenAI-format deployments.
  cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  // Inference on non-OpenAI (format Microsoft, e.g. Phi) deployments through the Foundry APIs.
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908'
  // Host storage (keys, leases) and the deployment package.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Host-internal queues (AzureWebJobsStorage__queueServiceUri).
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // The host writes diagnostic events to table storage (AZFD0003 without it).
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // Telemetry ingestion with an Entra token (Application Insights local auth is off).
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------------------------------------
// Router tier table (ROUTER_TIERS): built from the same parameter entries that create the
// deployments, so deployment names and token budgets cannot drift from what is provisioned.
// The route follows the model format, the same rule as shared/settings.py url_shape_for_format
// (tests/infra holds the two together). The conditions are fully parenthesised because pycep
// (checkov's parser, and the tests') otherwise binds `==` tighter than the property access.
// ---------------------------------------------------------------------------------------------

var primaryTiers = [for d in modelDeployments: {
  name: d.tier
  deployment: d.deploymentName
  url_shape: ((d.modelFormat) == 'OpenAI') ? 'v1' : 'models'
  endpoint: ((d.modelFormat) == 'OpenAI') ? primaryOpenAiEndpoint : primaryModelsEndpoint
  // Azure OpenAI models also answer the Responses API at /openai/v1/responses.
  apis: ((d.modelFormat) == 'OpenAI') ? ['chat', 'responses'] : ['chat']
  input_price_per_1m: d.inputPricePer1M
  output_price_per_1m: d.outputPricePer1M
  context_window: d.contextWindow
  capabilities: d.capabilities
  reasoning_effort: d.reasoningEffort
  tpm: ((d.modelFormat) == 'OpenAI') ? 1000 * d.capacity : foundryModelsTpm
  fallbacks: d.fallbacks
}]

var secondaryTiers = [for d in secondaryModelDeployments: {
  name: d.tier
  deployment: d.deploymentName
  url_shape: ((d.modelFormat) == 'OpenAI') ? 'v1' : 'models'
  endpoint: ((d.modelFormat) == 'OpenAI') ? secondaryOpenAiEndpoint : secondaryModelsEndpoint
  // Azure OpenAI models also answer the Responses API at /openai/v1/responses.
  apis: ((d.modelFormat) == 'OpenAI') ? ['chat', 'responses'] : ['chat']
  input_price_per_1m: d.inputPricePer1M
  output_price_per_1m: d.outputPricePer1M
  context_window: d.contextWindow
  capabilities: d.capabilities
  reasoning_effort: d.reasoningEffort
  tpm: ((d.modelFormat) == 'OpenAI') ? 1000 * d.capacity : foundryModelsTpm
  fallbacks: d.fallbacks
}]

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

// The operators' workbook over the router's telemetry (queries: infra/monitoring/*.kql).
module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    location: location
    tags: tags
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    responsesContainerName: responsesContainerName
    responsesTtlDays: responsesTtlDays
  }
}

module redis 'modules/redis.bicep' = if (enableSharedState) {
  name: 'redis'
  scope: rg
  params: {
    name: 'redis-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}

module foundry 'modules/foundry.bicep' = {
  name: 'foundry'
  scope: rg
  params: {
    name: foundryAccountName
    location: location
    tags: tags
    publicNetworkAccess: foundryPublicNetworkAccess
    deployments: modelDeployments
  }
}

module foundrySecondary 'modules/foundry.bicep' = if (!empty(secondaryFoundryLocation)) {
  name: 'foundry-secondary'
  scope: rg
  params: {
    name: secondaryFoundryAccountName
    location: secondaryFoundryLocation
    tags: tags
    publicNetworkAccess: foundryPublicNetworkAccess
    deployments: secondaryModelDeployments
  }
}

// The router's configuration: infra/app-settings.json is the contract these must meet.
var appSettings = {
  FOUNDRY_ENDPOINT: foundry.outputs.endpoint
  ROUTER_AUTH_MODE: 'entra'
  AZURE_CLIENT_ID: identity.outputs.clientId
  ROUTER_TOKEN_SCOPE: 'https://cognitiveservices.azure.com/.default'
  ROUTER_TIERS: string(concat(primaryTiers, secondaryTiers))
  ROUTER_SMALL_TIER: smallTier
  ROUTER_LARGE_TIER: largeTier
  ROUTER_PRESET: routerPreset
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  // The worker configures Azure Monitor itself (host.json telemetryMode OpenTelemetry).
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
  // ...and exports as traces the records of this logger and below: the router's, not every
  // library's (unset: the root logger, the exporter's own records among them).
  PYTHON_APPLICATIONINSIGHTS_LOGGER_NAME: 'hybrid_router'
  // Whole traces by the trace-id hash, at the router's ratio (ROUTER_TRACE_SAMPLE_RATIO, 1 by
  // default); the distro's default rate-limited sampler split storage calls from their request.
  // https://learn.microsoft.com/azure/azure-monitor/app/opentelemetry-configuration#enable-sampling
  OTEL_TRACES_SAMPLER: 'microsoft.fixed_percentage'
  OTEL_TRACES_SAMPLER_ARG: '1.0'
  // The host reports each request; the HTTP-streams extension's FastAPI server must not again.
  // https://learn.microsoft.com/azure/azure-functions/opentelemetry-howto
  OTEL_PYTHON_DISABLED_INSTRUMENTATIONS: 'fastapi'
  // Required by the FastAPI HTTP-streams extension before Python 3.13.
  PYTHON_ENABLE_INIT_INDEXING: '1'
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
  // The Responses API state, in this account's blobs (AzureWebJobsStorage__blobServiceUri), with
  // the identity's Storage Blob Data Owner role granted below for the host: no new role.
  ROUTER_RESPONSES_CONTAINER: responsesContainerName
  ROUTER_RESPONSES_TTL_S: string(responsesTtlDays * 86400)
  // Shared state across instances: Azure Managed Redis with the app's identity, or none ('').
  ROUTER_REDIS_URL: enableSharedState ? redis.outputs.url : ''
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    planName: 'plan-${resourceToken}'
    appName: functionAppName
    location: location
    tags: tags
    identityId: identity.outputs.id
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    appSettings: appSettings
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
  }
  // The host reads its storage as soon as the app starts: grant the roles first.
  dependsOn: [
    storageRoles
    monitoringRoles
  ]
}

// ---------------------------------------------------------------------------------------------
// Role assignments: all to the identity the app runs as (identity.outputs.principalId)
// ---------------------------------------------------------------------------------------------

module foundryRoles 'modules/rbac-foundry.bicep' = {
  name: 'rbac-foundry'
  scope: rg
  params: {
    accountName: foundry.outputs.name
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionIds: [
      roleIds.cognitiveServicesOpenAIUser
      roleIds.cognitiveServicesUser
    ]
  }
}

module foundrySecondaryRoles 'modules/rbac-foundry.bicep' = if (!empty(secondaryFoundryLocation)) {
  name: 'rbac-foundry-secondary'
  scope: rg
  params: {
    accountName: secondaryFoundryAccountName
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionIds: [
      roleIds.cognitiveServicesOpenAIUser
      roleIds.cognitiveServicesUser
    ]
  }
  dependsOn: [
    foundrySecondary
  ]
}

module storageRoles 'modules/rbac-storage.bicep' = {
  name: 'rbac-storage'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionIds: [
      roleIds.storageBlobDataOwner
      roleIds.storageQueueDataContributor
      roleIds.storageTableDataContributor
    ]
  }
}

module monitoringRoles 'modules/rbac-monitoring.bicep' = {
  name: 'rbac-monitoring'
  scope: rg
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionIds: [
      roleIds.monitoringMetricsPublisher
    ]
  }
}

// Optional: the deploying principal may call the models too (running the router locally against
// the deployed account with `az login`).
module deployerFoundryRoles 'modules/rbac-foundry.bicep' = if (!empty(principalId)) {
  name: 'rbac-foundry-deployer'
  scope: rg
  params: {
    accountName: foundry.outputs.name
    principalId: principalId
    principalType: principalType
    roleDefinitionIds: [
      roleIds.cognitiveServicesOpenAIUser
      roleIds.cognitiveServicesUser
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment's .env)
// ---------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output ROUTER_BASE_URL string = functionApp.outputs.baseUrl
output FOUNDRY_ENDPOINT string = foundry.outputs.endpoint
output FOUNDRY_ACCOUNT_NAME string = foundry.outputs.name
output FOUNDRY_DEPLOYMENT_NAMES array = foundry.outputs.deploymentNames
output FOUNDRY_MODELS_ENDPOINT string = foundry.outputs.modelsEndpoint
output FOUNDRY_SECONDARY_ENDPOINT string = !empty(secondaryFoundryLocation) ? secondaryOpenAiEndpoint : ''
output ROUTER_TIERS string = appSettings.ROUTER_TIERS
output ROUTER_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MONITORING_WORKBOOK_ID string = workbook.outputs.id
output MONITORING_WORKBOOK_NAME string = workbook.outputs.name
output ROUTER_REDIS_URL string = enableSharedState ? redis.outputs.url : ''

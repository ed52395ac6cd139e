// Log Analytics workspace + workspace-based Application Insights with local (key) auth off:
// the function app's identity sends telemetry with an Entra token (Monitoring Metrics Publisher).

@description('Log Analytics workspace name.')
param logAnalyticsName string

@description('Application Insights component name.')
param applicationInsightsName string

param location string
param tags object = {}

@description('Days of log retention in the workspace.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Keyless ingestion only: the connection string alone cannot write telemetry.
    DisableLocalAuth: true
  }
}

output applicationInsightsName string = appInsights.name
output logAnalyticsWorkspaceId string = logAnalytics.id
// Not a secret with local auth off: ingestion also needs an Entra token.
output connectionString string = appInsights.properties.ConnectionString

// The operators' workbook: infra/monitoring/workbook.json (generated from the .kql queries there by
// build_workbook.py), linked to the router's Application Insights component, so it is listed under
// the component's Workbooks and its queries run against the component's telemetry.

@description('Application Insights component the workbook belongs to and queries.')
param applicationInsightsName string

param location string
param tags object = {}

@description('Workbook title in the portal.')
param displayName string = 'hybrid-router operations'

// By name, as in rbac-monitoring.bicep: the monitoring module outputs the name, and an existing
// reference gives the component's full resource id.
resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; derived from the component, so a redeploy updates it in place.
  name: guid(appInsights.id, 'hybrid-router-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: loadTextContent('../monitoring/workbook.json')
    version: 'Notebook/1.0'
  }
}

output id string = workbook.id
output name string = workbook.name

// Workspace-based Application Insights with local (instrumentation key) authentication turned off:
// the app sends telemetry with its managed identity (Monitoring Metrics Publisher).

@description('Application Insights component name.')
param appInsightsName string

@description('Name of the Log Analytics workspace to create when existingWorkspaceResourceId is empty.')
param workspaceName string

@description('Resource id of an existing Log Analytics workspace for the telemetry (for example the Sentinel workspace); empty creates a new one.')
param existingWorkspaceResourceId string = ''

@description('Retention in days of the new workspace (ignored for an existing one).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Daily ingestion cap in GB of the new workspace, -1 for none (ignored for an existing one).')
param dailyQuotaGb int = 1

@description('Azure region for the monitoring resources.')
param location string

@description('Tags applied to the monitoring resources.')
param tags object = {}

var createWorkspace = empty(existingWorkspaceResourceId)

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = if (createWorkspace) {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: createWorkspace ? workspace.id : existingWorkspaceResourceId
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

@description('Application Insights component name.')
output appInsightsName string = appInsights.name

@description('Application Insights component resource id.')
output appInsightsId string = appInsights.id

@description('Resource id of the workspace the telemetry lands in.')
output workspaceResourceId string = createWorkspace ? workspace.id : existingWorkspaceResourceId

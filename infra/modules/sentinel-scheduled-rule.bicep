// Rules mode: ONE detection as a Microsoft Sentinel scheduled analytics rule. main.bicep deploys
// one module per detection, each only when the workspace has the detection's tables (Sentinel
// rejects a rule over a table that does not exist). Metadata: an entry of ../kql/analytics-rules.json;
// query: ../kql/<id>.kql (one ingestion_time() window of queryFrequency per run). Both generated
// from shared/detections/sentinel-rule.ts.

@description('Name of the Sentinel (Log Analytics) workspace, in this deployment\'s resource group.')
param workspaceName string

@description('The rule\'s metadata (an entry of analytics-rules.json).')
param rule object

@description('The rule\'s KQL.')
param query string

@description('Create the rule enabled.')
param enabled bool = true

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource analyticsRule 'Microsoft.SecurityInsights/alertRules@2023-12-01-preview' = {
  scope: workspace
  name: rule.id
  kind: 'Scheduled'
  properties: {
    displayName: rule.displayName
    description: rule.description
    enabled: enabled
    query: query
    queryFrequency: rule.queryFrequency
    queryPeriod: rule.queryPeriod
    severity: rule.severity
    triggerOperator: rule.triggerOperator
    triggerThreshold: rule.triggerThreshold
    suppressionEnabled: false
    suppressionDuration: 'PT5H'
    tactics: rule.tactics
    techniques: rule.techniques
    subTechniques: rule.subTechniques
    entityMappings: rule.entityMappings
    customDetails: rule.customDetails
    alertDetailsOverride: rule.alertDetailsOverride
    eventGroupingSettings: rule.eventGroupingSettings
    incidentConfiguration: rule.incidentConfiguration
  }
}

@description('Resource id of the rule.')
output id string = analyticsRule.id

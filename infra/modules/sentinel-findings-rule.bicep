// Hunts mode: the one analytics rule over CertsoarFindings_CL, near real time. Each row (a finding,
// or an update of a known threat) is one alert with its entities, custom details and the title,
// severity, tactics and techniques of the finding; the alerts of one ThreatId are grouped into one
// incident. Metadata and query: ../kql/findings-rule.json and ../kql/findings.kql, generated from
// shared/detections/sentinel-rule.ts.

@description('Name of the Sentinel (Log Analytics) workspace, in this deployment\'s resource group.')
param workspaceName string

@description('Create the rule enabled.')
param enabled bool = true

var rule = loadJsonContent('../kql/findings-rule.json')

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource findingsRule 'Microsoft.SecurityInsights/alertRules@2023-12-01-preview' = {
  scope: workspace
  name: rule.id
  kind: 'NRT'
  properties: {
    displayName: rule.displayName
    description: rule.description
    enabled: enabled
    query: loadTextContent('../kql/findings.kql')
    severity: rule.severity
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

@description('Resource id of the findings rule.')
output id string = findingsRule.id

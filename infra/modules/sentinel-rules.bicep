// certsoar's detections as Microsoft Sentinel scheduled analytics rules. The query text is the
// exported KQL (infra/kql/<id>.kql) and the metadata (severity, frequency, tactics, techniques,
// entity mappings) is infra/kql/analytics-rules.json; both are written by
// scripts/generate-infra-artifacts.ts from shared/detections and checked by test/infra.

@description('Name of the Sentinel (Log Analytics) workspace, in this deployment\'s resource group.')
param workspaceName string

@description('Create the rules enabled.')
param enabled bool = true

@description('Prefix of the rules\' display names.')
param displayNamePrefix string = 'certsoar'

var rules = loadJsonContent('../kql/analytics-rules.json')

// One literal path per detection: Bicep loads files at compile time only from constant paths.
var queries = {
  'T1608.003': loadTextContent('../kql/T1608.003.kql')
  'T1588.004': loadTextContent('../kql/T1588.004.kql')
  'T1587.003': loadTextContent('../kql/T1587.003.kql')
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource analyticsRules 'Microsoft.SecurityInsights/alertRules@2023-12-01-preview' = [
  for rule in rules: {
    scope: workspace
    name: guid(workspace.id, 'certsoar-analytics-rule', rule.id)
    kind: 'Scheduled'
    properties: {
      displayName: '${displayNamePrefix} ${rule.id}: ${rule.title}'
      description: rule.description
      enabled: enabled
      query: queries[rule.id]
      queryFrequency: rule.queryFrequency
      queryPeriod: rule.queryPeriod
      severity: rule.severity
      triggerOperator: 'GreaterThan'
      triggerThreshold: 0
      suppressionEnabled: false
      suppressionDuration: 'PT5H'
      tactics: rule.tactics
      techniques: rule.techniques
      subTechniques: rule.subTechniques
      entityMappings: rule.entityMappings
      // One alert (and so one incident, one enrichment) per row the query returns.
      eventGroupingSettings: {
        aggregationKind: 'AlertPerResult'
      }
      incidentConfiguration: {
        createIncident: true
        groupingConfiguration: {
          enabled: false
          reopenClosedIncident: false
          lookbackDuration: 'PT5H'
          matchingMethod: 'AllEntities'
        }
      }
    }
  }
]

@description('Resource ids of the analytics rules, in the order of analytics-rules.json.')
output ruleIds array = [for (rule, i) in rules: analyticsRules[i].id]

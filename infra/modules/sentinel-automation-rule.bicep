// The automation rule that runs the enrichment playbook for every incident created by certsoar's
// analytics rules. Microsoft Sentinel runs the playbook as its own service account, which needs
// Microsoft Sentinel Automation Contributor on the playbook's resource group (role-assignments.bicep).

@description('Name of the Sentinel (Log Analytics) workspace, in this deployment\'s resource group.')
param workspaceName string

@description('Resource id of the playbook to run.')
param playbookResourceId string

@description('Resource ids of the analytics rules whose incidents are enriched.')
param analyticsRuleIds array

@description('Order of the rule among the workspace\'s automation rules (1-1000).')
@minValue(1)
@maxValue(1000)
param order int = 100

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource automationRule 'Microsoft.SecurityInsights/automationRules@2024-03-01' = {
  scope: workspace
  name: guid(workspace.id, 'certsoar-enrich-automation-rule')
  properties: {
    displayName: 'certsoar: enrich incidents from the certificate-abuse rules'
    order: order
    triggeringLogic: {
      isEnabled: true
      triggersOn: 'Incidents'
      triggersWhen: 'Created'
      conditions: [
        {
          conditionType: 'Property'
          conditionProperties: {
            propertyName: 'IncidentRelatedAnalyticRuleIds'
            operator: 'Contains'
            propertyValues: analyticsRuleIds
          }
        }
      ]
    }
    actions: [
      {
        order: 1
        actionType: 'RunPlaybook'
        actionConfiguration: {
          logicAppResourceId: playbookResourceId
          tenantId: tenant().tenantId
        }
      }
    ]
  }
}

@description('Resource id of the automation rule.')
output id string = automationRule.id

// Rules mode: the enrichment playbook's identity reads the incident and its alerts (the Sentinel
// connector acts as that identity): Microsoft Sentinel Reader on the workspace, nothing more.

import { builtInRoleIds } from 'built-in-roles.bicep'

@description('Name of the Sentinel (Log Analytics) workspace, in this deployment\'s resource group.')
param workspaceName string

@description('Object id of the enrichment playbook\'s managed identity.')
param playbookPrincipalId string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource playbookAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: workspace
  name: guid(workspace.id, playbookPrincipalId, builtInRoleIds.sentinelReader)
  properties: {
    principalId: playbookPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.sentinelReader)
  }
}

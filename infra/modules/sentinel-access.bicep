// Role assignments on the Sentinel workspace (deployed into the workspace's resource group): the
// function app queries it (hunts) and comments on and updates incidents (write-back); the
// optional incident webhook creates incidents.

import { builtInRoleIds } from 'built-in-roles.bicep'

@description('Name of the Sentinel (Log Analytics) workspace, in this deployment\'s resource group.')
param workspaceName string

@description('Object id of the function app\'s managed identity.')
param functionAppPrincipalId string

@description('Object id of the incident webhook Logic App\'s managed identity; empty when it is not deployed.')
param incidentLogicAppPrincipalId string = ''

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

var functionWorkspaceRoles = [
  builtInRoleIds.logAnalyticsReader
  builtInRoleIds.sentinelResponder
]

resource functionWorkspaceAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in functionWorkspaceRoles: {
    scope: workspace
    name: guid(workspace.id, functionAppPrincipalId, roleId)
    properties: {
      principalId: functionAppPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]

resource incidentWebhookAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(incidentLogicAppPrincipalId)) {
  scope: workspace
  name: guid(workspace.id, incidentLogicAppPrincipalId, builtInRoleIds.sentinelResponder)
  properties: {
    principalId: incidentLogicAppPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.sentinelResponder)
  }
}


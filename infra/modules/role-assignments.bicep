// Role assignments inside certsoar's own resource group: the function app's identity on storage,
// Key Vault and Application Insights; optionally the deployer (to run the CLI against the same
// state) and Microsoft Sentinel's service account (to run the playbook).

import { builtInRoleIds } from 'built-in-roles.bicep'

@description('Object id of the function app\'s managed identity.')
param functionAppPrincipalId string

@description('Name of the storage account (host storage and state).')
param storageAccountName string

@description('Name of the Key Vault holding the webhook URLs.')
param keyVaultName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Object id of the deploying user or service principal; empty skips its assignments.')
param deployerPrincipalId string = ''

@description('Principal type of the deployer.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

@description('Object id of the "Azure Security Insights" service principal in this tenant; empty skips the assignment.')
param sentinelServicePrincipalId string = ''

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Blob Data Owner: deployment package, host keys and leases (timers). Queue: triggers, poison
// queues and the app's own queue writes. Table: certsoar's state.
var functionStorageRoles = [
  builtInRoleIds.storageBlobDataOwner
  builtInRoleIds.storageQueueDataContributor
  builtInRoleIds.storageTableDataContributor
]

resource functionStorageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in functionStorageRoles: {
    scope: storageAccount
    name: guid(storageAccount.id, functionAppPrincipalId, roleId)
    properties: {
      principalId: functionAppPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]

resource functionSecretsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, functionAppPrincipalId, builtInRoleIds.keyVaultSecretsUser)
  properties: {
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.keyVaultSecretsUser)
  }
}

resource functionTelemetryAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, functionAppPrincipalId, builtInRoleIds.monitoringMetricsPublisher)
  properties: {
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.monitoringMetricsPublisher)
  }
}

var deployerStateRoles = [
  builtInRoleIds.storageQueueDataContributor
  builtInRoleIds.storageTableDataContributor
]

resource deployerStateAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in deployerStateRoles: if (!empty(deployerPrincipalId)) {
    scope: storageAccount
    name: guid(storageAccount.id, deployerPrincipalId, roleId)
    properties: {
      principalId: deployerPrincipalId
      principalType: deployerPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]

resource sentinelPlaybookRunner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(sentinelServicePrincipalId)) {
  name: guid(resourceGroup().id, sentinelServicePrincipalId, builtInRoleIds.sentinelAutomationContributor)
  properties: {
    principalId: sentinelServicePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.sentinelAutomationContributor)
  }
}

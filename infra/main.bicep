// certsoar: one deployment for the function app, its identity and storage, monitoring, the
// webhooks and the Microsoft Sentinel wiring. Subscription scope: it creates (or reuses) the
// resource group for certsoar and reaches into the Sentinel workspace's resource group, which may
// be a different one. Deploy with `azd up` or `az deployment sub create` (infra/README.md).

targetScope = 'subscription'

@description('Environment name (azd: AZURE_ENV_NAME); part of every resource name.')
@minLength(1)
@maxLength(40)
param environmentName string

@description('Azure region for certsoar\'s resources (one that offers Flex Consumption).')
param location string

@description('Name of certsoar\'s resource group; empty gives rg-<environmentName>.')
param resourceGroupName string = ''

@description('Short prefix of resource names.')
@minLength(2)
@maxLength(10)
param namePrefix string = 'certsoar'

@description('ARM resource id of the Log Analytics workspace with Microsoft Sentinel enabled (it may be in another resource group or subscription).')
param sentinelWorkspaceResourceId string

@description('Send the app\'s telemetry to the Sentinel workspace instead of a new small one (Sentinel bills every GB ingested there).')
param appInsightsOnSentinelWorkspace bool = false

@description('Object id of the deploying user or service principal (azd: AZURE_PRINCIPAL_ID), granted queue and table data access so the CLI can share the deployed state; empty skips it.')
param principalId string = ''

@description('Type of that principal.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Object id of the "Azure Security Insights" service principal (appId 98785600-1bb7-4fb9-b9fa-19afe2c8a360) in this tenant, granted Microsoft Sentinel Automation Contributor so the automation rule can run the playbook; empty skips the grant and the automation rule.')
param sentinelServicePrincipalId string = ''

@description('Microsoft Teams team (group) id for the Teams Logic App; with teamsChannelId it turns Teams delivery on.')
param teamsGroupId string = ''

@description('Microsoft Teams channel id for the Teams Logic App.')
param teamsChannelId string = ''

@description('An existing Teams Workflows webhook URL to deliver cards to instead of deploying the Teams Logic App.')
@secure()
param teamsWorkflowsWebhookUrl string = ''

@description('Tuning document (JSON) overriding the default weights and lists; stored in Key Vault. Empty keeps the defaults.')
@secure()
param tuningJson string = ''

@description('Detections the timer hunts run: "all", "none" or a comma-separated list of ids.')
param huntsEnabled string = 'all'

@description('Which SIEM the timer hunts query: loganalytics (the Sentinel workspace), splunk or qradar.')
@allowed(['loganalytics', 'splunk', 'qradar'])
param huntSource string = 'loganalytics'

@description('Splunk management endpoint (https://host:8089) for hunts and notable updates; empty when Splunk is not used.')
param splunkUrl string = ''

@description('Splunk authentication token with the search capability (and edit_notable_events under ES); stored in Key Vault.')
@secure()
param splunkToken string = ''

@description('Splunk HTTP Event Collector base URL (https://host:8088) that receives findings; empty for none.')
param splunkHecUrl string = ''

@description('Splunk HEC token allowed to write to the certsoar index; stored in Key Vault.')
@secure()
param splunkHecToken string = ''

@description('QRadar console URL for hunts, offenses and notes; empty when QRadar is not used.')
param qradarUrl string = ''

@description('QRadar authorized service token (Ariel search and offense notes); stored in Key Vault.')
@secure()
param qradarToken string = ''

@description('Contact (e-mail or URL) sent to crt.sh in the User-Agent, as its operators ask.')
param crtshContact string = ''

@description('Label put on Sentinel incidents certsoar creates or updates.')
param sentinelIncidentLabel string = 'certsoar'

@description('Other certsoar settings (names from shared/config.ts) that replace the defaults.')
param settingOverrides object = {}

@description('Largest number of function app instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Create the analytics rules enabled.')
param analyticsRulesEnabled bool = true

@description('Tags applied to every resource.')
param tags object = {}

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var allTags = union(tags, { 'azd-env-name': environmentName, application: 'certsoar' })
var names = {
  resourceGroup: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  storage: take('st${toLower(replace(namePrefix, '-', ''))}${resourceToken}', 24)
  keyVault: take('kv-${namePrefix}-${resourceToken}', 24)
  workspace: 'log-${namePrefix}-${resourceToken}'
  appInsights: 'appi-${namePrefix}-${resourceToken}'
  plan: 'plan-${namePrefix}-${resourceToken}'
  functionApp: 'func-${namePrefix}-${resourceToken}'
  incidentLogicApp: 'logic-${namePrefix}-incident-${resourceToken}'
  teamsLogicApp: 'logic-${namePrefix}-teams-${resourceToken}'
  teamsConnection: 'conn-${namePrefix}-teams-${resourceToken}'
  playbook: 'logic-${namePrefix}-enrich-${resourceToken}'
  sentinelConnection: 'conn-${namePrefix}-sentinel-${resourceToken}'
}
var secretNames = {
  incidentWebhook: 'incident-webhook-url'
  teamsWebhook: 'teams-webhook-url'
  tuningJson: 'tuning-json'
  splunkToken: 'splunk-token'
  splunkHecToken: 'splunk-hec-token'
  qradarToken: 'qradar-token'
}

// /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{name}
var sentinelWorkspaceIdParts = split(sentinelWorkspaceResourceId, '/')
var sentinelSubscriptionId = sentinelWorkspaceIdParts[2]
var sentinelResourceGroupName = sentinelWorkspaceIdParts[4]
var sentinelWorkspaceName = last(sentinelWorkspaceIdParts)

var useTeamsLogicApp = empty(teamsWorkflowsWebhookUrl) && !empty(teamsGroupId) && !empty(teamsChannelId)
var teamsDeliveryOn = useTeamsLogicApp || !empty(teamsWorkflowsWebhookUrl)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: allTags
}

resource sentinelWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: sentinelWorkspaceName
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'certsoar-monitoring'
  params: {
    appInsightsName: names.appInsights
    workspaceName: names.workspace
    existingWorkspaceResourceId: appInsightsOnSentinelWorkspace ? sentinelWorkspaceResourceId : ''
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  name: 'certsoar-storage'
  params: {
    name: names.storage
    location: location
    tags: allTags
  }
}

module keyVault 'modules/key-vault.bicep' = {
  scope: rg
  name: 'certsoar-key-vault'
  params: {
    name: names.keyVault
    location: location
    tags: allTags
    teamsWebhookSecretName: secretNames.teamsWebhook
    teamsWorkflowsWebhookUrl: teamsWorkflowsWebhookUrl
    tuningJsonSecretName: secretNames.tuningJson
    tuningJson: tuningJson
    siemSecrets: {
      '${secretNames.splunkToken}': splunkToken
      '${secretNames.splunkHecToken}': splunkHecToken
      '${secretNames.qradarToken}': qradarToken
    }
  }
}

module incidentWebhook 'modules/logic-app-incident.bicep' = {
  scope: rg
  name: 'certsoar-logic-app-incident'
  params: {
    name: names.incidentLogicApp
    location: location
    tags: allTags
    sentinelWorkspaceResourceId: sentinelWorkspaceResourceId
    incidentLabel: sentinelIncidentLabel
    keyVaultName: keyVault.outputs.name
    callbackUrlSecretName: secretNames.incidentWebhook
  }
}

module teamsWebhook 'modules/logic-app-teams.bicep' = if (useTeamsLogicApp) {
  scope: rg
  name: 'certsoar-logic-app-teams'
  params: {
    name: names.teamsLogicApp
    connectionName: names.teamsConnection
    location: location
    tags: allTags
    teamsGroupId: teamsGroupId
    teamsChannelId: teamsChannelId
    keyVaultName: keyVault.outputs.name
    callbackUrlSecretName: secretNames.teamsWebhook
  }
}

module functionApp 'modules/function-app.bicep' = {
  scope: rg
  name: 'certsoar-function-app'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: allTags
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

module roleAssignments 'modules/role-assignments.bicep' = {
  scope: rg
  name: 'certsoar-role-assignments'
  params: {
    functionAppPrincipalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    sentinelServicePrincipalId: sentinelServicePrincipalId
  }
}

module sentinelAccess 'modules/sentinel-access.bicep' = {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-sentinel-access-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    functionAppPrincipalId: functionApp.outputs.principalId
    incidentLogicAppPrincipalId: incidentWebhook.outputs.principalId
  }
}

// Applied after the role assignments and the webhook secrets exist, so the first start resolves
// identity-based storage and the Key Vault references.
module functionAppSettings 'modules/function-app-settings.bicep' = {
  scope: rg
  name: 'certsoar-function-app-settings'
  params: {
    functionAppName: functionApp.outputs.name
    storageAccountName: storage.outputs.name
    tableEndpoint: storage.outputs.tableEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    appInsightsName: monitoring.outputs.appInsightsName
    keyVaultUri: keyVault.outputs.uri
    incidentWebhookSecretName: incidentWebhook.outputs.callbackUrlSecretName
    teamsWebhookSecretName: teamsDeliveryOn ? secretNames.teamsWebhook : ''
    tuningJsonSecretName: empty(tuningJson) ? '' : secretNames.tuningJson
    logAnalyticsWorkspaceId: sentinelWorkspace.properties.customerId
    sentinelWorkspaceResourceId: sentinelWorkspaceResourceId
    huntsEnabled: huntsEnabled
    huntSource: huntSource
    splunkUrl: splunkUrl
    splunkTokenSecretName: empty(splunkToken) ? '' : secretNames.splunkToken
    splunkHecUrl: splunkHecUrl
    splunkHecTokenSecretName: empty(splunkHecToken) ? '' : secretNames.splunkHecToken
    qradarUrl: qradarUrl
    qradarTokenSecretName: empty(qradarToken) ? '' : secretNames.qradarToken
    crtshContact: crtshContact
    sentinelIncidentLabel: sentinelIncidentLabel
    settingOverrides: settingOverrides
  }
  dependsOn: [
    roleAssignments
    sentinelAccess
    teamsWebhook
  ]
}

module playbook 'modules/sentinel-playbook.bicep' = {
  scope: rg
  name: 'certsoar-sentinel-playbook'
  params: {
    name: names.playbook
    connectionName: names.sentinelConnection
    location: location
    tags: allTags
    functionAppName: functionApp.outputs.name
  }
  dependsOn: [
    functionAppSettings
  ]
}

module analyticsRules 'modules/sentinel-rules.bicep' = {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-sentinel-rules-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    enabled: analyticsRulesEnabled
  }
}

// Only with the Sentinel service account's grant: without it the rule could not run the playbook.
module automationRule 'modules/sentinel-automation-rule.bicep' = if (!empty(sentinelServicePrincipalId)) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-sentinel-automation-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    playbookResourceId: playbook.outputs.id
    analyticsRuleIds: analyticsRules.outputs.ruleIds
  }
  dependsOn: [
    roleAssignments
  ]
}

@description('Name of certsoar\'s resource group.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Name of the function app.')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Host name of the function app (POST https://<host>/api/enrich with a function key).')
output FUNCTION_APP_HOST_NAME string = functionApp.outputs.defaultHostName

@description('Name of the storage account holding the host files and certsoar\'s queues and tables.')
output STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Table endpoint of the state storage (STATE_STORAGE_CONNECTION__tableServiceUri for the CLI).')
output STATE_STORAGE_CONNECTION__tableServiceUri string = storage.outputs.tableEndpoint

@description('Queue endpoint of the state storage (STATE_STORAGE_CONNECTION__queueServiceUri for the CLI).')
output STATE_STORAGE_CONNECTION__queueServiceUri string = storage.outputs.queueEndpoint

@description('Name of the Key Vault holding the webhook URLs.')
output KEY_VAULT_NAME string = keyVault.outputs.name

@description('Workspace (customer) id of the Sentinel workspace (LOG_ANALYTICS_WORKSPACE_ID for the CLI).')
output LOG_ANALYTICS_WORKSPACE_ID string = sentinelWorkspace.properties.customerId

@description('Resource id of the incident webhook Logic App.')
output INCIDENT_LOGIC_APP_ID string = incidentWebhook.outputs.id

@description('Resource id of the Teams API connection to authorise once in the portal; empty when the Teams Logic App is not deployed.')
output TEAMS_CONNECTION_ID string = useTeamsLogicApp ? teamsWebhook!.outputs.connectionId : ''

@description('Resource id of the enrichment playbook.')
output SENTINEL_PLAYBOOK_ID string = playbook.outputs.id

@description('Resource ids of the analytics rules.')
output SENTINEL_ANALYTICS_RULE_IDS array = analyticsRules.outputs.ruleIds

@description('Resource id of the automation rule that runs the playbook; empty when sentinelServicePrincipalId was not given.')
output SENTINEL_AUTOMATION_RULE_ID string = empty(sentinelServicePrincipalId) ? '' : automationRule!.outputs.id

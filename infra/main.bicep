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

@description('hunts (default): certsoar\'s timers detect, enrich and score, and their findings become Sentinel incidents through the CertsoarFindings_CL table and one analytics rule. rules: Sentinel\'s scheduled analytics rules detect and the playbook sends their incidents to POST /api/enrich. Never both: one event never yields two incidents.')
@allowed([
  'hunts'
  'rules'
])
param detectionMode string = 'hunts'

@description('Rules mode: the workspace has the CommonSecurityLog table (data connector: Common Event Format via AMA, or a firewall vendor\'s CEF connector). Deploys the T1608.003 rule.')
param tableCommonSecurityLog bool = false

@description('Rules mode: the workspace has DeviceRegistryEvents (data connector: Microsoft Defender XDR, device events). Deploys the T1588.004 rule.')
param tableDeviceRegistryEvents bool = false

@description('Rules mode: the workspace has DeviceProcessEvents (data connector: Microsoft Defender XDR, device events). With DeviceFileEvents, deploys the T1587.003 rule.')
param tableDeviceProcessEvents bool = false

@description('Rules mode: the workspace has DeviceFileEvents (data connector: Microsoft Defender XDR, device events). With DeviceProcessEvents, deploys the T1587.003 rule.')
param tableDeviceFileEvents bool = false

@description('Object id of the "Azure Security Insights" service principal (appId 98785600-1bb7-4fb9-b9fa-19afe2c8a360) in this tenant, granted Microsoft Sentinel Automation Contributor so the automation rule can run the playbook. Required in rules mode: az ad sp show --id 98785600-1bb7-4fb9-b9fa-19afe2c8a360 --query id -o tsv')
param sentinelServicePrincipalId string = ''

@description('Also deploy the generic incident webhook (a Logic App that creates Sentinel incidents from certsoar\'s incident payload), for consumers that do not use the findings table. Off by default: in hunts mode the findings rule raises the incidents.')
param deployIncidentWebhook bool = false

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

@description('Create the analytics rules (the findings rule, or the rules-mode detection rules) enabled.')
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
  findingsDcr: 'dcr-${namePrefix}-findings-${resourceToken}'
}
var rulesMode = detectionMode == 'rules'
var huntsMode = detectionMode == 'hunts'

// Rules mode runs the playbook as Sentinel's own service account, which must be granted a role:
// without its object id the deployment stops here, saying how to find it.
var sentinelAutomationPrincipalId = !rulesMode || !empty(sentinelServicePrincipalId)
  ? sentinelServicePrincipalId
  : fail('detectionMode is rules but sentinelServicePrincipalId is empty. Find it with: az ad sp show --id 98785600-1bb7-4fb9-b9fa-19afe2c8a360 --query id -o tsv (azd env set SENTINEL_SERVICE_PRINCIPAL_ID <that id>)')

// Rules-mode rule metadata, generated from shared/detections/sentinel-rule.ts.
var detectionRules = loadJsonContent('kql/analytics-rules.json')
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

module incidentWebhook 'modules/logic-app-incident.bicep' = if (deployIncidentWebhook) {
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
    sentinelServicePrincipalId: rulesMode ? sentinelAutomationPrincipalId : ''
  }
}

module sentinelAccess 'modules/sentinel-access.bicep' = {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-sentinel-access-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    functionAppPrincipalId: functionApp.outputs.principalId
    incidentLogicAppPrincipalId: deployIncidentWebhook ? incidentWebhook!.outputs.principalId : ''
  }
}

// Hunts mode: the findings table, the data collection rule the app writes through, and the rule
// that raises one incident per threat from it.
module findingsTable 'modules/findings-table.bicep' = if (huntsMode) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-findings-table-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
  }
}

module findingsDcr 'modules/findings-dcr.bicep' = if (huntsMode) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-findings-dcr-${resourceToken}'
  params: {
    name: names.findingsDcr
    location: sentinelWorkspace.location
    tags: allTags
    workspaceResourceId: sentinelWorkspaceResourceId
    tableName: findingsTable!.outputs.name
    functionAppPrincipalId: functionApp.outputs.principalId
  }
}

module findingsRule 'modules/sentinel-findings-rule.bicep' = if (huntsMode) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-findings-rule-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    enabled: analyticsRulesEnabled
  }
  dependsOn: [
    findingsTable
  ]
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
    incidentWebhookSecretName: deployIncidentWebhook ? incidentWebhook!.outputs.callbackUrlSecretName : ''
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
    detectionMode: detectionMode
    logsIngestionEndpoint: huntsMode ? findingsDcr!.outputs.logsIngestionEndpoint : ''
    logsIngestionRuleId: huntsMode ? findingsDcr!.outputs.immutableId : ''
    logsIngestionStream: huntsMode ? findingsDcr!.outputs.streamName : 'Custom-CertsoarFindings_CL'
    settingOverrides: settingOverrides
  }
  dependsOn: [
    roleAssignments
    sentinelAccess
    teamsWebhook
  ]
}

// Rules mode: one scheduled rule per detection, each its own optional deployment, deployed only
// when the workspace has every table the detection reads (Sentinel rejects a rule whose table does
// not exist). Queries: kql/<id>.kql, one ingestion_time() window of the rule's frequency per run.
module ruleT1608003 'modules/sentinel-scheduled-rule.bicep' = if (rulesMode && tableCommonSecurityLog) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-rule-T1608-003-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    rule: filter(detectionRules, r => r.key == 'T1608.003')[0]
    query: loadTextContent('kql/T1608.003.kql')
    enabled: analyticsRulesEnabled
  }
}

module ruleT1588004 'modules/sentinel-scheduled-rule.bicep' = if (rulesMode && tableDeviceRegistryEvents) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-rule-T1588-004-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    rule: filter(detectionRules, r => r.key == 'T1588.004')[0]
    query: loadTextContent('kql/T1588.004.kql')
    enabled: analyticsRulesEnabled
  }
}

module ruleT1587003 'modules/sentinel-scheduled-rule.bicep' = if (rulesMode && tableDeviceProcessEvents && tableDeviceFileEvents) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-rule-T1587-003-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    rule: filter(detectionRules, r => r.key == 'T1587.003')[0]
    query: loadTextContent('kql/T1587.003.kql')
    enabled: analyticsRulesEnabled
  }
}

var anyDetectionRule = rulesMode && (tableCommonSecurityLog || tableDeviceRegistryEvents || (tableDeviceProcessEvents && tableDeviceFileEvents))
var deployedRuleIds = union(
  rulesMode && tableCommonSecurityLog ? [ruleT1608003!.outputs.id] : [],
  rulesMode && tableDeviceRegistryEvents ? [ruleT1588004!.outputs.id] : [],
  rulesMode && tableDeviceProcessEvents && tableDeviceFileEvents ? [ruleT1587003!.outputs.id] : []
)

// Rules mode: the playbook (Sentinel incident trigger → POST /api/enrich, the key read at run time)
// and the automation rule that runs it for the detection rules' incidents.
module playbook 'modules/sentinel-playbook.bicep' = if (rulesMode) {
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

module playbookAccess 'modules/sentinel-playbook-access.bicep' = if (rulesMode) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-sentinel-playbook-access-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    playbookPrincipalId: playbook!.outputs.principalId
  }
}

module automationRule 'modules/sentinel-automation-rule.bicep' = if (anyDetectionRule) {
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  name: 'certsoar-sentinel-automation-${resourceToken}'
  params: {
    workspaceName: sentinelWorkspaceName
    playbookResourceId: playbook!.outputs.id
    analyticsRuleIds: deployedRuleIds
  }
  dependsOn: [
    roleAssignments
    playbookAccess
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

@description('Resource id of the incident webhook Logic App; empty when it is not deployed.')
output INCIDENT_LOGIC_APP_ID string = deployIncidentWebhook ? incidentWebhook!.outputs.id : ''

@description('The detection mode deployed (hunts or rules).')
output DETECTION_MODE string = detectionMode

@description('Hunts mode: logs ingestion endpoint of the findings data collection rule (LOGS_INGESTION_ENDPOINT for the CLI).')
output LOGS_INGESTION_ENDPOINT string = huntsMode ? findingsDcr!.outputs.logsIngestionEndpoint : ''

@description('Hunts mode: immutable id of the findings data collection rule (LOGS_INGESTION_RULE_ID for the CLI).')
output LOGS_INGESTION_RULE_ID string = huntsMode ? findingsDcr!.outputs.immutableId : ''

@description('Hunts mode: resource id of the findings analytics rule.')
output SENTINEL_FINDINGS_RULE_ID string = huntsMode ? findingsRule!.outputs.id : ''

@description('Resource id of the Teams API connection to authorise once in the portal; empty when the Teams Logic App is not deployed.')
output TEAMS_CONNECTION_ID string = useTeamsLogicApp ? teamsWebhook!.outputs.connectionId : ''

@description('Rules mode: resource id of the enrichment playbook; empty in hunts mode.')
output SENTINEL_PLAYBOOK_ID string = rulesMode ? playbook!.outputs.id : ''

@description('Rules mode: resource ids of the detection rules deployed (those whose tables the workspace has).')
output SENTINEL_ANALYTICS_RULE_IDS array = deployedRuleIds

@description('Rules mode: resource id of the automation rule that runs the playbook; empty in hunts mode or when no detection rule was deployed.')
output SENTINEL_AUTOMATION_RULE_ID string = anyDetectionRule ? automationRule!.outputs.id : ''

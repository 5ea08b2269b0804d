// Every app setting of the function app: the certsoar settings of shared/config.ts (defaults,
// deployment values or Key Vault references) and the host's own (HOST_SETTINGS there).
// test/infra/app-settings.test.ts keeps this list and the config schema in step.

@description('Name of the function app (created by function-app.bicep).')
param functionAppName string

@description('Name of the storage account the host and the state use, reached by identity.')
param storageAccountName string

@description('Table endpoint of the state storage account.')
param tableEndpoint string

@description('Queue endpoint of the state storage account.')
param queueEndpoint string

@description('Name of the Application Insights component (its connection string is read here, never passed around).')
param appInsightsName string

@description('Key Vault URI, e.g. https://<name>.vault.azure.net/.')
param keyVaultUri string

@description('Name of the Key Vault secret holding the incident webhook URL; empty when the incident webhook is not deployed.')
param incidentWebhookSecretName string = ''

@description('Name of the Key Vault secret holding the Teams webhook URL; empty when Teams delivery is off.')
param teamsWebhookSecretName string = ''

@description('Name of the Key Vault secret holding the tuning document; empty when the defaults apply.')
param tuningJsonSecretName string = ''

@description('Workspace (customer) id of the Sentinel workspace the hunts query.')
param logAnalyticsWorkspaceId string

@description('ARM resource id of the Sentinel workspace (incident comments and updates).')
param sentinelWorkspaceResourceId string

@description('Detections the timer hunts run: "all", "none" or a comma-separated list of ids.')
param huntsEnabled string = 'all'

@description('Which SIEM the hunts query.')
@allowed(['loganalytics', 'splunk', 'qradar'])
param huntSource string = 'loganalytics'

@description('Splunk management endpoint (https://host:8089); empty when Splunk is not used.')
param splunkUrl string = ''

@description('Key Vault secret holding the Splunk token; empty when Splunk is not used.')
param splunkTokenSecretName string = ''

@description('Splunk HTTP Event Collector base URL (https://host:8088); empty for no HEC write-back.')
param splunkHecUrl string = ''

@description('Key Vault secret holding the HEC token; empty for no HEC write-back.')
param splunkHecTokenSecretName string = ''

@description('QRadar console URL; empty when QRadar is not used.')
param qradarUrl string = ''

@description('Key Vault secret holding the QRadar authorized service token; empty when QRadar is not used.')
param qradarTokenSecretName string = ''

@description('Contact (e-mail or URL) put in the crt.sh User-Agent.')
param crtshContact string = ''

@description('Label put on Sentinel incidents certsoar creates or updates.')
param sentinelIncidentLabel string = 'certsoar'

@description('hunts (the timers detect; findings go to CertsoarFindings_CL) or rules (Sentinel\'s analytics rules detect).')
@allowed([
  'hunts'
  'rules'
])
param detectionMode string = 'hunts'

@description('Hunts mode: logs ingestion endpoint of the findings data collection rule; empty in rules mode.')
param logsIngestionEndpoint string = ''

@description('Hunts mode: immutable id of the findings data collection rule; empty in rules mode.')
param logsIngestionRuleId string = ''

@description('Hunts mode: the stream the data collection rule declares.')
param logsIngestionStream string = 'Custom-CertsoarFindings_CL'

@description('certsoar settings (names from shared/config.ts) that replace the defaults below.')
param settingOverrides object = {}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

@description('An app setting value that App Service resolves from Key Vault (versionless: rotation is picked up).')
func keyVaultReference(vaultUri string, secretName string) string => '@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/${secretName}/)'

var resourceManager = environment().resourceManager
var armEndpoint = endsWith(resourceManager, '/') ? take(resourceManager, length(resourceManager) - 1) : resourceManager

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(
    {
      // Host: storage and telemetry by managed identity (the runtime itself is set by functionAppConfig on Flex).
      AzureWebJobsStorage__accountName: storageAccountName
      AzureWebJobsStorage__credential: 'managedidentity'
      APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'

      // Log Analytics (hunts)
      LOG_ANALYTICS_WORKSPACE_ID: logAnalyticsWorkspaceId
      LOG_ANALYTICS_ENDPOINT: 'https://api.loganalytics.io/v1'

      // Hunt source and the other SIEMs (tokens as Key Vault references when their secret names are given)
      HUNT_SOURCE: huntSource
      SPLUNK_URL: splunkUrl
      SPLUNK_TOKEN: empty(splunkTokenSecretName) ? '' : keyVaultReference(keyVaultUri, splunkTokenSecretName)
      SPLUNK_CA_PEM: ''
      SPLUNK_HEC_URL: splunkHecUrl
      SPLUNK_HEC_TOKEN: empty(splunkHecTokenSecretName) ? '' : keyVaultReference(keyVaultUri, splunkHecTokenSecretName)
      SPLUNK_HEC_INDEX: 'certsoar'
      SPLUNK_ES_ENABLED: 'false'
      QRADAR_URL: qradarUrl
      QRADAR_TOKEN: empty(qradarTokenSecretName) ? '' : keyVaultReference(keyVaultUri, qradarTokenSecretName)
      QRADAR_CA_PEM: ''
      QRADAR_API_VERSION: '20.0'

      // Hunts (an empty schedule means the detection's own)
      HUNTS_ENABLED: huntsEnabled
      HUNT_SCHEDULE_T1608_003: ''
      HUNT_SCHEDULE_T1588_004: ''
      HUNT_SCHEDULE_T1587_003: ''
      HUNT_OVERLAP: '10m'
      HUNT_INGESTION_DELAY: '5m'
      HUNT_MAX_WINDOW: '6h'
      HUNT_INITIAL_LOOKBACK: '1d'
      SEEN_HIT_TTL: '7d'
      THREAT_QUIET_PERIOD: '7d'
      THREAT_ENDPOINT_LOOKBACK: '7d'

      // crt.sh
      CRTSH_BASE_URL: 'https://crt.sh'
      CRTSH_CONCURRENCY: '3'
      CRTSH_TIMEOUT: '30s'
      CRTSH_CACHE_TTL: '24h'
      CRTSH_CONTACT: crtshContact
      CRTSH_MAX_WIRE_BYTES: '16777216'
      CRTSH_MAX_RESPONSE_BYTES: '67108864'
      CRTSH_MAX_RECORDS: '10000'

      // Live TLS probe
      TLS_PROBE_ENABLED: 'false'
      TLS_PROBE_ALLOW_PRIVATE: 'false'
      TLS_PROBE_TIMEOUT: '5s'

      // State: identity-based connection (the queue triggers use connection "STATE_STORAGE_CONNECTION").
      // STATE_STORAGE_CONNECTION itself stays unset: a value there would be taken as a connection string.
      STATE_STORAGE_CONNECTION__tableServiceUri: tableEndpoint
      STATE_STORAGE_CONNECTION__queueServiceUri: queueEndpoint

      // Scoring
      TUNING_FILE: ''
      TUNING_JSON: empty(tuningJsonSecretName) ? '' : keyVaultReference(keyVaultUri, tuningJsonSecretName)

      // HTTP enrichment
      ENRICH_MAX_BODY_BYTES: '1048576'
      ENRICH_MAX_JSON_DEPTH: '64'
      ENRICH_DEADLINE: '200s'

      // Delivery
      INCIDENT_WEBHOOK_URL: empty(incidentWebhookSecretName) ? '' : keyVaultReference(keyVaultUri, incidentWebhookSecretName)
      TEAMS_WEBHOOK_URL: empty(teamsWebhookSecretName) ? '' : keyVaultReference(keyVaultUri, teamsWebhookSecretName)
      DELIVERY_MAX_ATTEMPTS: '5'
      DIGEST_THRESHOLD: '10'
      SENTINEL_WORKSPACE_RESOURCE_ID: sentinelWorkspaceResourceId
      ARM_ENDPOINT: armEndpoint
      SENTINEL_INCIDENT_LABEL: sentinelIncidentLabel

      // Detection mode and the findings table (hunts mode)
      DETECTION_MODE: detectionMode
      LOGS_INGESTION_ENDPOINT: logsIngestionEndpoint
      LOGS_INGESTION_RULE_ID: logsIngestionRuleId
      LOGS_INGESTION_STREAM: logsIngestionStream
    },
    settingOverrides
  )
}


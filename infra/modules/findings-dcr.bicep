// Hunts mode: the data collection rule the function app sends findings through (Logs Ingestion
// API). Kind "Direct": the rule has its own logs ingestion endpoint, so no data collection
// endpoint is needed. A DCR must be in its destination workspace's region. The function app's
// identity gets Monitoring Metrics Publisher on this rule only (what the Logs Ingestion API asks).

import { builtInRoleIds } from 'built-in-roles.bicep'

@description('Name of the data collection rule.')
param name string

@description('Region of the Sentinel workspace (a DCR must be in its destination\'s region).')
param location string

@description('Tags applied to the rule.')
param tags object = {}

@description('ARM id of the Sentinel workspace that holds CertsoarFindings_CL.')
param workspaceResourceId string

@description('Name of the findings table (deployed before this rule).')
param tableName string

@description('Object id of the function app\'s managed identity.')
param functionAppPrincipalId string

var streamName = 'Custom-${tableName}'
var streamColumns = loadJsonContent('../tables/findings-stream-columns.json')

resource dcr 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: name
  location: location
  tags: tags
  kind: 'Direct'
  properties: {
    description: 'certsoar findings into ${tableName}'
    streamDeclarations: {
      '${streamName}': {
        columns: streamColumns
      }
    }
    destinations: {
      logAnalytics: [
        {
          name: 'sentinel'
          workspaceResourceId: workspaceResourceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          streamName
        ]
        destinations: [
          'sentinel'
        ]
        transformKql: 'source'
        outputStream: streamName
      }
    ]
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: dcr
  name: guid(dcr.id, functionAppPrincipalId, builtInRoleIds.monitoringMetricsPublisher)
  properties: {
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.monitoringMetricsPublisher)
  }
}

@description('Immutable id of the rule (LOGS_INGESTION_RULE_ID).')
output immutableId string = dcr.properties.immutableId

@description('Logs ingestion endpoint of the rule (LOGS_INGESTION_ENDPOINT).')
output logsIngestionEndpoint string = dcr.properties.endpoints.logsIngestion

@description('Stream the function app writes to (LOGS_INGESTION_STREAM).')
output streamName string = streamName

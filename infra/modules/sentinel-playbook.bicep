// The playbook an automation rule runs for incidents from certsoar's analytics rules (rules mode): a
// Consumption Logic App with the Microsoft Sentinel incident trigger that POSTs the incident (its
// alerts carry the rules' custom details) to the function app's /api/enrich.
// No key is read at provisioning time (listKeys on a brand-new app fails while its host starts):
// each run reads the host key from Azure Resource Manager with the playbook's managed identity
// (Website Contributor on the function app only: it holds Microsoft.Web/sites/host/listkeys/action),
// and both actions hide their inputs and outputs from the run history.

import { builtInRoleIds } from 'built-in-roles.bicep'

@description('Playbook (workflow) name.')
param name string

@description('Name of the Microsoft Sentinel API connection (managed identity, nothing to authorise).')
param connectionName string

@description('Azure region for the playbook and the connection.')
param location string

@description('Tags applied to the playbook and the connection.')
param tags object = {}

@description('Name of the function app (same resource group) that serves POST /api/enrich.')
param functionAppName string

var sentinelApiId = subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'azuresentinel')

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource sentinelConnection 'Microsoft.Web/connections@2016-06-01' = {
  name: connectionName
  location: location
  tags: tags
  kind: 'V1'
  properties: {
    displayName: 'certsoar Microsoft Sentinel (managed identity)'
    parameterValueType: 'Alternative'
    customParameterValues: {}
    api: {
      id: sentinelApiId
    }
  }
}

resource playbook 'Microsoft.Logic/workflows@2019-05-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    state: 'Enabled'
    definition: {
      '$schema': 'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#'
      contentVersion: '1.0.0.0'
      parameters: {
        '$connections': {
          type: 'Object'
          defaultValue: {}
        }
      }
      triggers: {
        Microsoft_Sentinel_incident: {
          type: 'ApiConnectionWebhook'
          inputs: {
            host: {
              connection: {
                name: '@parameters(\'$connections\')[\'azuresentinel\'][\'connectionId\']'
              }
            }
            body: {
              callback_url: '@{listCallbackUrl()}'
            }
            path: '/incident-creation'
          }
        }
      }
      actions: {
        Read_function_key: {
          type: 'Http'
          inputs: {
            method: 'POST'
            uri: '${environment().resourceManager}${substring(functionApp.id, 1)}/host/default/listKeys?api-version=2024-04-01'
            authentication: {
              type: 'ManagedServiceIdentity'
              audience: environment().resourceManager
            }
          }
          retryPolicy: {
            type: 'exponential'
            count: 4
            interval: 'PT15S'
          }
          runtimeConfiguration: {
            secureData: {
              properties: [
                'inputs'
                'outputs'
              ]
            }
          }
        }
        Enrich_incident: {
          type: 'Http'
          runAfter: {
            Read_function_key: [
              'Succeeded'
            ]
          }
          inputs: {
            method: 'POST'
            uri: 'https://${functionApp.properties.defaultHostName}/api/enrich'
            headers: {
              'Content-Type': 'application/json'
              'x-functions-key': '@{body(\'Read_function_key\')?[\'functionKeys\']?[\'default\']}'
            }
            body: '@triggerBody()'
          }
          retryPolicy: {
            type: 'exponential'
            count: 4
            interval: 'PT15S'
          }
          runtimeConfiguration: {
            secureData: {
              properties: [
                'inputs'
              ]
            }
          }
        }
      }
      outputs: {}
    }
    parameters: {
      '$connections': {
        value: {
          azuresentinel: {
            connectionId: sentinelConnection.id
            connectionName: sentinelConnection.name
            id: sentinelApiId
            connectionProperties: {
              authentication: {
                type: 'ManagedServiceIdentity'
              }
            }
          }
        }
      }
    }
  }
}

// The one permission the run-time key read needs, on the function app alone.
resource readFunctionKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: functionApp
  name: guid(functionApp.id, playbook.id, builtInRoleIds.websiteContributor)
  properties: {
    principalId: playbook.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.websiteContributor)
  }
}

@description('Object id of the playbook\'s managed identity (Microsoft Sentinel Reader on the workspace, sentinel-access.bicep).')
output principalId string = playbook.identity.principalId

@description('Resource id of the playbook (the automation rule runs it).')
output id string = playbook.id

@description('Name of the playbook.')
output name string = playbook.name

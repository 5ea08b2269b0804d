// The playbook an automation rule runs for incidents from certsoar's analytics rules: a Consumption
// Logic App with the Microsoft Sentinel incident trigger that POSTs the incident to the function
// app's /api/enrich. The function key is read here with listKeys and handed to the workflow as a
// securestring parameter: it never leaves this deployment and is hidden in the run history.

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
        enrichFunctionKey: {
          type: 'securestring'
          defaultValue: ''
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
        Enrich_incident: {
          type: 'Http'
          inputs: {
            method: 'POST'
            uri: 'https://${functionApp.properties.defaultHostName}/api/enrich'
            headers: {
              'Content-Type': 'application/json'
              'x-functions-key': '@{parameters(\'enrichFunctionKey\')}'
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
      enrichFunctionKey: {
        // A host-level function key: the enrich function's own key exists only after the code is deployed.
        value: listKeys('${functionApp.id}/host/default', '2024-04-01').functionKeys.default
      }
    }
  }
}

@description('Resource id of the playbook (the automation rule runs it).')
output id string = playbook.id

@description('Name of the playbook.')
output name string = playbook.name

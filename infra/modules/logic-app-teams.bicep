// The Teams webhook: a Consumption Logic App that accepts the same envelope as a Teams Workflows
// webhook ({type: "message", attachments: [adaptive card]}) and posts attachments[0].content to a
// channel with the Teams connector. The connector acts as a signed-in user, so its connection
// must be authorised once in the portal after the first deployment (see infra/README.md).

@description('Logic App (workflow) name.')
param name string

@description('Name of the Teams API connection.')
param connectionName string

@description('Azure region for the workflow and the connection.')
param location string

@description('Tags applied to the workflow and the connection.')
param tags object = {}

@description('Microsoft Teams team (group) id the card is posted to.')
param teamsGroupId string

@description('Channel id in that team, e.g. 19:…@thread.tacv2.')
param teamsChannelId string

@description('Name of the Key Vault (same resource group) the callback URL is stored in.')
param keyVaultName string

@description('Name of the secret that receives the trigger\'s callback URL.')
param callbackUrlSecretName string

var triggerName = 'manual'
var teamsApiId = subscriptionResourceId('Microsoft.Web/locations/managedApis', location, 'teams')

resource teamsConnection 'Microsoft.Web/connections@2016-06-01' = {
  name: connectionName
  location: location
  tags: tags
  properties: {
    displayName: 'certsoar Teams cards'
    api: {
      id: teamsApiId
    }
  }
}

resource workflow 'Microsoft.Logic/workflows@2019-05-01' = {
  name: name
  location: location
  tags: tags
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
        '${triggerName}': {
          type: 'Request'
          kind: 'Http'
          operationOptions: 'EnableSchemaValidation'
          inputs: {
            method: 'POST'
            schema: loadJsonContent('../schemas/teams-message.schema.json')
          }
        }
      }
      actions: {
        Post_card: {
          type: 'ApiConnection'
          inputs: {
            host: {
              connection: {
                name: '@parameters(\'$connections\')[\'teams\'][\'connectionId\']'
              }
            }
            method: 'post'
            path: '/v1.0/teams/conversation/adaptivecard/poster/Flow bot/location/@{encodeURIComponent(\'Channel\')}'
            body: {
              recipient: {
                groupId: teamsGroupId
                channelId: teamsChannelId
              }
              messageBody: '@{string(triggerBody()?[\'attachments\']?[0]?[\'content\'])}'
            }
          }
          retryPolicy: {
            type: 'exponential'
            count: 4
            interval: 'PT10S'
          }
        }
        Respond_posted: {
          type: 'Response'
          kind: 'Http'
          runAfter: {
            Post_card: [
              'Succeeded'
            ]
          }
          inputs: {
            statusCode: 200
            body: {
              posted: true
            }
          }
        }
        Respond_failed: {
          type: 'Response'
          kind: 'Http'
          runAfter: {
            Post_card: [
              'Failed'
              'TimedOut'
            ]
          }
          inputs: {
            statusCode: 502
            body: {
              error: 'the card could not be posted to Teams'
            }
          }
        }
      }
      outputs: {}
    }
    parameters: {
      '$connections': {
        value: {
          teams: {
            connectionId: teamsConnection.id
            connectionName: teamsConnection.name
            id: teamsApiId
          }
        }
      }
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// The callback URL carries a SAS signature: it goes straight into Key Vault, never into an output.
resource callbackUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: callbackUrlSecretName
  properties: {
    value: listCallbackUrl('${workflow.id}/triggers/${triggerName}', '2019-05-01').value
    contentType: 'text/uri-list'
  }
}

@description('Resource id of the Teams webhook workflow.')
output id string = workflow.id

@description('Name of the Teams API connection to authorise once in the portal.')
output connectionName string = teamsConnection.name

@description('Resource id of the Teams API connection.')
output connectionId string = teamsConnection.id

@description('Name of the Key Vault secret holding the callback URL.')
output callbackUrlSecretName string = callbackUrlSecret.name

// The incident webhook: a Consumption Logic App whose request trigger validates the certsoar
// incident payload (the JSON Schema generated from shared/delivery/incident-schema.ts) and creates
// the Microsoft Sentinel incident with an HTTP action authenticated by its managed identity.
//
// Why the ARM REST API and not the Sentinel connector: no API connection to authorise or keep
// alive, the documented incidents API is what the function app's write-back uses too, and a PUT
// to an id derived from the payload's idempotency key makes a redelivered payload update nothing
// instead of opening a second incident (the GET first keeps an analyst's triage untouched).

@description('Logic App (workflow) name.')
param name string

@description('Azure region for the workflow.')
param location string

@description('Tags applied to the workflow.')
param tags object = {}

@description('ARM resource id of the Sentinel (Log Analytics) workspace incidents are created in.')
param sentinelWorkspaceResourceId string

@description('Label put on every incident the webhook creates.')
param incidentLabel string = 'certsoar'

@description('Name of the Key Vault (same resource group) the callback URL is stored in.')
param keyVaultName string

@description('Name of the secret that receives the trigger\'s callback URL.')
param callbackUrlSecretName string

var triggerName = 'manual'
var incidentsApiVersion = '2024-03-01'
var resourceManager = environment().resourceManager
var armBase = endsWith(resourceManager, '/') ? take(resourceManager, length(resourceManager) - 1) : resourceManager
var incidentsUri = '${armBase}${sentinelWorkspaceResourceId}/providers/Microsoft.SecurityInsights/incidents'
var managedIdentityAuth = {
  type: 'ManagedServiceIdentity'
  audience: resourceManager
}

resource workflow 'Microsoft.Logic/workflows@2019-05-01' = {
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
      parameters: {}
      triggers: {
        '${triggerName}': {
          type: 'Request'
          kind: 'Http'
          // Rejects (400) any body that is not a valid incident payload.
          operationOptions: 'EnableSchemaValidation'
          inputs: {
            method: 'POST'
            schema: loadJsonContent('../schemas/incident-payload.schema.json')
          }
        }
      }
      actions: {
        // The threat id (32 hex characters; every update of one threat carries it), else the finding id,
        // shaped as a GUID: the same threat → the same incident.
        Incident_key: {
          type: 'Compose'
          inputs: '@{toLower(substring(concat(replace(string(coalesce(triggerBody()?[\'threat\']?[\'id\'], triggerBody()?[\'findingId\'])), \'-\', \'\'), \'00000000000000000000000000000000\'), 0, 32))}'
        }
        Reason_lines: {
          type: 'Select'
          inputs: {
            from: '@triggerBody()?[\'reasons\']'
            select: '@concat(\'+\', string(item()?[\'points\']), \' \', item()?[\'reason\'])'
          }
        }
        Incident_description: {
          type: 'Compose'
          runAfter: {
            Reason_lines: [
              'Succeeded'
            ]
          }
          inputs: '@{concat(\'certsoar scored \', string(triggerBody()?[\'score\']), \' (\', triggerBody()?[\'level\'], \') for \', triggerBody()?[\'detection\']?[\'id\'], \' \', triggerBody()?[\'detection\']?[\'title\'], \'.\', decodeUriComponent(\'%0A%0A\'), join(body(\'Reason_lines\'), decodeUriComponent(\'%0A\')))}'
        }
        Incident_id: {
          type: 'Compose'
          runAfter: {
            Incident_key: [
              'Succeeded'
            ]
            Incident_description: [
              'Succeeded'
            ]
          }
          inputs: '@{concat(substring(outputs(\'Incident_key\'), 0, 8), \'-\', substring(outputs(\'Incident_key\'), 8, 4), \'-\', substring(outputs(\'Incident_key\'), 12, 4), \'-\', substring(outputs(\'Incident_key\'), 16, 4), \'-\', substring(outputs(\'Incident_key\'), 20, 12))}'
        }
        Get_incident: {
          type: 'Http'
          runAfter: {
            Incident_id: [
              'Succeeded'
            ]
          }
          inputs: {
            method: 'GET'
            uri: '${incidentsUri}/@{outputs(\'Incident_id\')}?api-version=${incidentsApiVersion}'
            authentication: managedIdentityAuth
          }
        }
        Incident_exists: {
          type: 'If'
          runAfter: {
            Get_incident: [
              'Succeeded'
              'Failed'
            ]
          }
          expression: {
            and: [
              {
                equals: [
                  '@outputs(\'Get_incident\')[\'statusCode\']'
                  404
                ]
              }
            ]
          }
          actions: {
            Create_incident: {
              type: 'Http'
              inputs: {
                method: 'PUT'
                uri: '${incidentsUri}/@{outputs(\'Incident_id\')}?api-version=${incidentsApiVersion}'
                authentication: managedIdentityAuth
                body: {
                  properties: {
                    // Capped at the portal's limits (title 256, description 5,000 characters); the
                    // payload's text is escaped and redacted by certsoar (shared/delivery/incident.ts).
                    title: '@{substring(string(triggerBody()?[\'title\']), 0, min(256, length(string(triggerBody()?[\'title\']))))}'
                    description: '@{substring(string(outputs(\'Incident_description\')), 0, min(5000, length(string(outputs(\'Incident_description\')))))}'
                    severity: '@{triggerBody()?[\'severity\']}'
                    status: 'New'
                    labels: [
                      {
                        labelName: incidentLabel
                        labelType: 'User'
                      }
                      {
                        labelName: '@{triggerBody()?[\'detection\']?[\'id\']}'
                        labelType: 'User'
                      }
                    ]
                  }
                }
              }
              retryPolicy: {
                type: 'exponential'
                count: 4
                interval: 'PT10S'
              }
            }
            Respond_created: {
              type: 'Response'
              kind: 'Http'
              runAfter: {
                Create_incident: [
                  'Succeeded'
                ]
              }
              inputs: {
                statusCode: 201
                body: {
                  incidentArmId: '@{body(\'Create_incident\')?[\'id\']}'
                  incidentNumber: '@body(\'Create_incident\')?[\'properties\']?[\'incidentNumber\']'
                  incidentUrl: '@{body(\'Create_incident\')?[\'properties\']?[\'incidentUrl\']}'
                }
              }
            }
          }
          else: {
            actions: {
              // An update of the threat (more rows, new sources) is a comment on its incident; the comment id is the
              // finding id (32 hex characters) shaped as a GUID, so a redelivered update rewrites the same comment.
              Is_update: {
                type: 'If'
                expression: {
                  and: [
                    {
                      equals: [
                        '@triggerBody()?[\'threat\']?[\'kind\']'
                        'update'
                      ]
                    }
                    {
                      equals: [
                        '@outputs(\'Get_incident\')[\'statusCode\']'
                        200
                      ]
                    }
                  ]
                }
                actions: {
                  Add_update_comment: {
                    type: 'Http'
                    inputs: {
                      method: 'PUT'
                      uri: '${incidentsUri}/@{outputs(\'Incident_id\')}/comments/@{concat(substring(triggerBody()?[\'findingId\'], 0, 8), \'-\', substring(triggerBody()?[\'findingId\'], 8, 4), \'-\', substring(triggerBody()?[\'findingId\'], 12, 4), \'-\', substring(triggerBody()?[\'findingId\'], 16, 4), \'-\', substring(triggerBody()?[\'findingId\'], 20, 12))}?api-version=${incidentsApiVersion}'
                      authentication: managedIdentityAuth
                      body: {
                        properties: {
                          message: '@{concat(\'certsoar: threat updated: \', string(triggerBody()?[\'threat\']?[\'update\']?[\'newOccurrences\']), \' more row(s), \', string(triggerBody()?[\'threat\']?[\'occurrences\']), \' in all, last seen \', triggerBody()?[\'threat\']?[\'lastSeen\'], \'; new sources: \', join(triggerBody()?[\'threat\']?[\'update\']?[\'newSources\'], \', \'), \'. Now \', triggerBody()?[\'level\'], \' (score \', string(triggerBody()?[\'score\']), \').\')}'
                        }
                      }
                    }
                    retryPolicy: {
                      type: 'exponential'
                      count: 4
                      interval: 'PT10S'
                    }
                  }
                }
              }
              Respond_existing: {
                type: 'Response'
                kind: 'Http'
                runAfter: {
                  Is_update: [
                    'Succeeded'
                  ]
                }
                inputs: {
                  // 200 when the incident exists already (a redelivery); 502 when Sentinel could not be asked.
                  statusCode: '@if(equals(outputs(\'Get_incident\')[\'statusCode\'], 200), 200, 502)'
                  body: {
                    incidentArmId: '@{body(\'Get_incident\')?[\'id\']}'
                    incidentNumber: '@body(\'Get_incident\')?[\'properties\']?[\'incidentNumber\']'
                    incidentUrl: '@{body(\'Get_incident\')?[\'properties\']?[\'incidentUrl\']}'
                  }
                }
              }
            }
          }
        }
        Respond_failed: {
          type: 'Response'
          kind: 'Http'
          runAfter: {
            Incident_exists: [
              'Failed'
              'TimedOut'
            ]
          }
          inputs: {
            statusCode: 502
            body: {
              error: 'the Sentinel incident could not be created'
            }
          }
        }
      }
      outputs: {}
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

@description('Resource id of the incident webhook workflow.')
output id string = workflow.id

@description('Name of the incident webhook workflow.')
output name string = workflow.name

@description('Object id of the workflow\'s managed identity (needs Microsoft Sentinel Responder on the workspace).')
output principalId string = workflow.identity.principalId

@description('Name of the Key Vault secret holding the callback URL.')
output callbackUrlSecretName string = callbackUrlSecret.name

// Key Vault in RBAC mode for the webhook callback URLs (they carry SAS signatures) and the optional
// tuning document. The function app reads them through Key Vault references.

@description('Key Vault name (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region for the vault.')
param location string

@description('Tags applied to the vault.')
param tags object = {}

@description('Days a deleted vault or secret can be recovered (7-90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

@description('Turn on purge protection (cannot be turned off again; blocks reusing the name until the retention ends).')
param enablePurgeProtection bool = false

@description('Name of the secret that holds the Teams webhook URL.')
param teamsWebhookSecretName string

@description('A Teams Workflows webhook URL to store instead of deploying the Teams Logic App; empty stores nothing here.')
@secure()
param teamsWorkflowsWebhookUrl string = ''

@description('Name of the secret that holds the tuning document.')
param tuningJsonSecretName string

@description('Tuning document (JSON) to store; empty stores nothing.')
@secure()
param tuningJson string = ''

@description('SIEM tokens to store, by secret name; empty values are not stored.')
@secure()
param siemSecrets object = {}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource teamsWebhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(teamsWorkflowsWebhookUrl)) {
  parent: vault
  name: teamsWebhookSecretName
  properties: {
    value: teamsWorkflowsWebhookUrl
    contentType: 'text/uri-list'
  }
}

resource tuningJsonSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(tuningJson)) {
  parent: vault
  name: tuningJsonSecretName
  properties: {
    value: tuningJson
    contentType: 'application/json'
  }
}

resource siemSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for secret in items(siemSecrets): if (!empty(secret.value)) {
    parent: vault
    name: secret.key
    properties: {
      value: secret.value
      contentType: 'text/plain'
    }
  }
]

@description('Key Vault name.')
output name string = vault.name

@description('Key Vault resource id.')
output id string = vault.id

@description('Key Vault URI, e.g. https://<name>.vault.azure.net/.')
output uri string = vault.properties.vaultUri

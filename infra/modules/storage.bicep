// Storage for the Functions host (deployment package, keys, leases) and for certsoar's state
// (queues and tables). Shared keys are off: everything reaches it with Microsoft Entra ID.

@description('Storage account name (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region for the storage account.')
param location string

@description('Tags applied to the storage account.')
param tags object = {}

@description('Blob container the Flex Consumption app is deployed from.')
param deploymentContainerName string = 'app-package'

@description('Queues certsoar uses, each with its poison queue.')
param queueNames array = [
  'hits'
  'findings'
]

@description('Tables certsoar keeps its state in.')
param tableNames array = [
  'huntstate'
  'seenhits'
  'crtshcache'
  'deliveries'
  'enrichledger'
  'knownthreats'
]

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storageAccount
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storageAccount
  name: 'default'
}

// The Functions host names a queue's poison queue "<name>-poison"; creating both up front keeps
// the first failure from needing queue-create rights at run time.
resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in flatten(map(queueNames, q => [q, '${q}-poison'])): {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storageAccount
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

@description('Storage account name.')
output name string = storageAccount.name

@description('Storage account resource id.')
output id string = storageAccount.id

@description('Blob endpoint, e.g. https://<name>.blob.core.windows.net/.')
output blobEndpoint string = storageAccount.properties.primaryEndpoints.blob

@description('Queue endpoint (STATE_STORAGE_CONNECTION__queueServiceUri).')
output queueEndpoint string = storageAccount.properties.primaryEndpoints.queue

@description('Table endpoint (STATE_STORAGE_CONNECTION__tableServiceUri).')
output tableEndpoint string = storageAccount.properties.primaryEndpoints.table

@description('Blob container the app package is deployed to.')
output deploymentContainerName string = deploymentContainer.name

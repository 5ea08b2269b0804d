// Azure built-in role definition ids (the same in every tenant), from the Azure RBAC built-in roles
// reference. test/infra/roles.test.ts checks them against the documented ids.

@export()
@description('Built-in role definition ids used by certsoar, by role name.')
var builtInRoleIds = {
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'
  sentinelResponder: '3e150937-b8fe-4cfb-8069-0eaf05ecd056'
  sentinelAutomationContributor: 'f4c81013-99ee-4d62-a7ee-b3f1f648599a'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  sentinelReader: '8d289c81-5878-46d4-8554-54e1e3d8b5cb'
  websiteContributor: 'de139f84-1756-47ae-9be6-808fbbe84772'
}

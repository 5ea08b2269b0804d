// Hunts mode: the custom table certsoar's findings land in (Analytics plan, so analytics rules can
// query it). Its columns are generated from shared/delivery/logs-ingestion-row.ts
// (FINDINGS_COLUMNS) into ../tables/findings-table-columns.json; test/shared/delivery checks the
// table, the DCR stream and the rows the code sends are one contract.

@description('Name of the Sentinel (Log Analytics) workspace, in this deployment\'s resource group.')
param workspaceName string

@description('Days the findings are kept (interactive retention).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 90

var columns = loadJsonContent('../tables/findings-table-columns.json')

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource findingsTable 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: workspace
  name: 'CertsoarFindings_CL'
  properties: {
    plan: 'Analytics'
    retentionInDays: retentionInDays
    schema: {
      name: 'CertsoarFindings_CL'
      description: 'certsoar findings (hunts mode): one row per finding or update of a threat'
      columns: [for c in columns: { name: c.name, type: c.type, description: c.description }]
    }
  }
}

@description('Name of the table.')
output name string = findingsTable.name

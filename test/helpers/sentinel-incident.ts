/**
 * A Microsoft Sentinel incident-trigger body (Logic Apps connector "When Microsoft Sentinel incident
 * is created"): object.id is the incident ARM id, object.properties.relatedEntities the entities,
 * each with kind and properties as the connector sends them. Values are made up.
 */
export const INCIDENT_PAYLOAD = {
  eventUniqueId: '5f2e0c7a-0000-4000-8000-000000000001',
  objectSchemaType: 'Incident',
  objectEventType: 'Create',
  workspaceInfo: { SubscriptionId: '00000000-0000-0000-0000-000000000000', ResourceGroupName: 'rg-sentinel', WorkspaceName: 'law-sentinel' },
  workspaceId: '11111111-1111-1111-1111-111111111111',
  object: {
    id: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sentinel/providers/Microsoft.OperationalInsights/workspaces/law-sentinel/providers/Microsoft.SecurityInsights/Incidents/7d1e6a52-0000-4000-8000-000000000002',
    name: '7d1e6a52-0000-4000-8000-000000000002',
    type: 'Microsoft.SecurityInsights/Incidents',
    properties: {
      title: 'Suspicious certificate',
      severity: 'Medium',
      status: 'New',
      incidentNumber: 412,
      incidentUrl: 'https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/x',
      relatedEntities: [
        { id: 'e1', kind: 'Host', properties: { hostName: 'web01', dnsDomain: 'contoso.com', friendlyName: 'web01' } },
        { id: 'e2', kind: 'Ip', properties: { address: '203.0.113.9', friendlyName: '203.0.113.9' } },
        { id: 'e3', kind: 'DnsResolution', properties: { domainName: 'login.c0ntoso.com', friendlyName: 'login.c0ntoso.com' } },
        { id: 'e4', kind: 'Url', properties: { url: 'https://cdn.evil.net:8443/payload', friendlyName: 'https://cdn.evil.net:8443/payload' } },
        { id: 'e5', kind: 'FileHash', properties: { algorithm: 'SHA256', hashValue: 'AB'.repeat(32), friendlyName: 'x' } },
        {
          id: 'e6',
          kind: 'RegistryKey',
          properties: { hive: 'HKEY_LOCAL_MACHINE', key: 'SOFTWARE\\Microsoft\\SystemCertificates\\ROOT\\Certificates\\0563B8630D62D75ABBC8AB1E4BDFB5A899B24D43', friendlyName: 'x' },
        },
        { id: 'e7', kind: 'Account', properties: { accountName: 'alice' } },
        { id: 'e8', kind: 'DnsResolution', properties: { domainName: 'LOGIN.c0ntoso.com.' } },
      ],
    },
  },
};


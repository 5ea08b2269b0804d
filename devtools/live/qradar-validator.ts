import axios from 'axios';

/**
 * QRadar's AQL validator: POST {QRADAR_URL}/api/ariel/validators/aql?query_expression=…
 * (QRadar REST API, ariel endpoints: "Validates the AQL query expression"; SELECT only) with the
 * authorized-service token in the SEC header. The custom event properties the query reads must
 * exist on that QRadar (the export lists them). The token is never logged.
 */

export interface ValidatorVerdict {
  ok: boolean;
  messages: string[];
}

export async function qradarValidate(baseUrl: string, token: string, query: string): Promise<ValidatorVerdict> {
  const response = await axios.post(`${baseUrl.replace(/\/+$/, '')}/api/ariel/validators/aql`, undefined, {
    params: { query_expression: query },
    headers: { SEC: token, Accept: 'application/json' },
    validateStatus: () => true,
    timeout: 30_000,
  });
  if (response.status !== 200) return { ok: false, messages: [`HTTP ${response.status}`, JSON.stringify(response.data ?? '').slice(0, 500)] };
  // The documented response: the errors/warnings found, or null when the query is valid.
  const body = response.data as unknown;
  const problems = Array.isArray(body) ? body : body && typeof body === 'object' && Array.isArray((body as { errors?: unknown[] }).errors) ? (body as { errors: unknown[] }).errors : [];
  return { ok: problems.length === 0, messages: problems.map((p) => JSON.stringify(p)) };
}

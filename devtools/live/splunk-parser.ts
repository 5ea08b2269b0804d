import axios from 'axios';
import { SPL_MACROS } from '../../shared/detections/backends/spl.js';

/**
 * Splunk's own SPL parser: GET {SPLUNK_URL}/services/search/parser?q=…&parse_only=true
 * (Splunk REST API Reference, search endpoints: search/parser) with a bearer token
 * (Splunk authentication tokens). certsoar's macros are expanded here first, so the check does
 * not depend on the app being installed. Only for live checks: the token is never logged.
 */

export interface ParserVerdict {
  ok: boolean;
  messages: string[];
}

export function expandMacros(search: string): string {
  return search.replace(/`([A-Za-z0-9_]+)`/g, (whole, name: string) => (name in SPL_MACROS ? SPL_MACROS[name as keyof typeof SPL_MACROS].definition : whole));
}

export async function splunkParse(baseUrl: string, token: string, search: string): Promise<ParserVerdict> {
  const expanded = expandMacros(search).trim();
  const q = expanded.startsWith('|') ? expanded : `search ${expanded}`;
  const response = await axios.get(`${baseUrl.replace(/\/+$/, '')}/services/search/parser`, {
    params: { q, parse_only: 'true', output_mode: 'json' },
    headers: { authorization: `Bearer ${token}` },
    validateStatus: () => true,
    timeout: 30_000,
  });
  const body = response.data as { messages?: Array<{ type?: string; text?: string }> };
  const messages = (body?.messages ?? []).map((m) => `${m.type ?? ''}: ${m.text ?? ''}`);
  return { ok: response.status === 200, messages: response.status === 200 ? messages : [`HTTP ${response.status}`, ...messages] };
}

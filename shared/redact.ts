/**
 * Secrets (webhook URLs carry SAS signatures, function keys ride in `code=`) must never reach a
 * log line, a card or an error. Everything that prints a URL or an upstream error goes through here.
 */

const SECRET_QUERY_KEYS = /([?&](?:sig|code|key|token|access_token|client_secret|sv|se|sp|sr|skoid|sktid)=)[^&#\s"']+/gi;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const ACCOUNT_KEY = /((?:AccountKey|SharedAccessSignature|SharedAccessKey)=)[^;\s"']+/gi;

export function redact(text: string): string {
  return text.replace(SECRET_QUERY_KEYS, '$1REDACTED').replace(BEARER, '$1REDACTED').replace(ACCOUNT_KEY, '$1REDACTED');
}

/** A URL reduced to what is safe to show: scheme, host and path, no query or fragment. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparseable url)';
  }
}

/** A message from any thrown value, redacted. */
export function errorMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  return redact(raw);
}

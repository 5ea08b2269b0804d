/**
 * Secrets (webhook URLs carry SAS signatures or, for Teams/Office incoming webhooks, the secret in
 * the path; function keys ride in `code=` or x-functions-key) must never reach a log line, a card,
 * a poison message or an error. Everything that prints a URL or an upstream error goes through here.
 * Every pattern is linear: no nested or adjacent overlapping quantifiers (they run over upstream text).
 */

const SECRET_NAMES = 'sig|signature|code|key|token|access_token|refresh_token|id_token|client_secret|password|passwd|pwd|sv|se|sp|sr|skoid|sktid';

/** name=value after a separator, the separator and the `=` also URL-encoded (%26, %3F, %3D) or HTML-encoded (&amp;). */
const SECRET_PAIRS = new RegExp(`((?:^|[?&;,\\s]|&amp;|%26|%3F)(?:${SECRET_NAMES})(?:=|%3D))[^&#\\s"'<>;]+`, 'gi');
/** "name": "value" in JSON. */
const SECRET_JSON = /("(?:password|passwd|pwd|client_secret|secret|token|access_token|refresh_token|sig|code|key|api_key|apikey)"\s*:\s*")[^"]*/gi;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]+/gi;
const BASIC = /(\bbasic\s+)[A-Za-z0-9+/]{8,}={0,2}/gi;
const SECRET_HEADERS = /((?:x-functions-key|api-key|ocp-apim-subscription-key|x-api-key)\s*[:=]\s*)[^\s"',;]+/gi;
const ACCOUNT_KEY = /((?:AccountKey|SharedAccessSignature|SharedAccessKey)=)[^;\s"']+/gi;
const URL_USERINFO = /(\bhttps?:\/\/[^\s/:@"'<>]+:)[^\s/@"'<>]+@/gi;
/** scheme://host followed by a path. */
const URL_WITH_PATH = /(\bhttps?:\/\/[^\s/?#"'<>]+)(\/[^\s"'<>]*)/gi;
/** Paths that are themselves the secret: Teams/Office incoming webhooks, Logic App and Power Automate triggers. */
const WEBHOOK_PATH = /webhook|\/workflows\/|\/triggers\/|\/paths\/invoke/i;

export function redact(text: string): string {
  return text
    .replace(URL_USERINFO, '$1REDACTED@')
    .replace(SECRET_PAIRS, '$1REDACTED')
    .replace(SECRET_JSON, '$1REDACTED')
    .replace(BEARER, '$1REDACTED')
    .replace(BASIC, '$1REDACTED')
    .replace(SECRET_HEADERS, '$1REDACTED')
    .replace(ACCOUNT_KEY, '$1REDACTED')
    .replace(URL_WITH_PATH, (whole: string, origin: string, rest: string) => (WEBHOOK_PATH.test(rest) ? `${origin}/REDACTED` : whole));
}

/** A URL reduced to what is safe to show: scheme and host (a webhook's path can be its secret). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparseable url)';
  }
}

/** A message from any thrown value, redacted. */
export function errorMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  return redact(raw);
}

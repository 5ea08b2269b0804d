/**
 * The one reader of X.500 distinguished names as logs, crt.sh and command lines write them:
 * "CN=x, O=y" (RFC 4514 order or not) and OpenSSL's "/C=US/O=y/CN=x". Detection definitions keep
 * their own RE2 patterns, because those compile to KQL and must mean the same thing there.
 */

/** The CN of a DN in either "CN=x, O=y" or "/CN=x/O=y" form; undefined when it has none. */
export function commonNameOf(dn: string | undefined): string | undefined {
  if (!dn) return undefined;
  const m = /(?:^|[,/]\s*)CN=([^,/]+)/i.exec(dn);
  return m?.[1]?.trim();
}

/** The attribute values of a DN in any of those forms, or the text itself when it is a bare name. */
export function dnValues(dn: string | undefined): string[] {
  if (!dn) return [];
  const text = dn.trim();
  const values = /(?:^|[,/+])\s*[A-Za-z][A-Za-z0-9.]*\s*=/.test(text)
    ? [...text.matchAll(/(?:^|[,/+])\s*[A-Za-z][A-Za-z0-9.]*\s*=\s*("(?:[^"\\]|\\.)*"|(?:\\.|[^,/+])*)/g)].map((m) => (m[1] ?? '').replace(/^"|"$/g, '').trim())
    : [text];
  return values.filter((v) => v !== '');
}

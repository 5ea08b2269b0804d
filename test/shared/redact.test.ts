import { describe, expect, it } from 'vitest';
import { errorMessage, redact, safeUrl } from '../../shared/redact.js';

const LOGIC_APP =
  'https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbCdEf0123456789xyz';

// Shape of an Office 365 / Teams incoming-webhook URL (learn.microsoft.com "Create an Incoming Webhook"): the secret is the path.
const TEAMS_INCOMING = 'https://contoso.webhook.office.com/webhookb2/0a1b2c3d-aaaa-bbbb-cccc-000000000000@11111111-2222-3333-4444-555555555555/IncomingWebhook/PATHSECRET0123456789abcdef/66666666-7777-8888-9999-000000000000';

describe('redact', () => {
  it.each([
    ['password=', 'connect failed: Server=db;User Id=sa;password=Hunter2Secret;', 'Hunter2Secret'],
    ['Password: (JSON)', '{"user":"a","password":"Hunter2Secret"}', 'Hunter2Secret'],
    ['Basic auth header', 'Authorization: Basic dXNlcjpIdW50ZXIyU2VjcmV0', 'dXNlcjpIdW50ZXIyU2VjcmV0'],
    ['userinfo in a URL', 'GET https://admin:Hunter2Secret@host.example/x failed', 'Hunter2Secret'],
    ['x-functions-key header', 'x-functions-key: FuncKey0123456789abcdef==', 'FuncKey0123456789abcdef'],
    ['client_secret in a form body', 'grant_type=client_credentials&client_id=abc&client_secret=Cl1entS3cretValue~x', 'Cl1entS3cretValue'],
    ['client_secret in JSON', '{"client_secret": "Cl1entS3cretValue~x"}', 'Cl1entS3cretValue'],
    ['client_secret at the start of a line', 'client_secret=Cl1entS3cretValue~x', 'Cl1entS3cretValue'],
    ['URL-encoded sig=', 'redirect=https%3A%2F%2Fh%2Fp%3Fsv%3D1.0%26sig%3DUrlEncodedSig0123456', 'UrlEncodedSig0123456'],
    ['HTML-encoded sig=', '<a href="https://h/p?sv=1.0&amp;sig=HtmlEncodedSig0123456">', 'HtmlEncodedSig0123456'],
    ['a Teams incoming-webhook URL as a whole', `POST ${TEAMS_INCOMING} answered 400`, 'PATHSECRET0123456789abcdef'],
    ['a Logic App callback URL as a whole', `POST ${LOGIC_APP} failed`, '/workflows/abc'],
  ])('redacts %s', (_name, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('REDACTED');
  });

  it('keeps what is not a secret readable', () => {
    expect(redact('crt.sh answered HTTP 503 for q=%.example.com')).toBe('crt.sh answered HTTP 503 for q=%.example.com');
    expect(redact(`POST ${TEAMS_INCOMING} answered 400`)).toContain('https://contoso.webhook.office.com');
  });

  it('removes SAS signatures and their companions from Logic App callback URLs', () => {
    const out = redact(`POST ${LOGIC_APP} failed`);
    expect(out).not.toContain('AbCdEf0123456789xyz');
    expect(out).toContain('https://prod-12.westeurope.logic.azure.com');
  });

  it('removes function keys, bearer tokens and storage account keys', () => {
    expect(redact('https://app.azurewebsites.net/api/enrich?code=s3cr3tK3y==')).toBe('https://app.azurewebsites.net/api/enrich?code=REDACTED');
    expect(redact('Authorization: Bearer eyJ0eXAiOiJKV1Qi.abc.def')).toBe('Authorization: Bearer REDACTED');
    expect(redact('DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;EndpointSuffix=core.windows.net')).toBe(
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=REDACTED;EndpointSuffix=core.windows.net',
    );
  });

  it('safeUrl keeps scheme and host only: incoming-webhook URLs carry their secret in the path', () => {
    expect(safeUrl(LOGIC_APP)).toBe('https://prod-12.westeurope.logic.azure.com');
    expect(safeUrl(TEAMS_INCOMING)).toBe('https://contoso.webhook.office.com');
    expect(safeUrl('https://user:pw@host.example:8443/a/b')).toBe('https://host.example:8443');
    expect(safeUrl('not a url')).toBe('(unparseable url)');
  });

  it('errorMessage redacts what an error carries', () => {
    expect(errorMessage(new Error(`connect ECONNREFUSED for ${LOGIC_APP}`))).not.toContain('AbCdEf0123456789xyz');
    expect(errorMessage('plain')).toBe('plain');
  });
});

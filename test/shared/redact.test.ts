import { describe, expect, it } from 'vitest';
import { errorMessage, redact, safeUrl } from '../../shared/redact.js';

const LOGIC_APP =
  'https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbCdEf0123456789xyz';

describe('redact', () => {
  it('removes SAS signatures and their companions from Logic App callback URLs', () => {
    const out = redact(`POST ${LOGIC_APP} failed`);
    expect(out).not.toContain('AbCdEf0123456789xyz');
    expect(out).toContain('sig=REDACTED');
    expect(out).toContain('api-version=2016-10-01');
  });

  it('removes function keys, bearer tokens and storage account keys', () => {
    expect(redact('https://app.azurewebsites.net/api/enrich?code=s3cr3tK3y==')).toBe('https://app.azurewebsites.net/api/enrich?code=REDACTED');
    expect(redact('Authorization: Bearer eyJ0eXAiOiJKV1Qi.abc.def')).toBe('Authorization: Bearer REDACTED');
    expect(redact('DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;EndpointSuffix=core.windows.net')).toBe(
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=REDACTED;EndpointSuffix=core.windows.net',
    );
  });

  it('safeUrl keeps scheme, host and path only', () => {
    expect(safeUrl(LOGIC_APP)).toBe('https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke');
    expect(safeUrl('not a url')).toBe('(unparseable url)');
  });

  it('errorMessage redacts what an error carries', () => {
    expect(errorMessage(new Error(`connect ECONNREFUSED for ${LOGIC_APP}`))).not.toContain('AbCdEf0123456789xyz');
    expect(errorMessage('plain')).toBe('plain');
  });
});

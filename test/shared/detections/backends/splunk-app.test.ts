import { describe, expect, it } from 'vitest';
import { grammars } from '../../../../devtools/grammars/parsers.js';
import { SPL_MACROS, splSearches } from '../../../../shared/detections/backends/spl.js';
import { splunkApp } from '../../../../shared/detections/backends/splunk-app.js';
import { DEFAULT_TUNING } from '../../../../shared/scoring/tuning.js';
import { TUNINGS } from './tunings.js';

/** A .conf file as stanza → key → value, joining backslash-continued lines. */
function parseConf(text: string): Map<string, Map<string, string>> {
  const stanzas = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  const logical: string[] = [];
  for (const line of text.split('\n')) {
    const previous = logical[logical.length - 1];
    if (previous?.endsWith(' \\')) logical[logical.length - 1] = `${previous.slice(0, -2)}\n${line}`;
    else logical.push(line);
  }
  for (const line of logical) {
    const stanza = /^\[(.+)\]$/.exec(line);
    if (stanza) stanzas.set(stanza[1] as string, (current = new Map()));
    const kv = /^([^=#[]+?) = ([\s\S]*)$/.exec(line);
    if (kv && current) current.set(kv[1] as string, kv[2] as string);
  }
  return stanzas;
}

describe('Splunk app export', () => {
  it.each(TUNINGS)('has one scheduled, throttled saved search per SPL search, each parsing (%s tuning)', (_name, tuning) => {
    const app = splunkApp(tuning);
    const saved = parseConf(app['default/savedsearches.conf'] ?? '');
    const searches = splSearches(tuning);
    expect([...saved.keys()]).toEqual(searches.map((s) => s.name));
    for (const s of searches) {
      const stanza = saved.get(s.name) as Map<string, string>;
      expect(stanza.get('search')).toBe(s.search);
      expect(grammars().spl.parse(stanza.get('search') ?? '')).toMatchObject({ ok: true });
      expect(stanza.get('enableSched')).toBe('1');
      expect(stanza.get('alert.suppress')).toBe('1');
      expect(stanza.get('alert.suppress.fields')).not.toBe('');
    }
  });

  it('looks back exactly one schedule interval', () => {
    const saved = parseConf(splunkApp(DEFAULT_TUNING)['default/savedsearches.conf'] ?? '');
    const tls = saved.get('certsoar T1608.003 sourcetypes') as Map<string, string>;
    expect(tls.get('cron_schedule')).toBe('*/15 * * * *');
    expect(tls.get('dispatch.earliest_time')).toBe('-15m@m');
    expect(tls.get('dispatch.latest_time')).toBe('@m');
    expect(tls.get('action.certsoar_enrich')).toBe('1');
  });

  it('defines every macro the searches use, and the alert action with a placeholder URL and no key', () => {
    const app = splunkApp(DEFAULT_TUNING);
    const macros = parseConf(app['default/macros.conf'] ?? '');
    const used = new Set(splSearches(DEFAULT_TUNING).flatMap((s) => [...s.search.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string)));
    for (const name of used) expect(macros.get(name)?.get('definition'), name).toBe(SPL_MACROS[name as keyof typeof SPL_MACROS].definition);
    for (const [name, m] of macros) expect(grammars().spl.parse(m.get('definition') ?? ''), name).toMatchObject({ ok: true });
    const action = parseConf(app['default/alert_actions.conf'] ?? '').get('certsoar_enrich') as Map<string, string>;
    expect(action.get('param.url')).toMatch(/^https:\/\/.+\/api\/enrich$/);
    expect(action.get('param.function_key')).toBe('SET-IN-SPLUNK-NOT-HERE');
    expect(app['bin/certsoar_enrich.py']).toContain('x-functions-key');
    expect(app['default/app.conf']).toContain('id = certsoar_detections');
  });
});

import { describe, expect, it } from 'vitest';
import { entityLabel, topReasons } from '../../../cli/report/summary.js';
import { findingsTable } from '../../../cli/report/table.js';
import { reportFindings } from './fixtures.js';

describe('findingsTable', () => {
  it('has one aligned line per finding with detection, entity, score, level and top reasons', () => {
    const table = findingsTable(reportFindings());
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^DETECTION\s+ENTITY\s+ROWS\s+SOURCES\s+SCORE\s+LEVEL\s+TOP REASONS$/);
    expect(lines).toHaveLength(5);
    const column = lines[0]!.indexOf('SCORE');
    expect(lines.slice(1, 4).map((l) => l.slice(column, column + 1))).toEqual(['2', '7', '3']);
    expect(lines[2]).toContain('10.0.0.5 → 198.51.100.7');
    expect(lines[2]).toContain('self_signed +3, placeholder_cn +2, hostname_mismatch +2');
    expect(lines[3]).toContain('Medium*');
    expect(lines[3]).toContain('suppressed by approved-cert-store-writer; root_store_write +3');
    expect(lines[4]).toMatch(/^\* suppressed/);
  });

  it('cuts long entities with an ellipsis and keeps the columns aligned', () => {
    const [f] = reportFindings();
    f!.hit.entities.destinationHost = `${'x'.repeat(80)}.example.net`;
    const lines = findingsTable([f!]).split('\n');
    expect(lines[1]).toContain('…');
    expect(lines[1]!.indexOf('2  ')).toBe(lines[0]!.indexOf('SCORE'));
  });

  it('labels and reasons', () => {
    const [low, high] = reportFindings();
    expect(entityLabel(low!.hit)).toBe('ws-01 → a.example.net');
    expect(topReasons(high!, 2)).toBe('self_signed +3, placeholder_cn +2');
    expect(entityLabel({ ...low!.hit, entities: { domains: [] } })).toBe('(no entity)');
  });
});

import { z } from 'zod';

/**
 * crt.sh JSON answers, current and legacy. Current rows carry id/entry_timestamp/common_name/
 * serial_number (and result_count in newer answers); the ~2018 format carries min_cert_id/
 * min_entry_timestamp and no serial. Timestamps have no zone: they are UTC.
 */

/** crt.sh stops at this many rows without saying so. */
export const CRTSH_ROW_CAP = 10_000;

const crtshTimestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/, 'expected a crt.sh timestamp (UTC, no zone)')
  .transform((s) => `${s}Z`);

const recordSchema = z
  .object({
    issuer_ca_id: z.number().int(),
    issuer_name: z.string(),
    common_name: z.string().nullish(),
    name_value: z.string().nullish(),
    id: z.number().int().optional(),
    min_cert_id: z.number().int().optional(),
    entry_timestamp: crtshTimestamp.nullish(),
    min_entry_timestamp: crtshTimestamp.nullish(),
    not_before: crtshTimestamp,
    not_after: crtshTimestamp,
    serial_number: z.string().nullish(),
    result_count: z.number().int().optional(),
  })
  .refine((r) => r.id !== undefined || r.min_cert_id !== undefined, { message: 'a record needs id or min_cert_id', path: ['id'] });

/** One crt.sh row, normalised: ISO-8601 UTC times, names split, both formats in one shape. */
export interface CtRecord {
  crtshId: number;
  issuerCaId: number;
  issuerName: string;
  commonName?: string;
  names: string[];
  /** ISO-8601 UTC; undefined when crt.sh has none (entry_timestamp null). */
  entryTimestamp?: string;
  notBefore: string;
  notAfter: string;
  /** Lower-case hex without leading zeros; undefined in the legacy format. */
  serialNumber?: string;
}

/** Serial numbers compared as numbers: lower-case hex, no separators, no leading zeros. */
export function normaliseSerial(serial: string | undefined): string | undefined {
  if (!serial) return undefined;
  const hex = serial.toLowerCase().replace(/[^0-9a-f]/g, '').replace(/^0+(?=.)/, '');
  return hex === '' ? undefined : hex;
}

export function toCtRecord(raw: unknown): CtRecord {
  const r = recordSchema.parse(raw);
  const entry = r.entry_timestamp ?? r.min_entry_timestamp ?? undefined;
  const serial = normaliseSerial(r.serial_number ?? undefined);
  return {
    crtshId: (r.id ?? r.min_cert_id) as number,
    issuerCaId: r.issuer_ca_id,
    issuerName: r.issuer_name,
    ...(r.common_name ? { commonName: r.common_name } : {}),
    names: (r.name_value ?? '')
      .split('\n')
      .map((n) => n.trim().toLowerCase())
      .filter(Boolean),
    ...(entry ? { entryTimestamp: entry } : {}),
    notBefore: r.not_before,
    notAfter: r.not_after,
    ...(serial ? { serialNumber: serial } : {}),
  };
}

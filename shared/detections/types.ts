import type { z } from 'zod';
import type { CertificateObservation, Entities, Level, Row, Signal } from '../model.js';

export interface DetectionMeta {
  /** ATT&CK sub-technique id; also the detection id. */
  id: string;
  title: string;
  description: string;
  technique: { id: string; name: string; url: string };
  tactics: string[];
  severity: Level;
  confidence: 'low' | 'medium' | 'high';
  tables: string[];
  connectors: string[];
  /** How often the hunt runs and how far back the exported analytics rule looks (durations). */
  queryFrequency: string;
  queryPeriod: string;
  /** NCRONTAB (six fields) for the timer function; overridable by HUNT_SCHEDULE_<ID>. */
  schedule: string;
  falsePositives: string[];
  references: string[];
}

/**
 * The rules-mode analytics-rule window: each run reads the rows ingested in the last `frequency`,
 * within a TimeGenerated bound of frequency + margin (shared/detections/rule-window.ts).
 */
export interface RuleWindow {
  frequency: string;
  margin: string;
}

/** The hunt window: rows ingested in [start, end). */
export interface QueryWindow {
  start: Date;
  end: Date;
}

/** What a detection's evaluator computes from one row (backends/evaluator.ts). */
export interface Evaluation {
  key: string;
  time: string;
  signals: Signal[];
  indicators: Record<string, string | number | boolean | null>;
  entities: Entities;
  certificate?: CertificateObservation;
  /** Only on related rows (evaluateRelated): the values that tie the row to a hit, e.g. DestinationIP and DestinationPort. */
  relatedTo?: Record<string, string | number | boolean | null>;
}

export interface Detection<P = Record<string, unknown>> {
  meta: DetectionMeta;
  /** Parameters with defaults: `paramsSchema.parse({})` gives the defaults. */
  paramsSchema: z.ZodType<P, Record<string, unknown>>;
  /**
   * The KQL: with a QueryWindow the hunt form; with a RuleWindow the rules-mode analytics rule (one
   * ingestion window per run); with neither it looks back the lookback parameter from now.
   */
  buildQuery(params: P, window?: QueryWindow | RuleWindow): string;
  /** The in-process evaluator compiled from the same definition as the KQL, over one row; null when the row is not a hit. */
  evaluate(row: Row, params: P): Evaluation | null;
  /**
   * Rows that are not hits but belong to a hit's threat (T1608.003: TLS sessions without a
   * certificate); null when the row is not one. The query returns them marked (column
   * SessionWithoutCertificate = true) when a hit in the same answer shares their endpoint.
   */
  evaluateRelated?(row: Row, params: P): Evaluation | null;
  /** Source columns the query projects; the evaluator reads only these. */
  projectedColumns: readonly string[];
  /** Environment variable that overrides the timer schedule. */
  scheduleSetting: string;
}

import type { LogsQueryClient } from '@azure/monitor-query-logs';
import type { AxiosInstance } from 'axios';
import type { Detection, QueryWindow } from '../../detections/types.js';
import { ValidationError } from '../../errors.js';
import type { Row } from '../../model.js';
import { arielSearch } from '../../siem/qradar-ariel.js';
import { rowFromQradarEvent } from '../../siem/qradar-rows.js';
import { splunkExport } from '../../siem/splunk-search.js';
import { kqlTimespan } from '../../kql/literals.js';
import { queryPrimaryTable } from '../log-analytics.js';
import { rowsOf } from '../rows.js';

/**
 * Where a hunt's rows come from. One hunting engine (watermark, overlap, splitting, seen-state,
 * queue) drives every source; a source only runs one detection's query over one slice and hands
 * back the rows its evaluator reads, or throws one of the typed query errors
 * (ResultTooLargeError, PartialResultError, QueryTimeoutError → split; QueryRejectedError →
 * unhealthy). So scoring is the same whatever the SIEM.
 */
export interface SliceQuery {
  detection: Detection;
  params: Record<string, unknown>;
  slice: QueryWindow;
  /** How far before the slice an event's own time may lie (the detection's lookback). */
  lookbackMs: number;
  now: Date;
  deadlineMs: number;
  serverTimeoutInSeconds: number;
}

/** Rows of a slice's answer ingested in [start, start + bin); start undefined when the source could not say. */
export interface RowBin {
  start: Date | undefined;
  rows: number;
}

export interface HuntSource {
  readonly name: 'loganalytics' | 'splunk' | 'qradar';
  rows(query: SliceQuery): Promise<Iterable<Row>>;
  /**
   * How many rows the slice's answer holds, per bin of ingestion time, without downloading them
   * (a source that cannot count leaves this out and its slices are queried unplanned).
   */
  countRows?(query: SliceQuery, binMs: number): Promise<RowBin[]>;
}

export function logAnalyticsSource(logs: LogsQueryClient, workspaceId: string): HuntSource {
  return {
    name: 'loganalytics',
    async rows(q) {
      const answer = await queryPrimaryTable(logs, {
        workspaceId,
        query: q.detection.buildQuery(q.params, q.slice),
        window: q.slice,
        timespan: laTimespan(q),
        serverTimeoutInSeconds: q.serverTimeoutInSeconds,
        deadlineMs: q.deadlineMs,
      });
      return rowsOf(answer.table, q.detection, { projectedOnly: true });
    },
    async countRows(q, binMs) {
      // The detection's own query (same filters, same answer rows), summarised server-side: one
      // row per bin comes back. ingestion_time() "must be used in the context of a table": where
      // the projection has dropped it, the bins come back without a start and the hunt cuts the
      // slice evenly and counts again (hunt-detection.ts piecesUnder). ingestion_time():
      // https://learn.microsoft.com/azure/data-explorer/kusto/query/ingestion-time-function
      const answer = await queryPrimaryTable(logs, {
        workspaceId,
        query: `${q.detection.buildQuery(q.params, q.slice)}\n| summarize Rows = count() by Bin = bin(ingestion_time(), ${kqlTimespan(binMs)})`,
        window: q.slice,
        timespan: laTimespan(q),
        serverTimeoutInSeconds: q.serverTimeoutInSeconds,
        deadlineMs: q.deadlineMs,
      });
      return rowBins(answer.table.columnDescriptors.map((c) => c.name ?? ''), answer.table.rows, q.detection.meta.id);
    },
  };
}

/** The API's timespan is on TimeGenerated: it must cover the query's own guard. */
function laTimespan(q: SliceQuery): { startTime: Date; endTime: Date } {
  return {
    startTime: new Date(q.slice.start.getTime() - q.lookbackMs - 3_600_000),
    endTime: new Date(Math.max(q.slice.end.getTime(), q.now.getTime()) + 86_400_000),
  };
}

/** The Bin/Rows answer of a count query; a Bin the service could not fill (no ingestion time) stays undefined. */
function rowBins(columns: string[], rows: unknown[][], detectionId: string): RowBin[] {
  const bin = columns.indexOf('Bin');
  const count = columns.indexOf('Rows');
  if (bin < 0 || count < 0) throw new ValidationError(`${detectionId}: the row count answer lacks its Bin/Rows columns`, [{ path: 'columns', message: columns.join(', ') }]);
  return rows.map((r, i) => {
    const rowsIn = r[count];
    if (typeof rowsIn !== 'number' || !Number.isFinite(rowsIn) || rowsIn < 0) throw new ValidationError(`${detectionId}: row ${i} of the row count answer`, [{ path: 'Rows', message: `not a count: ${String(rowsIn)}` }]);
    const start = r[bin];
    const time = start instanceof Date ? start : typeof start === 'string' ? new Date(start) : undefined;
    return { start: time && !Number.isNaN(time.getTime()) ? time : undefined, rows: rowsIn };
  });
}

/** The SPL searches of a detection (window-free: Splunk takes the slice as request parameters); one per Splunk source and branch. */
export type SplBuilder = (detection: Detection, params: Record<string, unknown>) => string[];
/** The AQL of a detection over one slice (AQL carries its window in the text). */
export type AqlBuilder = (detection: Detection, params: Record<string, unknown>, slice: QueryWindow) => string;

export function splunkSource(http: AxiosInstance, spl: SplBuilder, maxRows: number): HuntSource {
  return {
    name: 'splunk',
    async rows(q) {
      // The searches of one detection run one after another: each is a full export of the slice.
      const rows: Row[] = [];
      for (const search of spl(q.detection, q.params)) {
        for (const r of await splunkExport(http, { search, window: q.slice, lookbackMs: q.lookbackMs, deadlineMs: q.deadlineMs, maxRows })) rows.push(projected(r, q.detection));
      }
      return rows;
    },
  };
}

export function qradarSource(http: AxiosInstance, aql: AqlBuilder, maxRows: number): HuntSource {
  return {
    name: 'qradar',
    async rows(q) {
      const events = await arielSearch(http, { aql: aql(q.detection, q.params, q.slice), deadlineMs: q.deadlineMs, maxRows, pageSize: 1000, waitSeconds: 20, pollIntervalMs: 1000 });
      return events.map((e) => projected(rowFromQradarEvent(q.detection.meta.id, e), q.detection));
    },
  };
}

/** Only the columns the detection projects: a hit carries nothing else, whatever the SIEM sent. */
function projected(row: Row, detection: Detection): Row {
  const out: Row = {};
  for (const c of detection.projectedColumns) if (row[c] !== undefined) out[c] = row[c];
  return out;
}

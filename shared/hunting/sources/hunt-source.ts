import type { LogsQueryClient } from '@azure/monitor-query-logs';
import type { AxiosInstance } from 'axios';
import type { Detection, QueryWindow } from '../../detections/types.js';
import type { Row } from '../../model.js';
import { arielSearch } from '../../siem/qradar-ariel.js';
import { rowFromQradarEvent } from '../../siem/qradar-rows.js';
import { splunkExport } from '../../siem/splunk-search.js';
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

export interface HuntSource {
  readonly name: 'loganalytics' | 'splunk' | 'qradar';
  rows(query: SliceQuery): Promise<Iterable<Row>>;
}

export function logAnalyticsSource(logs: LogsQueryClient, workspaceId: string): HuntSource {
  return {
    name: 'loganalytics',
    async rows(q) {
      const answer = await queryPrimaryTable(logs, {
        workspaceId,
        query: q.detection.buildQuery(q.params, q.slice),
        window: q.slice,
        // The API's timespan is on TimeGenerated: it must cover the query's own guard.
        timespan: {
          startTime: new Date(q.slice.start.getTime() - q.lookbackMs - 3_600_000),
          endTime: new Date(Math.max(q.slice.end.getTime(), q.now.getTime()) + 86_400_000),
        },
        serverTimeoutInSeconds: q.serverTimeoutInSeconds,
        deadlineMs: q.deadlineMs,
      });
      return rowsOf(answer.table, q.detection, { projectedOnly: true });
    },
  };
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

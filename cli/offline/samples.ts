import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Workspace, loadWorkspace } from '../workspace-input/workspace.js';
import { shiftTimestamps } from './rebase.js';

/** Where the bundled demo lives: samples/ at the repository root. */
const root = fileURLToPath(new URL('../../samples/', import.meta.url));
export const SAMPLES = {
  root,
  workspace: `${root}workspace`,
  crtsh: `${root}crtsh`,
  tuning: `${root}tuning.json`,
  manifest: `${root}manifest.json`,
} as const;

const manifestSchema = z.object({
  /** The instant the samples were written around; offline runs move it to "now". */
  anchor: z.iso.datetime(),
});

export interface OfflineSamples {
  workspace: Workspace;
  anchor: Date;
  /** now − anchor: what every sample timestamp (rows and crt.sh records) moves by. */
  shiftMs: number;
}

/** The sample workspace with its timestamps moved so that the anchor becomes `now`. */
export async function loadOfflineSamples(now: Date): Promise<OfflineSamples> {
  const manifest = manifestSchema.parse(JSON.parse(await readFile(SAMPLES.manifest, 'utf8')));
  const anchor = new Date(manifest.anchor);
  const shiftMs = now.getTime() - anchor.getTime();
  const workspace = await loadWorkspace(SAMPLES.workspace);
  for (const table of workspace.values()) table.rows = table.rows.map((row) => shiftTimestamps(row, shiftMs));
  return { workspace, anchor, shiftMs };
}

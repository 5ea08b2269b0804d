// After `tsc -p tsconfig.build.json`: the data files the compiled code reads from disk beside
// itself (the offline demo's samples, the KQL validator's table schemas) go into dist too.
import { cpSync } from 'node:fs';

for (const [from, to] of [
  ['samples', 'dist/samples'],
  ['shared/detections/schemas', 'dist/shared/detections/schemas'],
]) {
  cpSync(from, to, { recursive: true });
}

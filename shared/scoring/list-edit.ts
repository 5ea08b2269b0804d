/**
 * How a tuning document lays over what is below it (the defaults, then TUNING_FILE, then
 * TUNING_JSON, and each detection's parameter defaults): objects merge deeply; an array replaces
 * the list below it; `{add: [...], remove: [...]}` over a list edits it (items with an `id`, the
 * suppressions, are named by it, other items by their value, case-insensitively).
 */
export function mergeTuning(base: unknown, over: unknown): unknown {
  if (Array.isArray(base) && isListEdit(over)) return editList(base, over);
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeTuning(base[k], v);
    return out;
  }
  return over === undefined ? base : over;
}

function isListEdit(v: unknown): v is { add?: unknown; remove?: unknown } {
  return isPlainObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k === 'add' || k === 'remove');
}

function editList(base: unknown[], edit: { add?: unknown; remove?: unknown }): unknown[] {
  const add = Array.isArray(edit.add) ? edit.add : [];
  const remove = new Set((Array.isArray(edit.remove) ? edit.remove : []).map((r) => String(r).toLowerCase()));
  const added = new Set(add.map(listItemKey));
  return [...base.filter((item) => !remove.has(listItemKey(item)) && !added.has(listItemKey(item))), ...add];
}

/** Suppressions are named by id; plain values by themselves. */
function listItemKey(item: unknown): string {
  return (isPlainObject(item) && typeof item.id === 'string' ? item.id : String(item)).toLowerCase();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

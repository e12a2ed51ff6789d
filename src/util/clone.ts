/**
 * A copy of extension data: JSON-shaped values (the lab file stores them as JSON), so plain
 * objects, arrays and primitives. Many times cheaper than structuredClone for the small objects
 * every parsed rule carries (a kube-proxy restore copies hundreds of thousands).
 */
export function cloneData<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneData) as T;
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = cloneData((v as Record<string, unknown>)[k]);
  return out as T;
}

/** `?a=1&b=2` of the parameters that are set (not undefined, null or empty); '' when none is. */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') q.set(name, String(value));
  const text = q.toString();
  return text ? `?${text}` : '';
}

// Preloaded with `node --import` in tests: appends every module specifier the program resolves
// through the ES module loader to $SG_TRACE_FILE, so a test can prove what a command loads.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.SG_TRACE_FILE) appendFileSync(process.env.SG_TRACE_FILE, result.url + '\\n');
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

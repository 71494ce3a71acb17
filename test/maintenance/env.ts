/** Returns a function that puts `process.env[name]` back as it is now (in-process library calls set it). */
export function rememberEnv(name: string): () => void {
  const original = process.env[name];
  return () => {
    if (original === undefined) delete process.env[name];
    else process.env[name] = original;
  };
}

import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ShadowGitError } from '../errors.js';

/**
 * Where a remote's credentials come from, in this order: the URL's own userinfo, the remote's
 * token variable (when the caller names one), SHADOWGIT_REMOTE_TOKEN, then the credential file.
 * Whatever is found stays in memory: it is never written anywhere, and every URL shown to the
 * user goes through redactUrl.
 */

export interface Credentials {
  /** Basic auth's user name; hosts that take a token as the password accept any (default DEFAULT_USERNAME). */
  username?: string;
  password: string;
  /** Where they came from, for an error to name (never the secret itself). */
  source?: string;
}

export const TOKEN_VARIABLE = 'SHADOWGIT_REMOTE_TOKEN';
/** GitHub, GitLab and Gitea accept any user name with a token as the password. */
export const DEFAULT_USERNAME = 'git';

/**
 * The credential file: `$SHADOWGIT_HOME/credentials` when SHADOWGIT_HOME is set, else
 * `$XDG_CONFIG_HOME/shadowgit/credentials` (~/.config/shadowgit/credentials). Its format is
 * git-credential-store's, one URL per line with the secret as its password
 * (`https://USER:TOKEN@host[/path]`, percent-encoded), so a line of ~/.git-credentials can be
 * copied in as it is.
 */
export function credentialFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHADOWGIT_HOME) return path.join(path.resolve(env.SHADOWGIT_HOME), 'credentials');
  const config = env.XDG_CONFIG_HOME ? path.resolve(env.XDG_CONFIG_HOME) : path.join(os.homedir(), '.config');
  return path.join(config, 'shadowgit', 'credentials');
}

/** `url` with any user name and password removed: the only form of a URL that is ever shown. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/** The URL without its userinfo, and the credentials the userinfo held (when it had a password). */
export function splitUserinfo(url: string): { url: string; username?: string; credentials?: Credentials } {
  const parsed = new URL(url);
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  return {
    url: redactUrl(url),
    ...(username ? { username } : {}),
    ...(password ? { credentials: { username, password, source: 'the URL' } } : {}),
  };
}

export interface LookupOptions {
  /** The remote's own token variable, looked at before SHADOWGIT_REMOTE_TOKEN. */
  tokenVariable?: string;
  env?: NodeJS.ProcessEnv;
}

/** The credentials to send to `url`, or undefined when none are configured. */
export async function lookupCredentials(url: string, options: LookupOptions = {}): Promise<Credentials | undefined> {
  const env = options.env ?? process.env;
  let split: ReturnType<typeof splitUserinfo>;
  try {
    split = splitUserinfo(url);
  } catch {
    throw new ShadowGitError(`${JSON.stringify(redactUrl(url))} is not a URL; give the remote as https://host/path.`, 'EUSAGE');
  }
  if (split.credentials) return split.credentials;
  for (const variable of [options.tokenVariable, TOKEN_VARIABLE]) {
    const token = variable ? env[variable] : undefined;
    if (token) return { username: split.username, password: token, source: `the environment variable ${variable}` };
  }
  const fromFile = await readCredentialFile(credentialFilePath(env), split.url);
  return fromFile && split.username && !fromFile.username ? { ...fromFile, username: split.username } : fromFile;
}

/**
 * The credential file's best line for `url`: same scheme, host and port, and a path that is a
 * prefix of the URL's (the longest wins; a line without a path matches the whole host). A file
 * that group or others may read is refused: it holds secrets.
 */
async function readCredentialFile(file: string, url: string): Promise<Credentials | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ShadowGitError(`cannot read the credential file ${file} (${(err as NodeJS.ErrnoException).code}); fix its permissions or remove it.`, 'EUNSAFE');
  }
  let text: string;
  try {
    const { mode } = await handle.stat();
    if ((mode & 0o077) !== 0) {
      throw new ShadowGitError(`the credential file ${file} may be read by other users (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${file}\` and try again.`, 'EUNSAFE');
    }
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  const target = new URL(url);
  const targetPath = target.pathname.replace(/\/+$/, '');
  let best: { credentials: Credentials; pathLength: number } | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    let entry: URL;
    try {
      entry = new URL(trimmed);
    } catch {
      continue;
    }
    if (!entry.password || entry.protocol !== target.protocol || entry.host !== target.host) continue;
    const entryPath = entry.pathname.replace(/\/+$/, '');
    if (entryPath && targetPath !== entryPath && !targetPath.startsWith(`${entryPath}/`)) continue;
    if (best && best.pathLength >= entryPath.length) continue;
    const username = entry.username ? decodeURIComponent(entry.username) : undefined;
    best = { credentials: { username, password: decodeURIComponent(entry.password), source: `the credential file ${file}` }, pathLength: entryPath.length };
  }
  return best?.credentials;
}

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ShadowGitError } from '../errors.js';
import { credentialFilePath, DEFAULT_USERNAME, redactUrl, splitUserinfo, TOKEN_VARIABLE, type Credentials } from './credentials.js';

/**
 * HTTP(S) requests to a smart-HTTP git server: basic auth, HTTP(S)_PROXY / NO_PROXY, connection
 * and idle timeouts (no total one: a large push may take an hour), and every failure turned into
 * one sentence that never holds a secret.
 */

export interface Endpoint {
  /** The repository's URL (userinfo in it is used as credentials, never shown). */
  url: string;
  credentials?: Credentials;
  /** The variable a missing credential would be read from, for the message that asks for it. */
  tokenVariable?: string;
  timeouts?: { connectMs?: number; idleMs?: number };
}

const CONNECT_TIMEOUT_MS = 30_000;
/** A server that says nothing for this long is gone (index-pack on a large push reports progress). */
const IDLE_TIMEOUT_MS = 5 * 60_000;
const USER_AGENT = 'git/2.0 (shadowgit)';

export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Appended to the repository URL: `info/refs?service=…`, `git-receive-pack`. */
  path: string;
  headers?: Record<string, string>;
  /** Sent chunked, as it is produced: a pack is never held whole. */
  body?: AsyncIterable<Buffer>;
}

/** The repository URL without userinfo or a trailing slash, and the credentials to send. */
function resolveEndpoint(endpoint: Endpoint): { base: URL; shown: string; credentials: Credentials | undefined } {
  let split: ReturnType<typeof splitUserinfo>;
  try {
    split = splitUserinfo(endpoint.url);
  } catch {
    throw new ShadowGitError(`${JSON.stringify(redactUrl(endpoint.url))} is not a URL; give the remote as https://host/path.`, 'EUSAGE');
  }
  const base = new URL(split.url);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ShadowGitError(`${base.protocol.slice(0, -1)} remotes are not supported (only http and https); give the remote's https:// URL.`, 'EUSAGE');
  }
  base.pathname = base.pathname.replace(/\/+$/, '');
  base.search = '';
  base.hash = '';
  const credentials = endpoint.credentials ?? split.credentials;
  return { base, shown: base.toString(), credentials: credentials && { ...credentials, username: credentials.username ?? split.username } };
}

/** The redacted form of an endpoint's URL, for messages. */
export function shownUrl(endpoint: Endpoint): string {
  return redactUrl(endpoint.url);
}

/**
 * Sends one request and resolves with a 2xx response (its body still to be read). Any other
 * status is a ShadowGitError: 401/403 (EAUTH), 404 (ENOREMOTE), 413 (ETOOLARGE), others
 * (EREMOTE); a connection that fails or stalls is ENETWORK.
 */
export async function request(endpoint: Endpoint, spec: RequestSpec): Promise<IncomingMessage> {
  const { base, shown, credentials } = resolveEndpoint(endpoint);
  const target = new URL(`${base.toString()}/${spec.path}`);
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...spec.headers };
  if (credentials) headers.Authorization = `Basic ${Buffer.from(`${credentials.username ?? DEFAULT_USERNAME}:${credentials.password}`).toString('base64')}`;
  const connectMs = endpoint.timeouts?.connectMs ?? CONNECT_TIMEOUT_MS;
  const idleMs = endpoint.timeouts?.idleMs ?? IDLE_TIMEOUT_MS;
  const proxy = proxyFor(target);
  let options: http.RequestOptions;
  if (proxy && target.protocol === 'http:') {
    // A forwarding proxy: the absolute URL as the request target.
    if (proxy.username) headers['Proxy-Authorization'] = proxyAuthorization(proxy);
    options = { host: proxy.hostname, port: proxy.port || 80, path: target.toString(), method: spec.method, headers };
  } else {
    options = { host: target.hostname, port: target.port || undefined, path: `${target.pathname}${target.search}`, method: spec.method, headers, servername: target.hostname } as https.RequestOptions;
    if (proxy) {
      const socket = await openTunnel(proxy, target, connectMs, shown);
      options.createConnection = () => tls.connect({ socket, servername: target.hostname });
    }
  }
  // No keep-alive agent: a pooled socket kept the process alive until the server closed it (5 s
  // after a push with git http-backend); a push or fetch makes two or three requests, each on its own connection.
  if (!options.createConnection) options.agent = false;
  const transport = target.protocol === 'https:' ? https : http;
  let bodyFailure: unknown;

  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = transport.request(options);
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err);
      req.destroy();
    };
    const connectTimer = setTimeout(() => fail(networkError(shown, `no connection within ${Math.round(connectMs / 1000)} s`)), connectMs);
    req.on('socket', (socket: Socket) => {
      const connected = () => clearTimeout(connectTimer);
      if (!socket.connecting) connected();
      socket.once('connect', connected);
      socket.once('secureConnect', connected);
    });
    req.setTimeout(idleMs, () => {
      const err = networkError(shown, `nothing was received for ${Math.round(idleMs / 1000)} s`);
      if (settled) req.destroy(err);
      else fail(err);
    });
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      fail(bodyFailure ?? networkError(shown, describeNetworkError(err)));
    });
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        if (!settled) {
          settled = true;
          resolve(res);
        }
        return;
      }
      res.resume();
      fail(statusError(status, res, shown, credentials, endpoint.tokenVariable));
    });
    if (!spec.body) {
      req.end();
      return;
    }
    const source = spec.body;
    const guarded = async function* () {
      try {
        yield* source;
      } catch (err) {
        bodyFailure = err;
        throw err;
      }
    };
    pipeline(Readable.from(guarded(), { objectMode: false }), req).catch((err: unknown) => {
      if (bodyFailure) return fail(bodyFailure);
      // A server that answers before reading the whole body (413) and closes the connection
      // stops the upload with a write error; its answer, parsed a moment later, is what the
      // caller should hear, so the write error waits briefly behind it.
      setTimeout(() => fail(networkError(shown, describeNetworkError(err))), 200);
    });
  });
}

/** Refuses a 2xx answer that is not the git service's own (a login page, a proxy's notice). */
export function expectContentType(res: IncomingMessage, expected: string, shown: string): void {
  const type = res.headers['content-type'] ?? '';
  if (type !== expected) {
    res.resume();
    throw new ShadowGitError(`${shown} is not a smart-HTTP git server (it answered ${type || 'no content type'}); use the URL git itself would clone from.`, 'EPROTOCOL');
  }
}

/** Reads a (small) response body whole: an advertisement or a report. */
export async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function statusError(status: number, res: IncomingMessage, shown: string, credentials: Credentials | undefined, tokenVariable: string | undefined): ShadowGitError {
  if (status === 401 && !credentials) {
    const variable = tokenVariable ?? TOKEN_VARIABLE;
    return new ShadowGitError(`${shown} asks for credentials; put a token in the environment variable ${variable}, or a line https://USER:TOKEN@${new URL(shown).host} in ${credentialFilePath()} (mode 0600).`, 'EAUTH');
  }
  if (status === 401 || (status === 403 && credentials)) {
    return new ShadowGitError(`${shown} rejected the credentials from ${credentials!.source ?? 'the caller'} (HTTP ${status}); check the token and that it may read and write this repository.`, 'EAUTH');
  }
  if (status === 403) return new ShadowGitError(`${shown} refused access (HTTP 403); check that the repository allows it, or supply a token in ${tokenVariable ?? TOKEN_VARIABLE}.`, 'EAUTH');
  if (status === 404) return new ShadowGitError(`there is no git repository at ${shown} (HTTP 404); check the URL.`, 'ENOREMOTE');
  if (status === 413) return new ShadowGitError(`${shown} refused the request as too large (HTTP 413); push fewer snapshots at a time or raise the server's body size limit.`, 'ETOOLARGE');
  const location = res.headers.location;
  if (status >= 300 && status < 400 && location) {
    return new ShadowGitError(`${shown} redirects to ${redactUrl(new URL(location, shown).toString())}; use that URL for the remote.`, 'EREMOTE');
  }
  return new ShadowGitError(`${shown} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}; try again later, or check the server's logs.`, 'EREMOTE');
}

function networkError(shown: string, why: string): ShadowGitError {
  return new ShadowGitError(`the connection to ${shown} failed (${why}); check the URL and your network, then try again (nothing is left half-done: a push is applied whole or not at all, a fetch moves no ref until it has everything).`, 'ENETWORK');
}

function describeNetworkError(err: unknown): string {
  const { code, message } = err as NodeJS.ErrnoException;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the server closed the connection';
  if (code === 'ETIMEDOUT') return 'timed out';
  if (err instanceof ShadowGitError) return err.message;
  return code ?? message ?? String(err);
}

/** The proxy for `target` from HTTPS_PROXY / HTTP_PROXY (either case), unless NO_PROXY names its host. */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const value = target.protocol === 'https:' ? env.HTTPS_PROXY ?? env.https_proxy : env.HTTP_PROXY ?? env.http_proxy;
  if (!value) return undefined;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((entry) => entry.trim().toLowerCase()).filter(Boolean);
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const entry of noProxy) {
    if (entry === '*') return undefined;
    const [name, entryPort] = entry.startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]] : entry.split(':');
    if (entryPort && entryPort !== port) continue;
    const bare = name!.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  try {
    return new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    throw new ShadowGitError(`the proxy setting ${JSON.stringify(redactUrl(value))} is not a URL; fix HTTPS_PROXY / HTTP_PROXY.`, 'EUSAGE');
  }
}

function proxyAuthorization(proxy: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

/** A CONNECT tunnel through `proxy` to `target`'s host, for TLS to run over. */
function openTunnel(proxy: URL, target: URL, connectMs: number, shown: string): Promise<Socket> {
  const authority = `${target.hostname}:${target.port || 443}`;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: authority };
    if (proxy.username) headers['Proxy-Authorization'] = proxyAuthorization(proxy);
    const req = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: authority, headers });
    const timer = setTimeout(() => req.destroy(new Error(`the proxy ${redactUrl(proxy.toString())} did not connect within ${Math.round(connectMs / 1000)} s`)), connectMs);
    req.on('connect', (res, socket) => {
      clearTimeout(timer);
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new ShadowGitError(`the proxy ${redactUrl(proxy.toString())} refused to connect to ${shown} (HTTP ${res.statusCode}); check HTTPS_PROXY and NO_PROXY.`, 'ENETWORK'));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(networkError(shown, `through the proxy ${redactUrl(proxy.toString())}: ${describeNetworkError(err)}`));
    });
    req.end();
  });
}

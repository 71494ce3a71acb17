/**
 * The UI's HTTP server (docs/ui.md, "Safety"): 127.0.0.1 only; a random token, given once in the
 * printed URL, is exchanged for an HttpOnly session cookie; a foreign Host is refused (DNS
 * rebinding), no CORS header is ever sent, and every POST must come from our own page (Origin,
 * X-CSRF-Token, a JSON body). Behind those checks it serves the built front end (dist/web) and
 * dispatches /api to the routes of routes.ts; it stops after an idle time with no page open.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShadowGitError } from '../engine/errors.js';
import { PlanStore } from '../frontend/plans.js';
import type { ShadowGit } from '../shadowgit.js';
import { EventHub } from './events.js';
import type { UiContext } from './route.js';
import { routes } from './routes.js';

export interface UiServerOptions {
  sg: ShadowGit;
  /** 0 (the default): a free port the system picks. */
  port?: number;
  /** Stop after this long with no request and no open event stream. */
  idleTimeoutMs: number;
  version: string;
  /** The built front end; default dist/web beside this module's dist/ui. */
  staticDir?: string;
}

export interface UiServer {
  port: number;
  /** `http://127.0.0.1:PORT`, what a page of ours sends as Origin. */
  origin: string;
  /** The URL to open: the origin with the token. */
  url: string;
  token: string;
  /** Closes every connection and stream; resolves when the port is free. */
  stop(): Promise<void>;
  /** Resolves with why the server stopped: "idle" or "stopped". */
  stopped: Promise<'idle' | 'stopped'>;
}

/** A POST body larger than this is refused (413): the API takes revisions, names and paths. */
export const MAX_BODY = 1048576;

/** The status each refusal's code is answered with (docs/ui.md); any other error is 500. */
const STATUS_OF_CODE: Record<string, number> = {
  EUSAGE: 400,
  EBADREV: 404,
  EPRUNED: 404,
  ENOPATH: 404,
  // No shadow repository yet: nothing to read, as a revision that names nothing.
  ENOREPO: 404,
  ECHANGED: 409,
  // Nothing to undo, or an approved name in use: the state refuses the request as it stands.
  ENOTHING: 409,
  EEXISTS: 409,
  ELOCKED: 423,
};

const DEFAULT_STATIC = fileURLToPath(new URL('../web/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The page's scripts, styles and fetches come from this server only; Preact and the diff view set
 * styles inline, and images may be data: URLs. Nothing may frame the page.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** A refusal of the server's own (before any handler): status, code and one sentence. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const sameSecret = (given: string | undefined, secret: string): boolean => {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
};

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>\n`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const errorBody = (code: string, message: string) => ({ error: { message, code } });

/** The pattern's `:name` segments bound to `segments`, or undefined when it does not match. */
function matchPattern(pattern: string, segments: string[]): Record<string, string> | undefined {
  const parts = pattern.split('/');
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    if (part.startsWith(':')) params[part.slice(1)] = segments[i]!;
    else if (part !== segments[i]) return undefined;
  }
  return params;
}

/** The request's path split into decoded segments; a malformed escape is a usage mistake. */
function pathSegments(rawPath: string): string[] {
  try {
    return rawPath.split('/').map((s) => decodeURIComponent(s));
  } catch {
    throw new Refusal(400, 'EUSAGE', 'the request path holds a malformed %-escape.');
  }
}

/** Reads a POST body up to MAX_BODY and parses it as a JSON object. */
async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new Refusal(413, 'ETOOLARGE', `the request body is over ${MAX_BODY} bytes; the API takes names, revisions and paths.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Refusal(413, 'ETOOLARGE', `the request body is over ${MAX_BODY} bytes; the API takes names, revisions and paths.`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new Refusal(400, 'EUSAGE', 'the request body is not JSON; send a JSON object.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Refusal(400, 'EUSAGE', 'the request body must be a JSON object.');
  return body as Record<string, unknown>;
}

/**
 * Opens `segments` below `root` without following any symbolic link on the way: each directory
 * is looked at with lstat, the file is opened with O_NOFOLLOW and must be a regular file.
 * Undefined when there is no such file.
 */
async function openConfined(root: string, segments: string[]): Promise<fsp.FileHandle | undefined> {
  for (const s of segments) if (s === '' || s === '.' || s === '..' || /[\\/\0]/.test(s)) return undefined;
  let dir = root;
  for (const s of segments.slice(0, -1)) {
    dir = path.join(dir, s);
    const stat = await fsp.lstat(dir).catch(() => undefined);
    if (!stat?.isDirectory()) return undefined;
  }
  const file = path.join(dir, segments.at(-1)!);
  const handle = await fsp.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW).catch(() => undefined);
  if (!handle) return undefined;
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  return undefined;
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const { sg } = options;
  const staticDir = options.staticDir ?? DEFAULT_STATIC;
  const token = randomBytes(32).toString('base64url');
  const session = randomBytes(32).toString('base64url');
  const ui: UiContext = {
    csrf: randomBytes(32).toString('base64url'),
    version: options.version,
    plans: new PlanStore(),
    publish: (event, data) => events.publish(event, data),
  };
  const controllers = new Set<AbortController>();
  let port = 0;
  let cookieName = '';
  let allowedHosts = new Set<string>();
  let allowedOrigins = new Set<string>();
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  let resolveStopped!: (why: 'idle' | 'stopped') => void;
  const stopped = new Promise<'idle' | 'stopped'>((resolve) => (resolveStopped = resolve));

  const events = new EventHub(sg, () => armIdle());

  /** Counts down to the idle stop while nothing is being asked and no page listens. */
  function armIdle(): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
    if (stopping || active > 0 || events.streams > 0) return;
    idleTimer = setTimeout(() => void stop('idle'), options.idleTimeoutMs);
  }

  function stop(why: 'idle' | 'stopped' = 'stopped'): Promise<void> {
    stopping ??= (async () => {
      if (idleTimer) clearTimeout(idleTimer);
      for (const c of controllers) c.abort();
      events.close();
      // Reads under way see their signal aborted; an action (the facade takes no signal) finishes first. Idle connections close now.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      resolveStopped(why);
    })();
    return stopping;
  }

  async function api(req: IncomingMessage, res: ServerResponse, segments: string[], query: URLSearchParams): Promise<void> {
    const method = req.method ?? '';
    const matches = routes.map((route) => ({ route, params: matchPattern(route.pattern, segments) })).filter((m) => m.params);
    const match = matches.find((m) => m.route.method === method);
    if (!match) {
      if (matches.length > 0) {
        res.setHeader('Allow', [...new Set(matches.map((m) => m.route.method))].join(', '));
        throw new Refusal(405, 'EUSAGE', `${segments.join('/')} does not take ${method}.`);
      }
      throw new Refusal(404, 'ENOROUTE', `there is no API route ${segments.join('/')}; docs/ui.md lists them.`);
    }
    const body = method === 'POST' ? await jsonBody(req) : {};
    const controller = new AbortController();
    controllers.add(controller);
    const abort = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.on('close', abort);
    try {
      const answer = await match.route.handler({ query, body, params: match.params!, sg, signal: controller.signal, ui });
      sendJson(res, answer.status ?? 200, answer.json);
    } finally {
      controllers.delete(controller);
      res.off('close', abort);
    }
  }

  async function serveStatic(res: ServerResponse, segments: string[]): Promise<void> {
    const wanted = segments.length === 0 || (segments.length === 1 && segments[0] === '') ? ['index.html'] : segments;
    const handle = await openConfined(staticDir, wanted);
    if (!handle) {
      if (wanted.length === 1 && wanted[0] === 'index.html') {
        return page(res, 503, 'The front end is not built', `shadowgit ui found no ${path.join(staticDir, 'index.html')}. In a clone of shadowgit, run \`npm run build\` (it bundles web/ into dist/web), then start \`shadowgit ui\` again; the API under /api works without it.`);
      }
      return page(res, 404, 'Not found', 'There is no such file in the front end.');
    }
    try {
      const { size } = await handle.stat();
      const type = CONTENT_TYPES[path.extname(wanted.at(-1)!).toLowerCase()] ?? 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Cache-Control': 'no-cache' });
      await new Promise<void>((resolve, reject) => {
        const stream = handle.createReadStream({ autoClose: false });
        stream.on('error', reject);
        res.on('close', resolve);
        stream.pipe(res);
      });
    } finally {
      await handle.close();
    }
  }

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '';
    // Origin-form only: `//host/x` or an absolute URL is no path of ours.
    if (!rawUrl.startsWith('/') || rawUrl.startsWith('//')) throw new Refusal(400, 'EUSAGE', 'the request target must be a path.');
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const isApi = rawPath === '/api' || rawPath.startsWith('/api/');
    if (isApi) res.setHeader('Cache-Control', 'no-store');
    if (!allowedHosts.has(req.headers.host ?? '')) throw new Refusal(421, 'EHOST', `this server answers only to 127.0.0.1:${port} and localhost:${port}.`);
    const method = req.method ?? '';
    if (method !== 'GET' && method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      throw new Refusal(405, 'EUSAGE', `the server takes GET and POST, not ${method}.`);
    }
    if (method === 'GET' && rawPath === '/' && query.has('token')) {
      if (!sameSecret(query.get('token') ?? undefined, token)) throw new Refusal(401, 'EAUTH', 'the token in the address is not this server\'s; open the URL `shadowgit ui` printed.');
      res.writeHead(303, { Location: '/', 'Set-Cookie': `${cookieName}=${session}; HttpOnly; SameSite=Strict; Path=/`, 'Cache-Control': 'no-store' });
      return void res.end();
    }
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const authed = sameSecret(cookieValue(req.headers.cookie, cookieName), session) || (method === 'GET' && isApi && sameSecret(bearer, token));
    if (!authed) throw new Refusal(401, 'EAUTH', 'not signed in: open the URL `shadowgit ui` printed (it carries the token), or send `Authorization: Bearer TOKEN` with a GET to /api.');
    if (method === 'POST') {
      if (!isApi) throw new Refusal(405, 'EUSAGE', 'only the API takes POST.');
      const origin = req.headers.origin;
      if (origin !== undefined && !allowedOrigins.has(origin)) throw new Refusal(403, 'EORIGIN', `a request from ${origin} may not change anything here.`);
      if (!sameSecret(String(req.headers['x-csrf-token'] ?? '') || undefined, ui.csrf)) throw new Refusal(403, 'ECSRF', 'the X-CSRF-Token header is missing or wrong; GET /api/session gives the token.');
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new Refusal(415, 'EUSAGE', 'send the request body as Content-Type: application/json.');
    }
    const segments = pathSegments(rawPath);
    if (isApi) {
      if (method === 'GET' && rawPath === '/api/events') return events.attach(req, res);
      return api(req, res, segments, query);
    }
    if (method !== 'GET') throw new Refusal(405, 'EUSAGE', 'only the API takes POST.');
    return serveStatic(res, segments.slice(1));
  }

  const server: Server = createServer((req, res) => {
    active++;
    if (idleTimer) clearTimeout(idleTimer);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    res.on('close', () => {
      active--;
      armIdle();
      // Stopping: the connection this answer leaves idle (kept alive, or an event stream's) closes too.
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
    respond(req, res).catch((err: unknown) => {
      const isApi = (req.url ?? '').startsWith('/api');
      let status: number;
      let code: string;
      let message: string;
      if (err instanceof Refusal) ({ status, code, message } = err);
      else if (err instanceof ShadowGitError) ({ status, code, message } = { status: STATUS_OF_CODE[err.code] ?? 500, code: err.code, message: err.message });
      else {
        ({ status, code, message } = { status: 500, code: 'EUNEXPECTED', message: `unexpected error: ${(err as Error)?.message ?? String(err)}` });
        process.stderr.write(`shadowgit ui: ${req.method} ${req.url?.split('?')[0]}: ${(err as Error)?.stack ?? String(err)}\n`);
      }
      if (res.headersSent) return void res.destroy();
      // A refused body may still be arriving: answer, then close rather than read it.
      if (status === 413) res.setHeader('Connection', 'close');
      if (isApi || status === 421) sendJson(res, status, errorBody(code, message));
      else page(res, status, status === 401 ? 'Not signed in' : `Error ${status}`, message);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ShadowGitError(`port ${options.port} on 127.0.0.1 is in use; pick another with --port, or leave --port out for a free one.`, 'EUSAGE'));
      else if (err.code === 'EACCES') reject(new ShadowGitError(`port ${options.port} may not be used by this user; pick one above 1023 with --port.`, 'EUSAGE'));
      else reject(err);
    });
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  cookieName = `shadowgit-ui-${port}`;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  events.start();
  armIdle();
  const origin = `http://127.0.0.1:${port}`;
  return { port, origin, url: `${origin}/?token=${token}`, token, stop: () => stop('stopped'), stopped };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { BIN, type Sandbox } from './sandbox.js';

/** One HTTP answer: status, headers, the body as text and (when it parses) as JSON. */
export interface UiAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface UiRequestOptions {
  method?: string;
  /** Sent as they are; `cookie` and `host` here replace the defaults (the session cookie, 127.0.0.1:PORT). */
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A running `shadowgit ui` and a signed-in client of it. */
export interface UiSession {
  /** The URL the CLI printed (with the token). */
  url: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  token: string;
  /** `name=value` of the session cookie the token was exchanged for. */
  cookie: string;
  /** From GET /api/session: what every POST carries in X-CSRF-Token. */
  csrf: string;
  child: ChildProcess;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  /** Any request, by default with the session cookie and our own Host. */
  request(path: string, options?: UiRequestOptions): Promise<UiAnswer>;
  /** A signed-in GET. */
  get(path: string): Promise<UiAnswer>;
  /** A signed-in POST of `body` as JSON, with the CSRF token and our own Origin. */
  post(path: string, body: unknown): Promise<UiAnswer>;
  /** SIGTERM, then the exit code once the process is gone. */
  stop(): Promise<number | null>;
  /** Resolves with the exit code when the process ends by itself (the idle stop). */
  exited: Promise<number | null>;
}

/** A raw HTTP request to 127.0.0.1:`port` (node:http: Host and Origin can be set to anything). */
export function rawRequest(port: number, path: string, options: UiRequestOptions = {}): Promise<UiAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    // A connection of its own: a kept-alive one the server closes as it is reused would fail the request.
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    // The server may answer (413) and close before the whole body is sent: the answer counts.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    req.end(options.body);
  });
}

/**
 * Starts the real CLI's `shadowgit ui --no-open --json` (plus `args`) in `where` (a sandbox, or
 * a working tree run with this process's environment), reads the URL it prints, exchanges the
 * token for the session cookie and fetches the CSRF token.
 */
export async function startUi(where: Sandbox | string, args: string[] = []): Promise<UiSession> {
  const cwd = typeof where === 'string' ? where : where.worktree;
  const env = typeof where === 'string' ? { ...process.env } : { ...where.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [BIN, 'ui', '--no-open', '--json', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`shadowgit ui printed no URL in 30 s; stderr: ${stderr}`)), 30_000);
    child.stdout!.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(stdout.slice(0, nl));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`shadowgit ui exited ${code} before printing a URL: ${stdout}${stderr}`));
    });
  });
  const { url, port } = JSON.parse(first) as { url: string; port: number };
  const origin = `http://127.0.0.1:${port}`;
  const token = new URL(url).searchParams.get('token')!;
  const signIn = await rawRequest(port, `/?token=${encodeURIComponent(token)}`);
  if (signIn.status !== 303) throw new Error(`GET /?token= answered ${signIn.status}: ${signIn.text}`);
  const cookie = String(signIn.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  const request = (path: string, options: UiRequestOptions = {}) => rawRequest(port, path, { ...options, headers: { cookie, ...options.headers } });
  const session = await request('/api/session');
  if (session.status !== 200) throw new Error(`GET /api/session answered ${session.status}: ${session.text}`);
  const csrf = session.json.csrf as string;
  return {
    url,
    origin,
    port,
    token,
    cookie,
    csrf,
    child,
    stderr: () => stderr,
    request,
    get: (path) => request(path),
    post: (path, body) => request(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, origin }, body: JSON.stringify(body) }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    exited,
  };
}

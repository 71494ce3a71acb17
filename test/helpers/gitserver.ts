// A real git server for the remote tests: native `git http-backend` (the CGI git hosting is
// built on) behind a small Node HTTP server on 127.0.0.1, with basic auth, an optional
// append-only pre-receive hook (docs/append-only-pre-receive.sh), an optional request body
// limit (413) and a way to kill the backend in the middle of a push.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './sandbox.js';

export const APPEND_ONLY_HOOK = path.join(ROOT, 'docs', 'append-only-pre-receive.sh');

export interface GitServerOptions {
  /** Basic auth every request must carry. */
  auth?: { username: string; password: string };
  /** Request bodies above this many bytes are answered 413. */
  maxBodyBytes?: number;
}

export interface GitServer {
  /** GIT_PROJECT_ROOT: the bare repositories live here. */
  root: string;
  /** The URL of repository `name` (no credentials in it). */
  url(name: string): string;
  /** Creates bare repository `name`, append-only when asked; returns its path. */
  createRepo(name: string, options?: { appendOnly?: boolean }): string;
  /** Changes the body limit (undefined: none) for the requests that follow. */
  setMaxBodyBytes(bytes: number | undefined): void;
  /** The next push is cut off (backend killed, connection dropped) once its body passed `bytes`. */
  killNextPushAfter(bytes: number): void;
  /** The next fetch is cut off (backend killed, connection dropped) once its answer passed `bytes`. */
  killNextFetchAfter(bytes: number): void;
  /** Every request so far: method, path and the status answered. */
  requests: Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

/** Native git with no user or system config. */
const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

export async function startGitServer(initial: GitServerOptions = {}): Promise<GitServer> {
  const options = { ...initial };
  const root = mkdtempSync(path.join(os.tmpdir(), 'sg-gitserver-'));
  let killAfter: number | undefined;
  let killFetchAfter: number | undefined;
  const requests: GitServer['requests'] = [];
  const children = new Set<ChildProcess>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry = { method: req.method ?? '', path: `${url.pathname}${url.search}`, status: 0 };
    requests.push(entry);
    const answer = (status: number, text: string, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
      res.end(text);
      // Read (and drop) the rest of the body, so the client hears the answer instead of a reset.
      req.resume();
    };
    if (options.auth) {
      const expected = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return answer(401, 'authentication required\n', { 'WWW-Authenticate': 'Basic realm="git"' });
    }
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    if (options.maxBodyBytes !== undefined && declared !== undefined && declared > options.maxBodyBytes) return answer(413, 'request entity too large\n');

    const isPush = req.method === 'POST' && url.pathname.endsWith('/git-receive-pack');
    const cutAt = isPush ? killAfter : undefined;
    if (isPush) killAfter = undefined;
    const isFetch = req.method === 'POST' && url.pathname.endsWith('/git-upload-pack');
    const cutAnswerAt = isFetch ? killFetchAfter : undefined;
    if (isFetch) killFetchAfter = undefined;
    const child = spawn('git', ['http-backend'], {
      detached: true,
      stdio: ['pipe', 'pipe', 'ignore'],
      env: {
        PATH: process.env.PATH,
        HOME: root,
        ...GIT_ENV,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: options.auth?.username ?? 'anonymous',
        REMOTE_ADDR: '127.0.0.1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(declared !== undefined ? { CONTENT_LENGTH: String(declared) } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
    });
    children.add(child);
    const killBackend = () => {
      try {
        // The whole group: http-backend and the receive-pack it runs.
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    child.on('exit', () => children.delete(child));
    child.stdin!.on('error', () => undefined);

    let received = 0;
    let stopped = false;
    req.on('data', (chunk: Buffer) => {
      if (stopped) return;
      received += chunk.length;
      if (options.maxBodyBytes !== undefined && received > options.maxBodyBytes && !res.headersSent) {
        stopped = true;
        killBackend();
        answer(413, 'request entity too large\n');
        return;
      }
      if (cutAt !== undefined && received > cutAt) {
        stopped = true;
        killBackend();
        entry.status = -1;
        req.socket.destroy();
        return;
      }
      if (!child.stdin!.destroyed && !child.stdin!.write(chunk)) {
        req.pause();
        child.stdin!.once('drain', () => req.resume());
      }
    });
    req.on('end', () => child.stdin!.end());

    // The CGI's answer: a header block (Status, Content-Type, …), a blank line, the body.
    let head = Buffer.alloc(0);
    let headersDone = false;
    let answered = 0;
    let answerCut = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (answerCut) return;
      if (headersDone && cutAnswerAt !== undefined && (answered += chunk.length) > cutAnswerAt) {
        answerCut = true;
        killBackend();
        entry.status = -1;
        res.write(chunk.subarray(0, chunk.length - (answered - cutAnswerAt)));
        res.socket?.destroy();
        return;
      }
      if (headersDone) {
        if (!res.write(chunk)) {
          child.stdout!.pause();
          res.once('drain', () => child.stdout!.resume());
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      const end = text.search(/\r?\n\r?\n/);
      if (end < 0) return;
      const blank = /\r?\n\r?\n/.exec(text.slice(end))![0].length;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of text.slice(0, end).split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      headersDone = true;
      if (res.headersSent || res.destroyed) return;
      entry.status = status;
      res.writeHead(status, headers);
      const rest = head.subarray(end + blank);
      if (rest.length > 0) res.write(rest);
    });
    child.stdout!.on('end', () => {
      if (!res.headersSent && !res.destroyed) answer(502, 'the backend answered nothing\n');
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    root,
    requests,
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    createRepo(name, repoOptions = {}) {
      const dir = path.join(root, name);
      execFileSync('git', ['init', '-q', '--bare', dir], { env: { ...process.env, ...GIT_ENV } });
      if (repoOptions.appendOnly) {
        const hook = path.join(dir, 'hooks', 'pre-receive');
        copyFileSync(APPEND_ONLY_HOOK, hook);
        chmodSync(hook, 0o755);
      }
      return dir;
    },
    setMaxBodyBytes(bytes) {
      options.maxBodyBytes = bytes;
    },
    killNextPushAfter(bytes) {
      killAfter = bytes;
    },
    killNextFetchAfter(bytes) {
      killFetchAfter = bytes;
    },
    async close() {
      for (const child of children) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

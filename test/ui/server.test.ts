import { promises as fsp } from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ShadowGit } from '../../src/shadowgit.js';
import { MAX_BODY, startUiServer, type UiServer } from '../../src/ui/server.js';
import { makeSandbox, repoOf, runCli, runCliAsync, runJson, useHome, writeTree, type Sandbox } from '../helpers/sandbox.js';
import { startGitServer } from '../helpers/gitserver.js';
import { rawRequest, startUi, type UiAnswer, type UiSession } from '../helpers/ui.js';

/**
 * The server's safety (docs/ui.md, "Safety") through real HTTP to the real CLI's `shadowgit ui`:
 * token → cookie, Host, Origin, CSRF, body checks, headers; static files confined to their
 * directory (a server started in-process on a planted directory); events; the idle stop.
 */

let sb: Sandbox;
let ui: UiSession;

beforeAll(async () => {
  sb = makeSandbox('sg-ui-server-');
  await writeTree(sb.worktree, { 'a.txt': 'one\n' });
  runJson(sb, ['snapshot', '-m', 'first']);
  ui = await startUi(sb);
}, 60_000);

afterAll(async () => {
  await ui?.stop();
  await sb.cleanup();
});

const noCors = (answer: UiAnswer) => expect(Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);

describe('signing in', () => {
  test('the token is exchanged for an HttpOnly SameSite=Strict cookie, and the redirect leaves it out of the address', async () => {
    const answer = await rawRequest(ui.port, `/?token=${ui.token}`);
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/');
    const cookie = String(answer.headers['set-cookie']);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toContain(ui.token);
    const session = await rawRequest(ui.port, '/api/session', { headers: { cookie: cookie.split(';')[0]! } });
    expect(session.status).toBe(200);
    expect(session.json).toMatchObject({ worktree: sb.worktree, csrf: ui.csrf });
  });

  test('without the cookie everything is 401; a wrong token or cookie too', async () => {
    for (const p of ['/', '/index.html', '/api/session', '/api/health', '/api/events']) {
      const answer = await rawRequest(ui.port, p);
      expect(answer.status).toBe(401);
      noCors(answer);
    }
    expect((await rawRequest(ui.port, '/?token=wrong')).status).toBe(401);
    expect((await rawRequest(ui.port, '/?token=')).status).toBe(401);
    expect((await rawRequest(ui.port, '/api/session', { headers: { cookie: `${ui.cookie.split('=')[0]}=forged` } })).status).toBe(401);
    // The token itself is no cookie.
    expect((await rawRequest(ui.port, '/api/session', { headers: { cookie: `${ui.cookie.split('=')[0]}=${ui.token}` } })).status).toBe(401);
  });

  test('a bearer token opens GET /api/* (monitors), and nothing else', async () => {
    const bearer = { authorization: `Bearer ${ui.token}` };
    const health = await rawRequest(ui.port, '/api/health', { headers: bearer });
    expect(health.status).toBe(200);
    expect(['pass', 'warn', 'fail']).toContain(health.json.status);
    expect(health.json.components.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['doctor', 'verify', 'watcher', 'last-snapshot', 'disk', 'remotes']));
    expect((await rawRequest(ui.port, '/', { headers: bearer })).status).toBe(401);
    const post = await rawRequest(ui.port, '/api/approve', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json', 'x-csrf-token': ui.csrf }, body: JSON.stringify({ name: 'by bearer' }) });
    expect(post.status).toBe(401);
    expect(runJson(sb, ['list', '--approved'])).toEqual([]);
  });
});

describe('Host and Origin', () => {
  test('a Host other than 127.0.0.1:PORT or localhost:PORT is 421, signed in or not (DNS rebinding)', async () => {
    expect((await ui.request('/api/session', { headers: { host: `localhost:${ui.port}` } })).status).toBe(200);
    for (const host of ['evil.example', `evil.example:${ui.port}`, `127.0.0.1.nip.io:${ui.port}`, `127.0.0.1:${ui.port + 1}`, '127.0.0.1', `[::1]:${ui.port}`, `LOCALHOST:${ui.port}x`]) {
      const answer = await ui.request('/api/session', { headers: { host } });
      expect(answer.status).toBe(421);
      expect(answer.json.error.code).toBe('EHOST');
      expect(answer.text).not.toContain(ui.csrf);
    }
    expect((await rawRequest(ui.port, `/?token=${ui.token}`, { headers: { host: `evil.example:${ui.port}` } })).status).toBe(421);
  });

  test('no CORS header, whatever the Origin; a POST from another Origin is 403 and changes nothing', async () => {
    noCors(await ui.request('/api/session', { headers: { origin: 'http://evil.example' } }));
    noCors(await ui.request('/api/session', { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } }));
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${ui.port + 1}`, `https://127.0.0.1:${ui.port}`]) {
      const answer = await ui.request('/api/approve', { method: 'POST', headers: { origin, 'content-type': 'application/json', 'x-csrf-token': ui.csrf }, body: JSON.stringify({ name: 'from elsewhere' }) });
      expect(answer.status).toBe(403);
      expect(answer.json.error.code).toBe('EORIGIN');
      noCors(answer);
    }
    expect(runJson(sb, ['list', '--approved'])).toEqual([]);
  });
});

describe('POST checks', () => {
  const post = (headers: Record<string, string>, body: string | Buffer) => ui.request('/api/approve', { method: 'POST', headers: { origin: ui.origin, ...headers }, body });

  test('a missing or wrong X-CSRF-Token is 403', async () => {
    const json = { 'content-type': 'application/json' };
    expect((await post(json, '{"name":"x"}')).status).toBe(403);
    expect((await post({ ...json, 'x-csrf-token': 'wrong' }, '{"name":"x"}')).json.error.code).toBe('ECSRF');
    expect((await post({ ...json, 'x-csrf-token': ui.token }, '{"name":"x"}')).status).toBe(403);
    expect(runJson(sb, ['list', '--approved'])).toEqual([]);
  });

  test('a body that is not JSON is 415, over 1 MiB 413, not an object 400', async () => {
    const csrf = { 'x-csrf-token': ui.csrf };
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const answer = await post({ ...csrf, 'content-type': type }, '{"name":"x"}');
      expect(answer.status).toBe(415);
    }
    const big = Buffer.alloc(MAX_BODY + 1, 0x20);
    expect((await post({ ...csrf, 'content-type': 'application/json' }, big)).status).toBe(413);
    for (const body of ['[1]', '"name"', 'null', '{"name":', '\u0000']) {
      const answer = await post({ ...csrf, 'content-type': 'application/json; charset=utf-8' }, body);
      expect(answer.status).toBe(400);
      expect(answer.json.error.code).toBe('EUSAGE');
    }
    expect(runJson(sb, ['list', '--approved'])).toEqual([]);
  });

  test('a body sent in chunks past 1 MiB, without Content-Length, is 413', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: ui.port, path: '/api/approve', method: 'POST', agent: false, headers: { host: `127.0.0.1:${ui.port}`, cookie: ui.cookie, origin: ui.origin, 'x-csrf-token': ui.csrf, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // After the answer (resolved), a reset of the body still being sent changes nothing.
      req.on('error', reject);
      const chunk = Buffer.alloc(65536, 0x20);
      for (let i = 0; i < 20; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
  });
});

describe('answers', () => {
  test('security headers on every answer; no-store on the API; errors as { error: { message, code } }', async () => {
    for (const answer of [await ui.get('/api/session'), await ui.get('/'), await ui.get('/api/nosuch'), await rawRequest(ui.port, '/api/session')]) {
      expect(answer.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      noCors(answer);
    }
    expect((await ui.get('/api/session')).headers['cache-control']).toBe('no-store');
    const missing = await ui.get('/api/nosuch');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: { code: 'ENOROUTE', message: expect.any(String) } });
    const wrongMethod = await ui.request('/api/session', { method: 'POST', headers: { origin: ui.origin, 'x-csrf-token': ui.csrf, 'content-type': 'application/json' }, body: '{}' });
    expect(wrongMethod.status).toBe(405);
    expect((await ui.request('/api/session', { method: 'DELETE' })).status).toBe(405);
    expect((await ui.get('/api/snapshots/%E0%A4%A')).status).toBe(400);
  });

  test('the timeline pages newest first; `next` goes on where a page ended', async () => {
    for (const n of [2, 3, 4, 5]) {
      await writeTree(sb.worktree, { 'a.txt': `v${n}\n` });
      runJson(sb, ['snapshot', '-m', `s${n}`]);
    }
    const listed = runJson<Array<{ id: string }>>(sb, ['list']);
    const first = await ui.get('/api/timeline?limit=2');
    expect(first.json.total).toBe(listed.length);
    expect(first.json.snapshots.map((s: { id: string }) => s.id)).toEqual(listed.slice(0, 2).map((s) => s.id));
    expect(first.json.snapshots[0]).toMatchObject({ source: { kind: 'manual' }, approved: [], remotes: [] });
    const second = await ui.get(`/api/timeline?limit=2&before=${first.json.next}`);
    expect(second.json.snapshots.map((s: { id: string }) => s.id)).toEqual(listed.slice(2, 4).map((s) => s.id));
    const rest = await ui.get(`/api/timeline?before=${second.json.next}`);
    expect(rest.json.snapshots.map((s: { id: string }) => s.id)).toEqual(listed.slice(4).map((s) => s.id));
    expect(rest.json.next).toBeNull();
    expect((await ui.get('/api/timeline?before=zzzzzzzz')).status).toBe(404);
    expect((await ui.get('/api/timeline?limit=0')).status).toBe(400);
  });

  test('the operations route is the op log newest first, as `shadowgit log --json` has it', async () => {
    const logged = runJson<Array<{ time: string; op: string }>>(sb, ['log', '-n', '5']);
    const answer = await ui.get('/api/operations?limit=5');
    expect(answer.json.operations).toEqual([...logged].reverse());
  });
});

describe('events', () => {
  /** Opens /api/events and collects its frames. */
  function openEvents(): Promise<{ frames: () => string; close: () => void; until: (test: (text: string) => boolean) => Promise<string> }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: ui.port, path: '/api/events', agent: false, headers: { host: `127.0.0.1:${ui.port}`, cookie: ui.cookie } }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        let text = '';
        const waiting: Array<{ test: (t: string) => boolean; done: (t: string) => void }> = [];
        res.on('data', (d) => {
          text += d;
          for (const w of [...waiting]) if (w.test(text)) w.done(text);
        });
        const until = (test: (t: string) => boolean) => new Promise<string>((done) => (test(text) ? done(text) : waiting.push({ test, done })));
        void until((t) => t.includes(': open')).then(() => resolve({ frames: () => text, close: () => req.destroy(), until }));
      });
      // Closing the stream resets it: by then the promise is settled.
      req.on('error', reject);
      req.end();
    });
  }

  test('a snapshot the CLI records arrives as a `snapshot` event; an action as an `action` event', async () => {
    const stream = await openEvents();
    await writeTree(sb.worktree, { 'a.txt': 'from the CLI\n' });
    const made = runJson<{ id: string; commit: string }>(sb, ['snapshot', '-m', 'from the CLI']);
    const text = await stream.until((t) => t.includes(made.commit));
    expect(text).toContain(`event: snapshot\ndata: ${JSON.stringify({ id: made.id, commit: made.commit })}\n\n`);
    const approved = await ui.post('/api/approve', { name: 'Seen live' });
    expect(approved.status).toBe(200);
    const after = await stream.until((t) => t.includes('event: action'));
    expect(after).toContain(`event: action\ndata: ${JSON.stringify({ op: 'approve', cli: "shadowgit approve 'Seen live'" })}\n\n`);
    await stream.until((t) => t.includes('event: refs'));
    stream.close();
  }, 30_000);
});

describe('the CLI', () => {
  test('`ui --help` shows the flags and examples; bad flags are usage errors, as JSON with --json', () => {
    const help = runCli(sb, ['ui', '--help']);
    expect(help.code).toBe(0);
    for (const word of ['--port', '--idle-timeout', '--no-open', 'Authorization: Bearer']) expect(help.stdout).toContain(word);
    const bad = runCli(sb, ['ui', '--idle-timeout', 'soon', '--no-open']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^shadowgit ui: --idle-timeout takes a duration like 90s, 30m or 2h, not "soon"\.\n$/);
    const json = runCli(sb, ['--json', 'ui', '--port', '70000', '--no-open']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'EUSAGE', message: expect.stringContaining('--port') } });
  });

  test('a port in use is one sentence, not a stack', () => {
    const taken = runCli(sb, ['ui', '--port', String(ui.port), '--no-open']);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(new RegExp(`^shadowgit: port ${ui.port} on 127\\.0\\.0\\.1 is in use`));
  });

  test('it stops by itself after --idle-timeout with no page open and no request', async () => {
    const idle = await startUi(sb, ['--idle-timeout', '1s']);
    expect(await idle.exited).toBe(0);
  }, 30_000);

  test('SIGTERM stops it cleanly, ending an open event stream', async () => {
    const other = await startUi(sb);
    // Wrapped: a promise resolved with a promise would wait for the stream's end before the stop.
    const { ended } = await new Promise<{ ended: Promise<void> }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: other.port, path: '/api/events', agent: false, headers: { host: `127.0.0.1:${other.port}`, cookie: other.cookie } }, (res) => {
        res.resume();
        resolve({ ended: new Promise((done) => res.on('end', () => done())) });
      });
      req.on('error', reject);
      req.end();
    });
    expect(await other.stop()).toBe(0);
    await ended;
  }, 30_000);
});

describe('a tree with no shadow repository yet', () => {
  test('the server starts and creates nothing: an empty timeline, 404 ENOREPO for a snapshot, health warns', async () => {
    const fresh = makeSandbox('sg-ui-fresh-');
    try {
      const empty = await startUi(fresh);
      try {
        expect((await empty.get('/api/timeline')).json).toEqual({ snapshots: [], total: 0, next: null });
        const snapshot = await empty.get('/api/snapshots/latest');
        expect(snapshot.status).toBe(404);
        expect(snapshot.json.error.code).toBe('ENOREPO');
        const health = await empty.get('/api/health');
        expect(health.status).toBe(200);
        expect(health.json.status).toBe('warn');
        expect(health.json.components.find((c: { name: string }) => c.name === 'last-snapshot')).toMatchObject({ status: 'warn', details: { id: null } });
        expect((await empty.get('/api/operations')).json).toEqual({ operations: [] });
      } finally {
        await empty.stop();
      }
      await expect(fsp.readdir(path.join(fresh.home, 'repos'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await fresh.cleanup();
    }
  }, 30_000);
});

describe('remotes', () => {
  test('the timeline marks what a push holds; health has one component per remote', async () => {
    const remoteSide = makeSandbox('sg-ui-remote-');
    const server = await startGitServer();
    const withRemote = await (async () => {
      await writeTree(remoteSide.worktree, { 'a.txt': 'one\n' });
      runJson(remoteSide, ['snapshot', '-m', 'pushed']);
      runJson(remoteSide, ['remote', 'add', 'origin', server.url(`${path.basename(remoteSide.dir)}.git`)]);
      server.createRepo(`${path.basename(remoteSide.dir)}.git`);
      // Async: the git server answers from this process.
      const pushed = await runCliAsync(remoteSide, ['push']);
      expect(pushed.code).toBe(0);
      await writeTree(remoteSide.worktree, { 'a.txt': 'two\n' });
      runJson(remoteSide, ['snapshot', '-m', 'not pushed']);
      return startUi(remoteSide);
    })();
    try {
      const timeline = await withRemote.get('/api/timeline');
      expect(timeline.json.snapshots.map((s: { message: string; remotes: string[] }) => [s.message, s.remotes])).toEqual([
        ['not pushed', []],
        ['pushed', ['origin']],
      ]);
      const health = await withRemote.get('/api/health');
      expect(health.json.components.find((c: { name: string }) => c.name === 'remote:origin')).toMatchObject({ status: 'pass', details: { unpushed: 1 } });
    } finally {
      await withRemote.stop();
      await server.close();
      await remoteSide.cleanup();
    }
  }, 60_000);
});

describe('a held lock', () => {
  test('an action waiting past the lock timeout is 423 ELOCKED and changes nothing; health says verify is busy', async () => {
    const lockFile = path.join(repoOf(sb), 'shadowgit', 'lock');
    const held = await startUi({ ...sb, env: { ...sb.env, SHADOWGIT_LOCK_TIMEOUT: '300' } });
    // This test's own process, alive on this host: the lock is not stale.
    await fsp.writeFile(lockFile, JSON.stringify({ pid: process.pid, host: os.hostname(), command: 'test holds the lock', since: new Date().toISOString() }));
    try {
      const before = runJson(sb, ['list', '--approved']);
      const refused = await held.post('/api/approve', { name: 'While locked' });
      expect(refused.status).toBe(423);
      expect(refused.json.error.code).toBe('ELOCKED');
      const planned = await held.post('/api/rollback/plan', { rev: 'latest' });
      expect((await held.post('/api/rollback', { plan: planned.json.plan.id })).status).toBe(423);
      const health = await held.get('/api/health');
      expect(health.json.components.find((c: { name: string }) => c.name === 'verify')).toMatchObject({ status: 'warn' });
      await fsp.rm(lockFile);
      expect(runJson(sb, ['list', '--approved'])).toEqual(before);
    } finally {
      await fsp.rm(lockFile, { force: true });
      await held.stop();
    }
  }, 30_000);
});

describe('static files', () => {
  let dir: string;
  let restoreHome: () => void;
  let server: UiServer;
  let cookie: string;
  const get = (p: string) => rawRequest(server.port, p, { headers: { cookie } });

  beforeAll(async () => {
    dir = path.join(sb.dir, 'static');
    await writeTree(dir, { 'web/index.html': '<!doctype html><title>UI</title>', 'web/assets/app.js': 'console.log(1);\n', 'web/assets/app.css': 'body{}\n', 'secret.txt': 'outside\n', 'web-other/x.txt': 'sibling\n' });
    await fsp.symlink(path.join(dir, 'secret.txt'), path.join(dir, 'web/leak.txt'));
    await fsp.symlink(path.join(dir, 'web-other'), path.join(dir, 'web/linked'));
    restoreHome = useHome(sb.home);
    server = await startUiServer({ sg: await ShadowGit.open({ worktree: sb.worktree }), idleTimeoutMs: 600_000, version: 'test', staticDir: path.join(dir, 'web') });
    cookie = String((await rawRequest(server.port, `/?token=${server.token}`)).headers['set-cookie']).split(';')[0]!;
  });

  afterAll(async () => {
    await server.stop();
    restoreHome();
  });

  test('/ is index.html, files have their content types', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.text).toBe('<!doctype html><title>UI</title>');
    expect((await get('/assets/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get('/assets/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  test('nothing outside the directory: `..`, encoded `%2e%2e`, an encoded slash, a symlink planted in it, a directory', async () => {
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%2fsecret.txt', '/leak.txt', '/linked/x.txt', '/assets', '/assets/', '/%00', '/.', '/index.html%00.js']) {
      const answer = await get(p);
      expect([p, answer.status]).toEqual([p, 404]);
      expect(answer.text).not.toContain('outside');
      expect(answer.text).not.toContain('sibling');
    }
  });

  test('a missing front end is a page saying it is not built', async () => {
    const bare = await startUiServer({ sg: await ShadowGit.open({ worktree: sb.worktree }), idleTimeoutMs: 600_000, version: 'test', staticDir: path.join(dir, 'nothing-here') });
    const c = String((await rawRequest(bare.port, `/?token=${bare.token}`)).headers['set-cookie']).split(';')[0]!;
    const answer = await rawRequest(bare.port, '/', { headers: { cookie: c } });
    await bare.stop();
    expect(answer.status).toBe(503);
    expect(answer.text).toContain('The front end is not built');
  });
});

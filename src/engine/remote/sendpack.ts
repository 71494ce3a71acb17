import { ShadowGitError } from '../errors.js';
import type { Repository } from '../store/repo.js';
import { advertisedRefs } from './discover.js';
import { expectContentType, request, shownUrl, type Endpoint } from './http.js';
import { writePackStream } from './packstream.js';
import { ByteReader, demuxSideBand, FLUSH, pktLine, pktText, protocolError, readPkt, ServerMessages } from './pktline.js';
import { objectsToSend } from './reachable.js';

/**
 * Pushing (pack-protocol.txt, "Pushing Data To a Server"; http-protocol.txt, "Smart Service
 * git-receive-pack"): one POST carries every ref update and one pack, streamed. With the
 * server's `atomic` capability the updates land together or not at all; a server that is cut
 * off before the pack is whole updates nothing, because receive-pack moves refs only after the
 * pack is stored.
 */

export interface RefUpdate {
  ref: string;
  /** What the remote holds now (undefined: the ref is new there). */
  old: string | undefined;
  /** What it should hold; a push never deletes, so undefined is refused. */
  new: string | undefined;
}

export interface TransferProgress {
  /** Objects sent or received so far, and how many in all. */
  objects?: number;
  total?: number;
  /** A line the server printed (its own progress, or a hook's message). */
  message?: string;
}

export interface TransferOptions {
  onProgress?: (progress: TransferProgress) => void;
}

export interface PushResult {
  /** Every requested ref: 'ok' (updated, or already there). */
  refs: Map<string, 'ok' | string>;
  /** Objects the pack carried. */
  objects: number;
}

/** The server refused one or more of a push's updates; `refs` holds each one's status. */
export class RemoteRejectedError extends ShadowGitError {
  constructor(
    message: string,
    readonly refs: Map<string, 'ok' | string>,
  ) {
    super(message, 'EREJECTED');
  }
}

const ZERO_ID = '0'.repeat(40);
const AGENT = 'agent=shadowgit';

export async function sendPack(repo: Repository, endpoint: Endpoint, updates: readonly RefUpdate[], options: TransferOptions = {}): Promise<PushResult> {
  const shown = shownUrl(endpoint);
  for (const update of updates) {
    if (!update.new) throw new ShadowGitError(`a push never deletes a ref, and ${update.ref} was asked to be deleted; leave it out of the push.`, 'EUSAGE');
    if (!/^refs\/\S+$/.test(update.ref) || !/^[0-9a-f]{40}$/.test(update.new)) throw new ShadowGitError(`the push update ${update.ref} → ${update.new} is not a ref and an object id; nothing was sent.`, 'EUSAGE');
    if (!(await repo.objects.has(update.new))) throw new ShadowGitError(`${update.new} (for ${update.ref}) is not in the shadow repository; nothing was sent.`, 'ECORRUPT');
  }
  const advertisement = await advertisedRefs(endpoint, 'git-receive-pack');
  const capabilities = advertisement.capabilities;
  if (!capabilities.has('report-status')) throw protocolError('the server does not report the status of a push');
  const result = new Map<string, 'ok' | string>();
  for (const update of updates) {
    const current = advertisement.refs.get(update.ref);
    // Already there: a push run again after it was applied (the answer lost on the way back).
    if (current === update.new) result.set(update.ref, 'ok');
    else if (current !== update.old) {
      throw new RemoteRejectedError(`${shown} has ${update.ref} at ${current ?? 'nothing'}, not ${update.old ?? 'nothing'} as this push expected; fetch, then push again.`, new Map([[update.ref, 'stale']]));
    }
  }
  const changes = updates.filter((update) => !result.has(update.ref));
  if (changes.length === 0) return { refs: result, objects: 0 };

  const onProgress = options.onProgress ?? (() => undefined);
  const haves = [...advertisement.refs.values()];
  const oids = await objectsToSend(repo.objects, changes.map((update) => update.new!), haves);
  const atomic = capabilities.has('atomic');
  const sideBand = capabilities.has('side-band-64k');
  const requested = ['report-status', ...(atomic ? ['atomic'] : []), ...(sideBand ? ['side-band-64k'] : []), AGENT];
  const commands = changes.map((update, index) => pktLine(`${update.old ?? ZERO_ID} ${update.new} ${update.ref}${index === 0 ? `\0${requested.join(' ')}` : ''}\n`));
  let sentObjects = 0;
  const body = async function* () {
    yield Buffer.concat([...commands, FLUSH]);
    yield* writePackStream(repo.objects, oids, () => onProgress({ objects: ++sentObjects, total: oids.length }));
  };
  const res = await request(endpoint, {
    method: 'POST',
    path: 'git-receive-pack',
    headers: { 'Content-Type': 'application/x-git-receive-pack-request', Accept: 'application/x-git-receive-pack-result' },
    body: body(),
  });
  expectContentType(res, 'application/x-git-receive-pack-result', shown);
  const messages = new ServerMessages();
  const reader = new ByteReader(res[Symbol.asyncIterator]());
  const reportReader = sideBand
    ? new ByteReader(
        demuxSideBand(
          reader,
          (text) => {
            messages.add(text);
            onProgress({ message: text });
          },
          (text) => new ShadowGitError(`${shown} stopped the push: ${text}; nothing was changed there.`, 'EREMOTE'),
        ),
      )
    : reader;
  const report = await readReport(reportReader);
  const said = messages.summary();
  if (report.unpack !== 'ok') {
    throw new ShadowGitError(`${shown} could not store the pushed objects (${report.unpack}${said ? `; it said: ${said}` : ''}), so no ref was changed there; push again.`, 'EREMOTE');
  }
  for (const update of changes) result.set(update.ref, report.refs.get(update.ref) ?? 'no status reported');
  const refused = changes.filter((update) => result.get(update.ref) !== 'ok');
  if (refused.length > 0) {
    const first = refused[0]!;
    const others = refused.length > 1 ? ` (and ${refused.length - 1} more)` : '';
    const unchanged = atomic ? 'no ref was changed there' : `the other refs were updated`;
    throw new RemoteRejectedError(`${shown} refused ${first.ref}${others}: ${result.get(first.ref)}${said ? ` — ${said}` : ''}; ${unchanged}.`, result);
  }
  return { refs: result, objects: oids.length };
}

/** report-status: `unpack ok|reason`, then `ok REF` or `ng REF reason` per command, then a flush. */
async function readReport(reader: ByteReader): Promise<{ unpack: string; refs: Map<string, string> }> {
  const first = await readPkt(reader);
  if (first === undefined || first === 'flush') throw protocolError('no push report');
  const unpack = /^unpack (.+)$/.exec(pktText(first));
  if (!unpack) throw protocolError(`push report ${JSON.stringify(pktText(first).slice(0, 60))}`);
  const refs = new Map<string, string>();
  for (;;) {
    const pkt = await readPkt(reader);
    if (pkt === undefined || pkt === 'flush') break;
    const line = pktText(pkt);
    const ok = /^ok (\S+)$/.exec(line);
    const ng = /^ng (\S+) (.*)$/.exec(line);
    if (ok) refs.set(ok[1]!, 'ok');
    else if (ng) refs.set(ng[1]!, ng[2]!);
  }
  return { unpack: unpack[1]!, refs };
}

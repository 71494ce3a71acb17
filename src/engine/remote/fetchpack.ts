import { ShadowGitError } from '../errors.js';
import type { Repository } from '../store/repo.js';
import { advertisedRefs } from './discover.js';
import { expectContentType, request, shownUrl, type Endpoint } from './http.js';
import { readPackStream } from './packstream.js';
import { ByteReader, demuxSideBand, FLUSH, pktLine, pktText, readPkt } from './pktline.js';
import { presentOnly, recentCommits } from './reachable.js';
import type { TransferOptions } from './sendpack.js';

/**
 * Fetching (pack-protocol.txt, "Packfile Negotiation"; http-protocol.txt, "Smart Service
 * git-upload-pack"), stateless and in one round: the wants, up to MAX_HAVES commits this
 * repository holds (nearest its ref tips first), `done`. The pack is parsed as it arrives and
 * every object lands in the store as a loose object; no ref moves — the caller moves refs once
 * fetchPack has returned (every object is then here and the pack's checksum verified). The
 * caller holds the repository lock, as for any write to the store.
 */

/** Enough to cover the snapshots since the last fetch; a few objects too many cost less than rounds. */
const MAX_HAVES = 256;
const AGENT = 'agent=shadowgit';

export async function fetchPack(repo: Repository, endpoint: Endpoint, wants: readonly string[], options: TransferOptions = {}): Promise<{ objects: number }> {
  const shown = shownUrl(endpoint);
  for (const want of wants) if (!/^[0-9a-f]{40}$/.test(want)) throw new ShadowGitError(`${JSON.stringify(want)} is not an object id; nothing was fetched.`, 'EUSAGE');
  const present = new Set(await presentOnly(repo.objects, wants));
  const missing = [...new Set(wants)].filter((want) => !present.has(want));
  if (missing.length === 0) return { objects: 0 };

  const { capabilities } = await advertisedRefs(endpoint, 'git-upload-pack');
  const sideBand = capabilities.has('side-band-64k');
  const requested = [...(sideBand ? ['side-band-64k'] : []), ...(capabilities.has('ofs-delta') ? ['ofs-delta'] : []), AGENT];
  const localTips = [...(await repo.refs.list('refs/')).values()];
  const haves = await recentCommits(repo.objects, localTips, MAX_HAVES);
  const body = Buffer.concat([
    ...missing.map((want, index) => pktLine(`want ${want}${index === 0 ? ` ${requested.join(' ')}` : ''}\n`)),
    FLUSH,
    ...haves.map((have) => pktLine(`have ${have}\n`)),
    pktLine('done\n'),
  ]);
  const res = await request(endpoint, {
    method: 'POST',
    path: 'git-upload-pack',
    headers: { 'Content-Type': 'application/x-git-upload-pack-request', Accept: 'application/x-git-upload-pack-result' },
    body: (async function* () {
      yield body;
    })(),
  });
  expectContentType(res, 'application/x-git-upload-pack-result', shown);
  const reader = new ByteReader(res[Symbol.asyncIterator]());
  // Before the pack: ACK (a have the server shares) or NAK lines, or ERR (e.g. a want that is not a ref tip).
  for (;;) {
    await reader.fill(8);
    const head = reader.peekAll().subarray(4, 8).toString('latin1');
    if (!/^(ACK |NAK|ERR )/.test(head)) break;
    const pkt = await readPkt(reader);
    if (head.startsWith('ERR') && pkt !== undefined && pkt !== 'flush') {
      throw new ShadowGitError(`${shown} refused the fetch: ${pktText(pkt).slice(4)}; list its refs again and fetch what it has.`, 'EREMOTE');
    }
  }
  const onProgress = options.onProgress ?? (() => undefined);
  const packReader = sideBand
    ? new ByteReader(
        demuxSideBand(
          reader,
          (text) => onProgress({ message: text }),
          (text) => new ShadowGitError(`${shown} stopped sending: ${text}; fetch again.`, 'EREMOTE'),
        ),
      )
    : reader;
  let received = 0;
  const objects = await readPackStream(repo.objects, packReader, () => onProgress({ objects: ++received }));
  await repo.objects.recordWrites();
  return { objects };
}

import { expectContentType, request, readAll, shownUrl, type Endpoint } from './http.js';
import { ByteReader, pktText, protocolError, readPkt } from './pktline.js';

/** The two services of git's smart HTTP: fetching (upload-pack) and pushing (receive-pack). */
export type Service = 'git-upload-pack' | 'git-receive-pack';

export interface Advertisement {
  /** Every ref the server has, with the object it names (an annotated tag: the tag object). */
  refs: Map<string, string>;
  /** What annotated tags point at (the `^{}` lines), kept apart from `refs`. */
  peeled: Map<string, string>;
  capabilities: Set<string>;
  /** Symbolic refs the server announced (`symref=HEAD:refs/heads/main`). */
  symrefs: Map<string, string>;
}

const ZERO_ID = '0'.repeat(40);

/**
 * GET info/refs?service=…: the refs and capabilities a server offers for one service, in
 * protocol v1 (http-protocol.txt, "Smart Clients"). A dumb server (no service line, a
 * text/plain answer) is refused: it cannot take a push.
 */
export async function advertisedRefs(endpoint: Endpoint, service: Service): Promise<Advertisement> {
  const res = await request(endpoint, { method: 'GET', path: `info/refs?service=${service}`, headers: { Accept: '*/*', Pragma: 'no-cache' } });
  expectContentType(res, `application/x-${service}-advertisement`, shownUrl(endpoint));
  return parseAdvertisement(await readAll(res), service);
}

export async function parseAdvertisement(body: Buffer, service: Service): Promise<Advertisement> {
  const reader = new ByteReader((async function* () {
    yield body;
  })());
  const first = await readPkt(reader);
  if (first === undefined || first === 'flush' || pktText(first) !== `# service=${service}`) throw protocolError('no service line');
  const afterService = await readPkt(reader);
  if (afterService !== 'flush') throw protocolError('no flush after the service line');
  const advertisement: Advertisement = { refs: new Map(), peeled: new Map(), capabilities: new Set(), symrefs: new Map() };
  for (let index = 0; ; index++) {
    const pkt = await readPkt(reader);
    if (pkt === undefined || pkt === 'flush') break;
    let line = pktText(pkt);
    if (index === 0) {
      const nul = line.indexOf('\0');
      if (nul >= 0) {
        for (const capability of line.slice(nul + 1).split(' ').filter(Boolean)) {
          advertisement.capabilities.add(capability);
          const symref = /^symref=([^:]+):(.+)$/.exec(capability);
          if (symref) advertisement.symrefs.set(symref[1]!, symref[2]!);
        }
        line = line.slice(0, nul);
      }
    }
    const match = /^([0-9a-f]{40}) (.+)$/.exec(line);
    if (!match) throw protocolError(`ref line ${JSON.stringify(line.slice(0, 60))}`);
    const [, oid, name] = match as unknown as [string, string, string];
    // An empty repository advertises only its capabilities, on a line naming no ref.
    if (oid === ZERO_ID && name === 'capabilities^{}') continue;
    if (name.endsWith('^{}')) advertisement.peeled.set(name.slice(0, -3), oid);
    else advertisement.refs.set(name, oid);
  }
  return advertisement;
}

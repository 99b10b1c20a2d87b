import { parentPort } from 'node:worker_threads';
import { loadCatalog } from '../catalog/catalog.js';
import { checkFleet } from '../fleet/check.js';
import { readCertificates } from '../pki/certificates.js';
import { signer } from '../pki/cms.js';
import { unpackUser } from '../directory/directory.js';
import { manifestEntryText, userArtifact, userTarget, type BuildInput } from './plan.js';
import type { Chunk, ChunkResult, WorkerSetup } from './user-profiles.js';

// A build thread (see user-profiles.ts): its first message is the setup, every later one a chunk. The
// modules above load as soon as the thread starts, before the setup comes.
let input: BuildInput | undefined;

function begin(setup: WorkerSetup): BuildInput {
  const catalog = loadCatalog();
  const { fleet } = checkFleet(setup.fleetFile, setup.fleetBytes, catalog);
  if (!fleet) throw new Error('fleet.yaml no longer checks out in the build thread');
  const signing = setup.signing;
  return {
    fleet, catalog, fleetBytes: setup.fleetBytes, secrets: setup.secrets, plistFormat: setup.plistFormat, version: setup.version,
    ...(signing && {
      sign: signer({ key: signing.key, certificate: readCertificates(Buffer.from(signing.certificate))[0]!, chain: signing.chain.map((der) => readCertificates(Buffer.from(der))[0]!) }, signing.signingTime),
    }),
  };
}

parentPort!.on('message', (message: WorkerSetup | Chunk) => {
  if (!input) {
    input = begin(message as WorkerSetup);
    return;
  }
  const { index, users } = message as Chunk;
  const made = input;
  const artifacts = users.rows.map((_, k) => userArtifact(made, userTarget(unpackUser(users, k))));
  const bytes = Buffer.concat(artifacts.map((a) => a.bytes));
  // A fresh ArrayBuffer of exactly these bytes, handed over rather than copied.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const result: ChunkResult = { index, bytes: buffer as ArrayBuffer, lengths: artifacts.map((a) => a.bytes.length), paths: artifacts.map((a) => a.path), manifest: artifacts.map((a) => manifestEntryText(a.entry)) };
  parentPort!.postMessage(result, [buffer as ArrayBuffer]);
});

import { parentPort, workerData } from 'node:worker_threads';
import { loadCatalog } from '../catalog/catalog.js';
import { checkFleet } from '../fleet/check.js';
import { readCertificates } from '../pki/certificates.js';
import { signer } from '../pki/cms.js';
import { unpackUser } from '../directory/directory.js';
import { manifestEntryText, userArtifact, userTarget, type BuildInput } from './plan.js';
import type { Chunk, ChunkResult, WorkerSetup } from './user-profiles.js';

// A build thread: makes the per-user profiles of each chunk it is sent (see user-profiles.ts).
const setup = workerData as WorkerSetup;
const catalog = loadCatalog();
const { fleet } = checkFleet(setup.fleetFile, setup.fleetBytes, catalog);
if (!fleet) throw new Error('fleet.yaml no longer checks out in the build thread');
const signing = setup.signing;
const input: BuildInput = {
  fleet, catalog, fleetBytes: setup.fleetBytes, secrets: setup.secrets, plistFormat: setup.plistFormat, version: setup.version,
  ...(signing && {
    sign: signer({ key: signing.key, certificate: readCertificates(Buffer.from(signing.certificate))[0]!, chain: signing.chain.map((der) => readCertificates(Buffer.from(der))[0]!) }, signing.signingTime),
  }),
};

parentPort!.on('message', ({ index, users }: Chunk) => {
  const artifacts = users.rows.map((_, k) => userArtifact(input, userTarget(unpackUser(users, k))));
  const bytes = Buffer.concat(artifacts.map((a) => a.bytes));
  // A fresh ArrayBuffer of exactly these bytes, handed over rather than copied.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  const result: ChunkResult = { index, bytes: buffer as ArrayBuffer, lengths: artifacts.map((a) => a.bytes.length), paths: artifacts.map((a) => a.path), manifest: artifacts.map((a) => manifestEntryText(a.entry)) };
  parentPort!.postMessage(result, [buffer as ArrayBuffer]);
});

// Regenerates examples/pulled/: plists "pulled" from five Macs, as the example policy would leave them,
// with one deviation of each kind an audit reports planted on some of them. Run after npm run build.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPlist } from '../dist/src/plist/read.js';
import { writeBinaryPlist } from '../dist/src/plist/write-binary.js';
import { writeXmlPlist } from '../dist/src/plist/write-xml.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = mkdtempSync(join(tmpdir(), 'mdmgen-pulls-'));
execFileSync(process.execPath, [join(root, 'bin/mdmgen.js'), 'build', join(root, 'examples/fleet.yaml'), '-o', build]);
const out = join(root, 'examples/pulled');
rmSync(out, { recursive: true, force: true });

/** The settings a user's own profile holds, flattened per domain. */
function settingsOf(user) {
  const profile = readPlist(readFileSync(join(build, 'profiles/users', `${user}.mobileconfig`))).value;
  const domains = {};
  for (const payload of profile.PayloadContent) {
    if (payload.PayloadType !== 'com.apple.ManagedClient.preferences') continue;
    for (const [domain, mcx] of Object.entries(payload.PayloadContent)) {
      for (const list of [mcx.Forced ?? [], mcx['Set-Once'] ?? []]) for (const item of list) Object.assign((domains[domain] ??= {}), item.mcx_preference_settings);
    }
  }
  return domains;
}

const write = (host, user, domain, values, binary = false) => {
  const file = join(out, host, 'Users', user, 'Library/Preferences/Microsoft', `${domain}.plist`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, binary ? writeBinaryPlist(values) : writeXmlPlist(values));
};
const macs = [['MAC-0101', 'jdoe'], ['MAC-0102', 'asmith'], ['MAC-0217', 'jgarcia'], ['MAC-0218', 'mchen'], ['MAC-0330', 'kolsen']];
for (const [host, user] of macs) {
  const s = settingsOf(user);
  const ui = { ...s['com.microsoft.Messenger'], ContactWindowSize: '220, 540' };
  const daemon = { ...s['com.microsoft.MessengerDaemon'], SIPSignInStatus: 1 };
  if (user === 'asmith') ui.HideTimeStamp = true; // a once key the user changed: info
  if (user === 'jgarcia') ui.DisallowSave = false; // a forced key changed: error
  if (user === 'mchen') {
    daemon.RTCTransport = '4'; // `defaults write` without -int: type mismatch
    daemon.AutoldleDelay = 5; // the PDF's typo, written by hand: unknown key
  }
  if (user === 'kolsen') delete ui.DisallowSave; // missing forced key
  write(host, user, 'com.microsoft.Messenger', ui, user === 'jdoe');
  write(host, user, 'com.microsoft.MessengerDaemon', daemon, user === 'jdoe');
}
// A Mac shared by a user the directory does not know: audited against the base policy.
write('MAC-0400', 'guest', 'com.microsoft.Messenger', { DisallowSave: true, HideTimeStamp: false, DoNotShowVirusAlert: true });
// A truncated file, as a failed copy leaves it.
const truncated = join(out, 'MAC-0400/Users/guest/Library/Preferences/Microsoft/com.microsoft.MessengerDaemon.plist');
writeFileSync(truncated, writeXmlPlist({ RTCTransport: 4, RTCServerAddress: 'lcs01.corp.example.com' }).subarray(0, 300));
rmSync(build, { recursive: true, force: true });
console.log(`wrote ${out}`);

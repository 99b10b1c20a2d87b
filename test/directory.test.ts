import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDirectory } from '../src/directory/directory.js';
import { HEADER, listTree, loadWithPlistlib, mdmgen, tempDir, untag, writeFleet } from './helpers/helpers.js';

const columns = { user: 'sAMAccountName', email: 'mail', group: 'department' };
const at = () => ({ file: 'fleet.yaml' });
const read = (csv: string | Buffer) => readDirectory({ file: 'users.csv', columns }, 'users.csv', Buffer.from(csv), at);

/** A fleet with a directory, in its own folder with the CSV beside it. */
function fleetWith(csv: string | Buffer, body: string, mapping = 'user: sAMAccountName\n    email: mail\n    upn: userPrincipalName\n    group: department'): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'users.csv'), csv);
  return writeFleet(`${HEADER}directory:\n  file: users.csv\n  columns:\n    ${mapping}\n${body}`, dir);
}
const CSV_HEADER = 'sAMAccountName,mail,userPrincipalName,department\n';

test('CSV as Active Directory exports it: quotes, commas, quotes and line breaks inside, BOM, CRLF', () => {
  const csv = '\ufeffsAMAccountName,mail,department,notes\r\n' +
    'jdoe,"doe, john@example.com",Engineering,plain\r\n' +
    'anna,"a""b@example.com","R&D","two\r\nlines"\r\n\r\n' +
    'mei,mei@example.com,,last\r\n';
  const { users, diagnostics } = read(csv);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual([...users!].map((u) => [u.name, u.values.email, u.group, u.line]), [
    ['jdoe', 'doe, john@example.com', 'Engineering', 2],
    ['anna', 'a"b@example.com', 'R&D', 3],
    ['mei', 'mei@example.com', undefined, 6],
  ]);
  const lf = read('sAMAccountName,mail,department\njdoe,j@example.com,Eng\n');
  assert.deepEqual([...lf.users!].map((u) => u.line), [2]);
  // Windows PowerShell's Export-Csv without -NoTypeInformation: a type line first, skipped as Import-Csv skips it.
  const typed = read('#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n"sAMAccountName","mail","department"\r\n"jdoe","j@example.com","Eng"\r\n');
  assert.deepEqual(typed.diagnostics, []);
  assert.deepEqual([...typed.users!].map((u) => [u.name, u.group, u.line]), [['jdoe', 'Eng', 3]]);
});

test('a directory separated by semicolons (Excel in a comma-decimal locale) or tabs, with delimiter set, reads as the comma file does; unset, the header error says which to set', () => {
  const rows = [['sAMAccountName', 'mail', 'department'], ['jdoe', 'Doe, John <j@example.com>', 'R&D'], ['anna', 'a;b\tc@example.com', '']];
  const quoted = (cell: string) => (/[,;\t"]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);
  const text = (delimiter: string) => rows.map((r) => r.map(quoted).join(delimiter)).join('\r\n');
  const users = (delimiter: ',' | ';' | '\t') => {
    const result = readDirectory({ file: 'users.csv', columns, delimiter }, 'users.csv', Buffer.from(text(delimiter)), at);
    assert.deepEqual(result.diagnostics, []);
    return [...result.users!].map((u) => [u.name, u.values.email, u.group, u.line]);
  };
  const expected = [['jdoe', 'Doe, John <j@example.com>', 'R&D', 2], ['anna', 'a;b\tc@example.com', undefined, 3]];
  for (const delimiter of [',', ';', '\t'] as const) assert.deepEqual(users(delimiter), expected, JSON.stringify(delimiter));

  const hints = (csv: string, delimiter?: ';') => readDirectory({ file: 'users.csv', columns, ...(delimiter && { delimiter }) }, 'users.csv', Buffer.from(csv), at).diagnostics.map((d) => d.message);
  assert.match(hints(text(';'))[0]!, /its fields are separated by semicolons: set directory\.delimiter to ";"$/);
  assert.match(hints(text('\t'))[0]!, /its fields are separated by tabs: set directory\.delimiter to "\\t"$/);
  assert.match(hints(text(','), ';')[0]!, /its fields are separated by commas: set directory\.delimiter to ","$/);
  assert.deepEqual(hints('sAMAccountName,mail\njdoe,j@example.com\n'), ['the directory has no column "department" (its header has: sAMAccountName, mail)'], 'no advice when the header was split');
  // Get-ADUser | Select-Object SamAccountName,Mail: the header as the admin typed it.
  assert.deepEqual(hints('SamAccountName,mail ,Department\njdoe,j@example.com,E\n'), [
    'the directory has no column "sAMAccountName" (its header has: SamAccountName, mail , Department); did you mean "SamAccountName"? (headers are matched exactly)',
    'the directory has no column "mail" (its header has: SamAccountName, mail , Department); did you mean "mail "? (headers are matched exactly)',
    'the directory has no column "department" (its header has: SamAccountName, mail , Department); did you mean "Department"? (headers are matched exactly)',
  ]);

  const dir = tempDir();
  writeFileSync(join(dir, 'users.csv'), text(';'));
  const fleet = (delimiter: string) => writeFleet(`${HEADER}directory:\n  file: users.csv\n  delimiter: ${delimiter}\n  columns: { user: sAMAccountName, email: mail, group: department }\npreferences:\n  com.microsoft.MessengerDaemon:\n    UserSIPID: "{{email}}"\n`, dir);
  const out = join(dir, 'out');
  const built = mdmgen(['build', fleet('";"'), '-o', out]);
  assert.equal(built.code, 0, built.stderr);
  assert.deepEqual(listTree(join(out, 'profiles/users')), ['anna.mobileconfig', 'jdoe.mobileconfig']);
  assert.ok(readFileSync(join(out, 'profiles/users/jdoe.mobileconfig'), 'utf8').includes('<string>Doe, John &lt;j@example.com&gt;</string>'));
  const refused = mdmgen(['validate', fleet('tab')]);
  assert.equal(refused.code, 2);
  assert.match(refused.stdout, /fleet\.yaml:5:14 {2}error {2}directory\.delimiter must be one of: ",", ";", "\\t" {2}schema\/value/);
});

test('UTF-16 with a BOM, as csvde -u and Export-Csv -Encoding Unicode write it, reads as UTF-8 does; broken UTF-16 is located', () => {
  const csv = 'sAMAccountName,mail,department\r\nj\u00fcrgen,j@example.com,R&D\r\nmei,"\u6771\u4eac \ud83d\ude00",\r\n';
  const utf16 = (text: string, bigEndian: boolean) => {
    const body = Buffer.from(`\ufeff${text}`, 'utf16le');
    return bigEndian ? body.swap16() : body;
  };
  const expected = [...read(csv).users!].map((u) => [u.name, u.values.email, u.group, u.line]);
  for (const bigEndian of [false, true]) {
    const { users, diagnostics } = read(utf16(csv, bigEndian));
    assert.deepEqual(diagnostics, []);
    assert.deepEqual([...users!].map((u) => [u.name, u.values.email, u.group, u.line]), expected);
  }
  const odd = read(utf16(csv, false).subarray(0, 41));
  assert.deepEqual(odd.diagnostics.map((d) => [d.code, d.offset, d.message]), [['directory/unreadable', 40, 'UTF-16 text with an odd number of bytes at byte offset 40; export the directory as UTF-8']]);
  const lone = read(utf16('sAMAccountName\r\na\ud800b\r\n', false));
  assert.deepEqual(lone.diagnostics.map((d) => [d.code, d.offset]), [['directory/unreadable', 2 + 2 * 17]]);
});

test('names with "?" (Windows PowerShell\'s Export-Csv without -Encoding writes ASCII) are read, with one warning at the first', () => {
  const { users, diagnostics } = read('sAMAccountName,mail,department\njdoe,j@example.com,E\nj?rgen,j@example.com,E\nm?ller,m@example.com,E\n');
  assert.equal(users!.size, 3);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.severity, d.line]), [['directory/lossy-export', 'warning', 3]]);
  assert.match(diagnostics[0]!.message, /^2 user names hold "\?", as "j\?rgen" does: .*-Encoding UTF8$/);
  const fleet = fleetWith(CSV_HEADER + 'j?rgen,j@example.com,j@CORP.EXAMPLE.COM,\n', '');
  const run = mdmgen(['validate', fleet]);
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /users\.csv:2:1 {2}warning {2}a user name holds "\?", as "j\?rgen" does/);
});

test('a directory with a header and no users (an export whose filter matched nobody) is a warning; the build goes on', () => {
  for (const csv of ['sAMAccountName,mail,department\r\n', '\ufeffsAMAccountName,mail,department', 'sAMAccountName,mail,department\n\n\n']) {
    const { users, diagnostics } = read(csv);
    assert.equal(users!.size, 0);
    assert.deepEqual(diagnostics.map((d) => [d.code, d.severity, d.line]), [['directory/no-users', 'warning', 1]], JSON.stringify(csv));
  }
  assert.deepEqual(read('sAMAccountName,mail,department\njdoe,j@example.com,E\n').diagnostics, []);
  const run = mdmgen(['build', fleetWith(CSV_HEADER, '')]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /users\.csv:1:1 {2}warning {2}the directory has a header row and no users.* {2}directory\/no-users/);
});

test('a row with an empty user name is an error naming its line, after a multi-line record too', () => {
  const { users, diagnostics } = read('sAMAccountName,mail,department\n"a","x\ny",E\n,b@example.com,E\n');
  assert.equal(users, undefined);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.file, d.line]), [['directory/empty-user', 'users.csv', 4]]);
});

test('names that are one name to a Mac (case, ß, Unicode normalisation) are an error naming both lines', () => {
  for (const [a, b] of [['Bob', 'bob'], ['Straße', 'STRASSE'], ['caf\u00e9', 'cafe\u0301']]) {
    const { diagnostics } = read(`sAMAccountName,mail,department\n${a},1@example.com,E\n${b},2@example.com,E\n`);
    assert.equal(diagnostics.length, 1, `${a} / ${b}`);
    assert.equal(diagnostics[0]!.code, 'directory/duplicate-user');
    assert.equal(diagnostics[0]!.line, 3);
    assert.match(diagnostics[0]!.message, /on line 2/);
  }
});

test('broken CSV, invalid UTF-8 and a mapping to a missing column are located errors', () => {
  assert.deepEqual(read('sAMAccountName,mail,department\n"jdoe,x,E\n').diagnostics.map((d) => d.code), ['directory/unreadable']);
  const bad = read(Buffer.concat([Buffer.from('sAMAccountName,mail,department\njos'), Buffer.from([0xe9]), Buffer.from(',x,E\n')]));
  assert.deepEqual(bad.diagnostics.map((d) => [d.code, d.offset]), [['directory/unreadable', 34]]);
  const fleet = fleetWith(CSV_HEADER + 'jdoe,j@example.com,j@CORP.EXAMPLE.COM,E\n', '', 'user: sAMAccountName\n    email: emailAddress');
  const run = mdmgen(['validate', fleet]);
  assert.equal(run.code, 2);
  assert.match(run.stdout, /fleet\.yaml:7:12 {2}error {2}the directory has no column "emailAddress" \(its header has: sAMAccountName, mail, userPrincipalName, department\)/);
  // A missing user column is that one error, not one more for every row without a name.
  const noUser = mdmgen(['validate', fleetWith(CSV_HEADER + 'jdoe,j@example.com,j@CORP.EXAMPLE.COM,E\nanna,a@example.com,a@CORP.EXAMPLE.COM,E\n', '', 'user: login')]);
  assert.equal(noUser.code, 2);
  assert.deepEqual(noUser.stdout.split('\n').filter((l) => / {2}error {2}/.test(l)).map((l) => l.replace(/^.* {2}error {2}/, '')), ['the directory has no column "login" (its header has: sAMAccountName, mail, userPrincipalName, department)  directory/unknown-column']);
  assert.deepEqual(read('').diagnostics.map((d) => [d.code, d.message]), [['directory/unreadable', 'the file is empty; a header row is expected']]);
});

test('users in groups fleet.yaml does not name get the base policy: one warning with the counts', () => {
  const fleet = fleetWith(CSV_HEADER + 'a,a@x.com,a@X.COM,Sales\nb,b@x.com,b@X.COM,Sales\nc,c@x.com,c@X.COM,Marketing\nd,d@x.com,d@X.COM,Eng\n',
    'preferences:\n  com.microsoft.MessengerDaemon:\n    UserSIPID: "{{email}}"\ngroups:\n  Eng: {}\n');
  const run = mdmgen(['validate', fleet]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /users\.csv {2}warning {2}3 users are in groups fleet\.yaml does not name and get the base policy: Marketing \(1\), Sales \(2\) {2}directory\/unknown-group/);
});

test('templates: an unknown variable, a helper, or no directory is a located error, never an empty string', () => {
  const csv = CSV_HEADER + 'jdoe,j@example.com,j@CORP.EXAMPLE.COM,E\n';
  const cases: [string, RegExp][] = [
    ['    UserSIPID: "{{mail}}"', /fleet\.yaml:12:16 {2}error {2}UserSIPID: \{\{mail\}\} names no directory column; the columns are \{\{user\}\}, \{\{email\}\}, \{\{upn\}\}, \{\{group\}\}/],
    ['    UserSIPID: "{{#if email}}x{{/if}}"', /only \{\{variable\}\} is allowed/],
    ['    UserSIPID: "{{lookup . \'email\'}}"', /only \{\{variable\}\} is allowed/],
    ['    UserSIPID: "{{email"', /does not parse/],
  ];
  for (const [line, expected] of cases) {
    const run = mdmgen(['validate', fleetWith(csv, `preferences:\n  com.microsoft.MessengerDaemon:\n${line}\n`)]);
    assert.equal(run.code, 2, line);
    assert.match(run.stdout, expected);
  }
  const none = mdmgen(['validate', writeFleet(`${HEADER}preferences:\n  com.microsoft.MessengerDaemon:\n    UserSIPID: "{{email}}"\n`)]);
  assert.match(none.stdout, /fleet\.yaml:5:16 {2}error {2}UserSIPID uses a template, which needs a directory section/);
});

test('per-user profiles: complete settings, User scope, values unescaped and exact', () => {
  const csv = CSV_HEADER + 'jdoe,"o\'brien&<co>""x""@example.com",jdoe@CORP.EXAMPLE.COM,Eng\nzoë,zoë@exämple.com,zoe@CORP.EXAMPLE.COM,\n';
  const fleet = fleetWith(csv, `preferences:
  com.microsoft.Messenger:
    DisallowSave: true
  com.microsoft.MessengerDaemon:
    UserSIPID: "{{email}}"
    UserLogonName: "{{upn}}"
    EnableKerberosLogin: true
groups:
  Eng:
    preferences:
      com.microsoft.Messenger:
        DisallowSave: false
`);
  const out = join(tempDir(), 'out');
  const run = mdmgen(['build', fleet, '-o', out]);
  assert.equal(run.code, 0, run.stderr);
  const profile = untag(loadWithPlistlib(join(out, 'profiles/users/jdoe.mobileconfig'))) as {
    PayloadScope: string; PayloadIdentifier: string; PayloadContent: { PayloadContent: Record<string, { Forced: { mcx_preference_settings: Record<string, unknown> }[] }> }[];
  };
  assert.equal(profile.PayloadScope, 'User');
  assert.equal(profile.PayloadIdentifier, 'com.example.im.preferences.user.jdoe');
  const settings = Object.assign({}, ...profile.PayloadContent.map((p) => Object.values(p.PayloadContent)[0]!.Forced[0]!.mcx_preference_settings));
  assert.deepEqual(settings, { DisallowSave: false, UserSIPID: 'o\'brien&<co>"x"@example.com', UserLogonName: 'jdoe@CORP.EXAMPLE.COM', EnableKerberosLogin: true });
  const zoe = readdirSync(join(out, 'profiles/users')).find((f) => f.startsWith('zo'))!;
  assert.match(readFileSync(join(out, 'profiles/users', zoe), 'utf8'), /<string>zoë@exämple\.com<\/string>/);

  const group = untag(loadWithPlistlib(join(out, 'profiles/groups/Eng.mobileconfig'))) as { PayloadScope: string; PayloadDescription: string };
  assert.equal(group.PayloadScope, 'System');
  assert.match(group.PayloadDescription, /Per-user values are in each user's own profile/);
  assert.doesNotMatch(readFileSync(join(out, 'profiles/groups/Eng.mobileconfig'), 'utf8'), /UserSIPID|\{\{/);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { artifacts: { path: string; user?: string; group?: string }[] };
  assert.deepEqual(manifest.artifacts.filter((a) => a.user).map((a) => [a.user, a.group]), [['jdoe', 'Eng'], ['zoë', undefined]]);
});

test('hostile user names get safe, distinct file names inside the output folder', () => {
  const names = ['../../x', 'a/b', 'a\\b', 'con', 'NUL.txt', 'trailing.', '.', 'é'.repeat(150), 'a b', 'Zoë'];
  const csv = CSV_HEADER + names.map((n, i) => `"${n}",u${i}@example.com,u${i}@CORP.EXAMPLE.COM,\n`).join('');
  const fleet = fleetWith(csv, 'preferences:\n  com.microsoft.MessengerDaemon:\n    UserSIPID: "{{email}}"\n');
  const out = join(tempDir(), 'nested', 'out');
  const run = mdmgen(['build', fleet, '-o', out]);
  assert.equal(run.code, 0, run.stderr);
  const files = readdirSync(join(out, 'profiles', 'users'));
  assert.equal(files.length, names.length);
  assert.equal(new Set(files.map((f) => f.toLowerCase())).size, names.length);
  for (const f of files) {
    assert.match(f, /^[A-Za-z0-9][A-Za-z0-9._-]*\.mobileconfig$/);
    assert.ok(Buffer.byteLength(f) <= 255);
    assert.doesNotMatch(f, /^(con|nul)\./i);
  }
  assert.deepEqual(readdirSync(join(out, '..')), ['out'], 'nothing written beside the output folder');
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { artifacts: { user?: string; identifier?: string }[] };
  assert.deepEqual(manifest.artifacts.filter((a) => a.user !== undefined).map((a) => a.user).sort(), [...names].sort());
  // The name is also the last label of the profile's PayloadIdentifier, a reverse-DNS name: no empty label, no trailing dot.
  for (const { identifier } of manifest.artifacts) if (identifier) assert.match(identifier, /^[^.]+(\.[^.]+)+$/);

  const nul = mdmgen(['build', fleetWith(CSV_HEADER + 'ok,o@example.com,o@X.COM,\n"x\u0000y",x@example.com,x@X.COM,\n', 'preferences:\n  com.microsoft.MessengerDaemon:\n    UserSIPID: "{{email}}"\n')]);
  assert.equal(nul.code, 2);
  assert.match(nul.stderr, /users\.csv:3:1 {2}error {2}this row's user name holds a control character/);
});

test('rules after rendering: one error per user naming the CSV line, capped at 20 with a count', () => {
  const rows = Array.from({ length: 25 }, (_, i) => `u${i},u${i}@example.com,u${i},E\n`).join('');
  const fleet = fleetWith(CSV_HEADER + 'ok,ok@example.com,ok@CORP.EXAMPLE.COM,E\n' + rows,
    'preferences:\n  com.microsoft.MessengerDaemon:\n    EnableKerberosLogin: true\n    UserLogonName: "{{upn}}"\n');
  const run = mdmgen(['validate', fleet, '--format', 'json']);
  assert.equal(run.code, 2);
  const { diagnostics } = JSON.parse(run.stdout) as { diagnostics: { code: string; file: string; line: number | null; message: string }[] };
  const kerberos = diagnostics.filter((d) => d.code === 'rule/kerberos-logon-name');
  assert.equal(kerberos.length, 21);
  assert.deepEqual(kerberos.slice(0, 2).map((d) => [d.file.endsWith('users.csv'), d.line, d.message]), [
    [true, 3, 'user u0: UserLogonName "u0" is not fully qualified (user@realm) although EnableKerberosLogin is on'],
    [true, 4, 'user u1: UserLogonName "u1" is not fully qualified (user@realm) although EnableKerberosLogin is on'],
  ]);
  assert.deepEqual([kerberos.at(-1)!.line, kerberos.at(-1)!.message], [23, '... and 5 more users with this problem, from this line on']);
});

test('an empty cell a template needs is an error at the user\'s line', () => {
  const fleet = fleetWith(CSV_HEADER + 'jdoe,,j@CORP.EXAMPLE.COM,E\n', 'preferences:\n  com.microsoft.MessengerDaemon:\n    UserSIPID: "{{email}}"\n');
  const run = mdmgen(['validate', fleet]);
  assert.equal(run.code, 2);
  assert.match(run.stdout, /users\.csv:2:1 {2}error {2}user jdoe: UserSIPID uses \{\{email\}\}, but the "mail" column is empty {2}directory\/empty-value/);
});

test('a user added after a lookup is found too: the name index is made again', async () => {
  const { Directory } = await import('../src/directory/directory.js');
  const users = new Directory(['user', 'email']);
  users.add(['jdoe', 'j@example.com'], 2);
  assert.equal(users.get('JDoe')?.values.email, 'j@example.com');
  users.add(['anna', 'a@example.com'], 3);
  assert.deepEqual(users.get('anna'), { name: 'anna', values: { user: 'anna', email: 'a@example.com' }, line: 3 });
});

test('a cell a template needs that holds a control character is an error at the user\'s line, the value not echoed', () => {
  const run = mdmgen(['validate', fleetWith(CSV_HEADER + 'jdoe,S3cr3t-SENTINEL\u0001@example.com,j@CORP.EXAMPLE.COM,E\n', 'preferences:\n  com.microsoft.MessengerDaemon:\n    UserSIPID: "{{email}}"\n')]);
  assert.equal(run.code, 2);
  assert.match(run.stdout, /users\.csv:2:1 {2}error {2}user jdoe: UserSIPID would hold a character a plist cannot carry {2}directory\/invalid-character/);
  assert.doesNotMatch(run.stdout + run.stderr, /SENTINEL/);
});

test('a row whose user name is only spaces is an error at its line', () => {
  const run = mdmgen(['validate', fleetWith(CSV_HEADER + 'jdoe,j@example.com,j@CORP.EXAMPLE.COM,E\n   ,x@example.com,x@CORP.EXAMPLE.COM,E\n', '')]);
  assert.equal(run.code, 2);
  assert.match(run.stdout, /users\.csv:3:1 {2}error {2}this row has no user name {2}directory\/empty-user/);
});

test('an empty cell is one error for its user: a Kerberos logon name made of it is not judged as well; an account\'s user template is checked too', () => {
  const fleet = fleetWith(CSV_HEADER + 'jdoe,,,E\n',
    'preferences:\n  com.microsoft.MessengerDaemon:\n    EnableKerberosLogin: true\n    UserLogonName: "{{upn}}"\naccounts:\n  - { type: jabber, host: ichat.example.com, authentication: kerberos, user: "{{email}}" }\n');
  const run = mdmgen(['validate', fleet, '--format', 'json']);
  assert.equal(run.code, 2);
  const { diagnostics } = JSON.parse(run.stdout) as { diagnostics: { code: string; severity: string; message: string }[] };
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.message]), [
    ['directory/empty-value', 'user jdoe: UserLogonName uses {{upn}}, but the "userPrincipalName" column is empty'],
    ['directory/empty-value', 'user jdoe: the jabber account\'s user uses {{email}}, but the "mail" column is empty'],
  ]);
});

const CSV = CSV_HEADER + 'jdoe,jdoe@example.com,jdoe@CORP.EXAMPLE.COM,E\nanna,anna@example.com,anna@CORP.EXAMPLE.COM,E\n';
const SENTINEL = 'S3cr3t-SENTINEL-&<>"\'';

test('iChat accounts: Jabber and AIM payloads with Apple\'s keys and defaults, only in per-user profiles', () => {
  const fleet = fleetWith(CSV, `accounts:
  - { type: jabber, host: ichat.example.com, authentication: kerberos, user: "{{user}}@example.com" }
  - { type: aim, host: slogin.oscar.aol.com, user: "{{user}}", password: { env: AIM_PW } }
`);
  const out = join(tempDir(), 'out');
  const run = mdmgen(['build', fleet, '-o', out], { env: { AIM_PW: 'pw' } });
  assert.equal(run.code, 0, run.stderr);
  const profile = untag(loadWithPlistlib(join(out, 'profiles/users/anna.mobileconfig'))) as { PayloadScope: string; PayloadContent: Record<string, unknown>[] };
  assert.equal(profile.PayloadScope, 'User');
  const strip = ({ PayloadUUID, PayloadDescription, ...rest }: Record<string, unknown>) => (assert.match(String(PayloadUUID), /^[0-9A-F-]{36}$/), assert.match(String(PayloadDescription), /10\.14/), rest);
  assert.deepEqual(profile.PayloadContent.map(strip), [
    { PayloadType: 'com.apple.jabber.account', PayloadVersion: 1n, PayloadIdentifier: 'com.example.im.preferences.user.anna.account.jabber.ichat-example-com', PayloadDisplayName: 'Jabber account on ichat.example.com',
      JabberHostName: 'ichat.example.com', JabberUseSSL: false, JabberPort: 5222n, JabberAuthentication: 'JabberAuthKerberos', JabberUserName: 'anna@example.com' },
    { PayloadType: 'com.apple.AIM.account', PayloadVersion: 1n, PayloadIdentifier: 'com.example.im.preferences.user.anna.account.aim.slogin-oscar-aol-com', PayloadDisplayName: 'AIM account on slogin.oscar.aol.com',
      AIMHostName: 'slogin.oscar.aol.com', AIMUseSSL: true, AIMPort: 5190n, AIMAuthentication: 'AIMAuthPassword', AIMUserName: 'anna', AIMPassword: 'pw' },
  ]);
  assert.doesNotMatch(readFileSync(join(out, 'profiles/base.mobileconfig'), 'utf8'), /jabber|AIM/);
});

test('a password is only a reference: literal, Kerberos with one, or a missing variable are errors that never echo a value', () => {
  const literal = mdmgen(['validate', fleetWith(CSV, `accounts:\n  - { type: jabber, host: ichat.example.com, password: "${SENTINEL.replace(/"/g, '\\"')}" }\n`)]);
  assert.equal(literal.code, 2);
  assert.match(literal.stdout, /accounts\[0\]\.password is not valid: A secret is never written in fleet\.yaml/);
  assert.doesNotMatch(literal.stdout + literal.stderr, /SENTINEL/);

  const missing = mdmgen(['build', fleetWith(CSV, 'accounts:\n  - { type: jabber, host: ichat.example.com, password: { env: JABBER_PW } }\n')], { env: { JABBER_PW: '' } });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /fleet\.yaml:11:56 {2}error {2}accounts\[0\]\.password: the environment variable JABBER_PW is empty {2}secret\/missing/);

  const file = fleetWith(CSV, 'accounts:\n  - { type: jabber, host: ichat.example.com, password: { file: no-such-secret } }\n');
  assert.match(mdmgen(['build', file]).stderr, /accounts\[0\]\.password: the file no-such-secret cannot be read {2}secret\/missing/);

  const control = mdmgen(['build', fleetWith(CSV, 'accounts:\n  - { type: jabber, host: ichat.example.com, password: { env: JABBER_PW } }\n')], { env: { JABBER_PW: `${SENTINEL}\u0007` } });
  assert.equal(control.code, 2);
  assert.match(control.stderr, /accounts\[0\]\.password: the environment variable JABBER_PW holds a character a plist cannot carry {2}secret\/invalid/);
  assert.doesNotMatch(control.stdout + control.stderr, /SENTINEL/);
});

test('secrets: the sentinel appears only in the payloads that need it, never in output, logs, manifest or temp files', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'users.csv'), CSV);
  writeFileSync(join(dir, 'pw.txt'), `${SENTINEL}-file\n`);
  const fleet = writeFleet(`${HEADER}directory:\n  file: users.csv\n  columns: { user: sAMAccountName }\naccounts:
  - { type: jabber, host: ichat.example.com, user: "{{user}}", password: { env: JABBER_PW } }
  - { type: aim, host: slogin.oscar.aol.com, password: { file: pw.txt } }
`, dir);
  const env = { JABBER_PW: SENTINEL, TMPDIR: join(dir, 'tmp') };
  const out = join(dir, 'out');
  const good = mdmgen(['build', fleet, '-o', out], { env });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stderr, /secret\/in-profile/);
  assert.match(good.stderr, /2 profiles hold an iChat password in clear text \(a signed profile is not encrypted\): profiles\/users\/anna\.mobileconfig, profiles\/users\/jdoe\.mobileconfig/);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { artifacts: { path: string; containsSecret?: boolean }[] };
  assert.deepEqual(manifest.artifacts.filter((a) => a.containsSecret).map((a) => a.path), ['profiles/users/anna.mobileconfig', 'profiles/users/jdoe.mobileconfig']);
  // A UUID hashed from a password would let whoever holds the manifest test guesses against it: the UUIDs are
  // the same whatever the password.
  const other = join(tempDir(), 'out');
  assert.equal(mdmgen(['build', fleet, '-o', other], { env: { ...env, JABBER_PW: 'another password' } }).code, 0);
  const uuids = (o: string) => (JSON.parse(readFileSync(join(o, 'manifest.json'), 'utf8')) as { artifacts: { path: string; uuid?: string }[] }).artifacts.map((a) => [a.path, a.uuid]);
  assert.deepEqual(uuids(other), uuids(out));

  const holding: string[] = [];
  for (const f of listTree(dir)) {
    const text = readFileSync(join(dir, f), 'utf8');
    if (text.includes('SENTINEL') && f !== 'pw.txt') holding.push(f);
  }
  assert.deepEqual(holding, ['out/profiles/users/anna.mobileconfig', 'out/profiles/users/jdoe.mobileconfig']);
  const jdoe = untag(loadWithPlistlib(join(out, 'profiles/users/jdoe.mobileconfig'))) as { PayloadContent: Record<string, unknown>[] };
  assert.deepEqual(jdoe.PayloadContent.map((p) => p.JabberPassword ?? p.AIMPassword), [SENTINEL, `${SENTINEL}-file`]);
  // Every command and format that reads this fleet, an error path (an output under a file), and a build on
  // threads: none prints the secret.
  const formats = ['stylish', 'json', 'sarif', 'junit', 'csv', 'html'];
  const threaded = join(dir, 'threaded');
  const runs = [
    good,
    ...formats.map((format) => mdmgen(['validate', fleet, '--format', format], { env })),
    ...formats.map((format) => mdmgen(['audit', fleet, out, '--format', format], { env })),
    mdmgen(['build', fleet, '-o', join(dir, 'file.txt', 'x')], { env }),
    mdmgen(['build', fleet, '-o', threaded, '--plist-format', 'binary'], { env: { ...env, MDMGEN_THREADS: '2' } }),
    mdmgen(['verify', join(out, 'profiles/users/jdoe.mobileconfig')], { env }),
  ];
  for (const run of runs) assert.doesNotMatch(run.stdout + run.stderr, /SENTINEL/);
  assert.deepEqual(listTree(threaded).filter((f) => readFileSync(join(threaded, f)).includes('SENTINEL')), ['profiles/users/anna.mobileconfig', 'profiles/users/jdoe.mobileconfig']);
});

test('a template renders exactly as Handlebars renders it (strict, no escaping), without its runtime', async () => {
  const { default: fc } = await import('fast-check');
  const { default: Handlebars } = await import('handlebars');
  const { render, templateProblem } = await import('../src/fleet/templates.js');
  const variables = ['user', 'email', 'upn'];
  const piece = fc.oneof(
    fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\t', '@', '.', '\\', '{', '}', '&', '<', 'é', '😀'), maxLength: 6 }),
    fc.tuple(fc.constantFrom('{{', '{{~', '{{{', '{{~{'), fc.constantFrom(...variables), fc.constantFrom('}}', '~}}')).map(([open, name, close]) => (open.endsWith('{{{') || open === '{{~{' ? `${open}${name}}${close}` : `${open}${name}${close}`)),
  );
  const values = fc.record({ user: fc.string({ maxLength: 8 }), email: fc.string({ maxLength: 8 }), upn: fc.string({ maxLength: 8 }) });
  let compared = 0;
  fc.assert(fc.property(fc.array(piece, { maxLength: 6 }), values, (pieces, row) => {
    const text = pieces.join('');
    if (templateProblem(text, variables) !== undefined) return;
    const reference = Handlebars.create().compile(text, { strict: true, noEscape: true, knownHelpersOnly: true })(row);
    assert.equal(render(text, row), reference, JSON.stringify(text));
    compared++;
  }), { numRuns: 2000 });
  assert.ok(compared > 500, `only ${compared} valid templates compared`);
});

test('the packed directory gives back every row as csv-parse reads it, and finds each user by name as a Mac compares names', async () => {
  const { default: fc } = await import('fast-check');
  const { parse } = await import('csv-parse/sync');
  const { macNameKey } = await import('../src/directory/names.js');
  const text = (minLength: number) => fc.string({ unit: fc.constantFrom('a', 'B', ' ', ',', '"', '\n', '\r\n', 'é', 'ß', '😀', '\u0301'), minLength, maxLength: 8 });
  const names = fc.uniqueArray(text(1).filter((n) => n.trim() !== ''), { selector: macNameKey, maxLength: 40 });
  const quote = (cell: string) => `"${cell.replaceAll('"', '""')}"`;
  fc.assert(fc.property(names, fc.array(fc.tuple(text(0), text(0)), { minLength: 40, maxLength: 40 }), fc.boolean(), (userNames, others, crlf) => {
    const eol = crlf ? '\r\n' : '\n';
    const csv = `mail,notes,sAMAccountName,department${eol}${userNames.map((name, i) => [others[i]![0], 'x', name, others[i]![1]].map(quote).join(',')).join(eol)}${eol}`;
    const { users, diagnostics } = read(csv);
    assert.deepEqual(diagnostics.map((d) => d.code), userNames.length ? [] : ['directory/no-users']);
    const reference = (parse(csv, { columns: true, skip_empty_lines: true }) as Record<string, string>[]).map((r) => [r.sAMAccountName, r.mail, r.department || undefined]);
    assert.deepEqual([...users!].map((u) => [u.name, u.values.email, u.group]), reference);
    assert.equal(users!.size, userNames.length);
    for (const [i, name] of userNames.entries()) {
      assert.deepEqual(users!.get(name), users!.at(i));
      assert.deepEqual(users!.get(name.toUpperCase().normalize('NFD')), users!.at(i), 'the same name to a Mac');
    }
    assert.equal(users!.get(`${userNames[0] ?? ''}x`), undefined);
  }), { numRuns: 300 });
  // fleet.yaml refuses __proto__ as a key (yaml/reserved-key); names of Object's own members are plain variables.
  const odd = readDirectory({ file: 'users.csv', columns: { toString: 'mail', user: 'name', constructor: 'dept' } }, 'users.csv', Buffer.from('name,mail,dept\nbob,b@example.com,E\n'), at);
  assert.deepEqual(Object.entries(odd.users!.at(0).values), [['toString', 'b@example.com'], ['user', 'bob'], ['constructor', 'E']]);
});

test('the CSV reader reads what csv-parse reads, and refuses what it refuses', async () => {
  const { default: fc } = await import('fast-check');
  const { parse } = await import('csv-parse/sync');
  const { readCsv } = await import('../src/directory/csv.js');
  let compared = 0;
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', ',', ';', '\t', '"', '\n', ' ', 'é', '😀'), maxLength: 30 }), fc.boolean(), fc.constantFrom(',', ';', '\t'), (raw, crlf, delimiter) => {
    const text = crlf ? raw.replaceAll('\n', '\r\n') : raw;
    let reference: string[][] | undefined;
    try {
      reference = parse(text, { skip_empty_lines: true, delimiter }) as string[][];
    } catch {
      reference = undefined;
    }
    const records: string[][] = [];
    const error = readCsv(text, (cells) => records.push(cells), delimiter);
    assert.equal(error === undefined, reference !== undefined, `${JSON.stringify(text)}: ${error?.message}`);
    if (reference) {
      assert.deepEqual(records, reference);
      compared++;
    }
  }), { numRuns: 5000 });
  assert.ok(compared > 1000, `only ${compared} readable inputs compared`);
});

test('a broken CSV is refused at the line where the fault is; lines count every break, quoted ones too', async () => {
  const { readCsv } = await import('../src/directory/csv.js');
  const lines: number[] = [];
  assert.equal(readCsv('a,b\r\n\r\n"x\r\ny",1\n\n"p\rq",2\rlast,3', (_, line) => lines.push(line)), undefined);
  assert.deepEqual(lines, [1, 3, 6, 8]);
  const cases: [string, number, RegExp][] = [
    ['a,b\n1,2\n"3,4\n5,6\n', 3, /the quoted field that starts on line 3 is never closed/],
    ['a,b\n1,2\n3,x"y\n', 3, /a field holds a quote but does not start with one/],
    ['a,b\n"1\n2"x,2\n', 3, /a field goes on after its closing quote/],
    ['a,b\n1,2\n\n3\n', 4, /the row on line 4 has 1 fields where the header has 2/],
  ];
  for (const [text, line, message] of cases) {
    const error = readCsv(text, () => undefined);
    assert.equal(error?.line, line, text);
    assert.match(error!.message, message);
  }
  const { diagnostics } = read('sAMAccountName,mail\njdoe,j@example.com,extra\n');
  assert.deepEqual(diagnostics.filter((d) => d.code === 'directory/unreadable').map((d) => [d.code, d.line, d.message]), [['directory/unreadable', 2, 'not a valid CSV file: the row on line 2 has 3 fields where the header has 2']]);
});

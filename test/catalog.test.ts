import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { loadCatalog } from '../src/catalog/catalog.js';
import * as helpers from './helpers/helpers.js';
import { ROOT, SHARED } from './helpers/helpers.js';

const SEED = join(SHARED, 'seeds', '004_b1daf1e14548af26.txt');
// The seed was extracted from a PDF: a capital I became a lower-case L (spec, "errata").
const ERRATA: Record<string, string> = { AutoldleDelay: 'AutoIdleDelay', DontAutoldle: 'DontAutoIdle' };
const TYPES: Record<string, string> = { bool: 'boolean', integer: 'integer', string: 'string', data: 'data' };

interface SeedRow { key: string; type: string; default?: boolean; description: string }

/** Reads the seed's two preference tables exactly as printed: tab-separated rows, some split over two lines. */
function seedTables(): Record<string, SeedRow[]> {
  const text = readFileSync(SEED, 'utf8');
  const tables: Record<string, SeedRow[]> = {};
  const sections = text.split(/The following settings are saved in (com\.microsoft\.\w+)\.plist:/);
  for (let i = 1; i < sections.length; i += 2) {
    const rows: SeedRow[] = [];
    for (const line of sections[i + 1]!.split('\n')) {
      const cells = line.split('\t');
      if (cells.length < 3 || cells[0] === 'Setting') continue;
      if (cells[0] === '') {
        rows.at(-1)!.description += ` ${cells[2]!.trim()}`; // a row the PDF broke across a page
        continue;
      }
      const [, type, dflt] = /^\((\w+)\)(?: Default = (\w+))?$/.exec(cells[1]!)!;
      const names = /^(\w+?)01 - \1?(\w+?)05$/.test(cells[0]!) ? [1, 2, 3, 4, 5].map((n) => cells[0]!.replace(/01 - .*$/, `0${n}`)) : [cells[0]!];
      for (const name of names) {
        rows.push({ key: ERRATA[name] ?? name, type: TYPES[type!]!, ...(dflt && { default: dflt === 'true' }), description: cells[2]!.trim() });
      }
    }
    tables[sections[i]!] = rows;
  }
  return tables;
}

const catalog = loadCatalog();
const tables = seedTables();

test('the seed has the two tables, including the last row without a newline', () => {
  assert.deepEqual(Object.keys(tables).sort(), ['com.microsoft.Messenger', 'com.microsoft.MessengerDaemon']);
  assert.equal(tables['com.microsoft.MessengerDaemon']!.length, 47);
  assert.equal(tables['com.microsoft.Messenger']!.length, 63);
  assert.equal(tables['com.microsoft.Messenger']!.at(-1)!.key, 'UserHasRunMessenger51');
});

for (const [domain, rows] of Object.entries(tables)) {
  test(`${domain}: every key of the seed, with its exact type, and nothing else`, () => {
    const entry = catalog.get(domain);
    assert.ok(entry, `${domain} missing from the catalogue`);
    assert.deepEqual([...entry.keys.keys()].sort(), rows.map((r) => r.key).sort());
    for (const row of rows) assert.equal(entry.keys.get(row.key)!.type, row.type, row.key);
  });

  test(`${domain}: descriptions, defaults and "does not apply" marks as the seed says`, () => {
    const entry = catalog.get(domain)!;
    for (const row of rows) {
      const key = entry.keys.get(row.key)!;
      assert.equal(key.description, row.description, row.key);
      if (row.default !== undefined) assert.equal(key.default, row.default, `${row.key} default`);
      const marked = /does not (currently )?apply|not applicable|^not used$|not used in other cases/i.test(row.description);
      assert.equal(key.status !== 'applies', marked, `${row.key} status ${key.status}`);
    }
  });
}

test('errata: the PDF spellings are not keys, and the MRU ranges are five keys each', () => {
  const daemon = catalog.get('com.microsoft.MessengerDaemon')!;
  assert.ok(!daemon.keys.has('AutoldleDelay') && daemon.keys.has('AutoIdleDelay'));
  assert.equal(daemon.keys.get('AutoIdleDelay')!.default, 5); // "the default is "5""
  const messenger = catalog.get('com.microsoft.Messenger')!;
  assert.deepEqual([...messenger.keys.keys()].filter((k) => k.startsWith('SIPSignInMRU')), ['SIPSignInMRU01', 'SIPSignInMRU02', 'SIPSignInMRU03', 'SIPSignInMRU04', 'SIPSignInMRU05']);
  assert.equal(messenger.keys.get('CountryCode')!.type, 'integer');
  assert.equal(messenger.keys.get('DisallowSave')!.default, false); // "The default setting for DisallowSave is NO"
});

test('integer enumerations carry the seed\'s values', () => {
  const daemon = catalog.get('com.microsoft.MessengerDaemon')!;
  assert.deepEqual(daemon.keys.get('RTCTransport')!.values, { tls: 4, tcp: 2 });
  assert.deepEqual(daemon.keys.get('RTCConfigurationMode')!.values, { manual: 1, automatic: -1 });
  assert.deepEqual(daemon.keys.get('ProxyServerType')!.values, { socks4: 1, socks5: 2, http: 3 });
  assert.deepEqual(catalog.get('com.microsoft.Messenger')!.keys.get('CurrentService')!.values, { personal: 0, corporate: 1 });
});

test('every catalogue file passes schemas/preference-catalogue.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'preference-catalogue.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
  const dir = join(ROOT, 'profiles', 'preferences');
  for (const file of readdirSync(dir)) {
    assert.ok(validate(parse(readFileSync(join(dir, file), 'utf8'))), `${file}: ${JSON.stringify(validate.errors)}`);
  }
});

test('the baked catalogue and port table (dist/generated) are the YAML in profiles/, not a stale copy', async () => {
  const { BAKED_CATALOG, readCatalogSources } = await import('../src/catalog/catalog.js');
  const { BAKED_PORTS, readPortsSource } = await import('../src/catalog/ports.js');
  assert.deepEqual(JSON.parse(readFileSync(BAKED_CATALOG, 'utf8')), readCatalogSources());
  assert.deepEqual(JSON.parse(readFileSync(BAKED_PORTS, 'utf8')), readPortsSource());
});

test('mdmgen schema --jamf: a Jamf Pro manifest of each domain, every key that applies in the guide\'s order, which the plists mdmgen builds satisfy', () => {
  const { mdmgen: run, exampleCopy, loadWithPlistlib, tempDir, untag } = helpers;
  const out = join(tempDir(), 'out');
  assert.equal(run(['build', exampleCopy(), '-o', out]).code, 0);
  for (const [domain, entry] of loadCatalog()) {
    const printed = run(['schema', '--jamf', domain]);
    assert.equal(printed.code, 0, printed.stderr);
    const manifest = JSON.parse(printed.stdout) as { title: string; description: string; properties: Record<string, { title: string; description: string; property_order: number; type: string; enum?: number[]; options?: { enum_titles: string[] } }> };
    assert.equal(manifest.title, `${entry.title} (${domain})`);
    const applying = [...entry.keys.values()].filter((k) => k.status === 'applies' && k.type !== 'data');
    assert.deepEqual(Object.keys(manifest.properties), applying.map((k) => k.name));
    const orders = Object.values(manifest.properties).map((p) => p.property_order);
    assert.deepEqual(orders, [...orders].sort((a, b) => a - b));
    for (const key of applying) {
      const property = manifest.properties[key.name]!;
      assert.equal(property.type, key.type);
      assert.equal(property.description, key.description);
      if (key.values) assert.deepEqual([property.enum, property.options?.enum_titles], [Object.values(key.values), Object.keys(key.values)]);
    }
    // As a JSON Schema (Jamf's own keywords aside), it accepts the plists built for the example, read by CPython.
    const validate = new Ajv({ strict: false }).compile({ type: 'object', properties: manifest.properties });
    for (const group of ['base', 'groups/Engineering', 'groups/Legal']) {
      const plist = JSON.parse(JSON.stringify(untag(loadWithPlistlib(join(out, 'plists', group, `${domain}.plist`))), (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
      assert.ok(validate(plist), `${group} ${domain}: ${JSON.stringify(validate.errors)}`);
    }
    if (domain === 'com.microsoft.MessengerDaemon') assert.equal(validate({ RTCTransport: '4' }), false, 'the string "4" defaults write leaves is refused');
  }
  const unknown = run(['schema', '--jamf', 'com.apple.iChat']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, 'mdmgen: --jamf takes one of the domains the catalogue knows: com.microsoft.Messenger, com.microsoft.MessengerDaemon\n');
});

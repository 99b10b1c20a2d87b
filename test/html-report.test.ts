// The audit's HTML report, opened in headless Chromium (Debian's chromium, which .ci/run installs): what a
// person sees, and that the table sorts and filters with no network.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mdmgen, ROOT, tempDir } from './helpers/helpers.js';

let browser: Browser;
let page: Page;
const requests: string[] = [];

before(async () => {
  const run = mdmgen(['audit', join(ROOT, 'examples/fleet.yaml'), join(ROOT, 'examples/pulled'), '--format', 'html']);
  assert.equal(run.code, 1, run.stderr);
  const file = join(tempDir(), 'report.html');
  writeFileSync(file, run.stdout);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${file}`);
  if (process.env.MDMGEN_SCREENSHOT) await page.screenshot({ path: process.env.MDMGEN_SCREENSHOT, fullPage: true });
});

after(async () => browser?.close());

const rows = () => page.$$eval('#findings tbody tr', (trs) => trs.filter((tr) => !(tr as HTMLElement).hidden).map((tr) => (tr as HTMLElement).innerText.split('\t').map((c) => c.trim())));

test('a person sees the summary, compliance per group and per setting, and every finding', async () => {
  const cards = await page.$$eval('.card', (els) => els.map((e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
  assert.deepEqual(cards, ['17 plists audited', '8 Macs', '8 users', '5 errors', '1 warning', '1 info', 'Not compliant overall']);
  const groups = await page.$$eval('#chart-groups > div', (els) => els.map((e) => (e as HTMLElement).innerText.trim()).filter(Boolean));
  assert.deepEqual(groups, ['Engineering', '100% (8/8)', 'Legal', '50% (3/6)', 'base policy', '50% (2/4)']);
  const settings = await page.$$eval('#chart-settings > div', (els) => els.map((e) => (e as HTMLElement).innerText.trim()).filter(Boolean));
  assert.deepEqual(settings, ['com.microsoft.Messenger: DisallowSave', '75% (6/8)', 'com.microsoft.MessengerDaemon: RTCTransport', '88.9% (8/9)']);
  assert.equal((await rows()).length, 7);
  assert.equal(await page.textContent('#shown'), '7');
  assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'no network request');
});

test('the table filters by text and by severity, and sorts by a column', async () => {
  await page.fill('#filter', 'mchen');
  assert.deepEqual((await rows()).map((r) => r[7]), ['AutoldleDelay is not a com.microsoft.MessengerDaemon key; did you mean AutoIdleDelay?', 'RTCTransport is a string "4", where the policy has the integer tls (4) (defaults write without -int stores a string)']);
  await page.fill('#filter', '');
  await page.uncheck('input.severity[value=error]');
  assert.deepEqual((await rows()).map((r) => r[0]), ['info', 'warning']);
  assert.equal(await page.textContent('#shown'), '2');
  await page.check('input.severity[value=error]');
  await page.click('th[data-col="2"]');
  assert.deepEqual((await rows()).map((r) => r[2]), ['asmith', 'guest', 'jgarcia', 'jgarcia', 'kolsen', 'mchen', 'mchen']);
  await page.click('th[data-col="2"]');
  assert.equal((await rows())[0]![2], 'mchen');
});

test('values from pulled files are escaped, never run as HTML', async () => {
  const dir = tempDir();
  const plist = join(dir, 'MAC-X/Users/eve/Library/Preferences/Microsoft/com.microsoft.Messenger.plist');
  mkdirSync(join(plist, '..'), { recursive: true });
  writeFileSync(plist, '<?xml version="1.0"?>\n<plist version="1.0"><dict><key>&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;</key><string>x</string><key>DisallowSave</key><true/></dict></plist>\n');
  const report = join(dir, 'report.html');
  writeFileSync(report, mdmgen(['audit', join(ROOT, 'examples/fleet.yaml'), dir, '--format', 'html']).stdout);
  const other = await browser.newPage();
  await other.goto(`file://${report}`);
  assert.equal(await other.$$eval('img', (imgs) => imgs.length), 0);
  assert.match(await other.innerText('#findings tbody'), /<img src=x onerror=alert\(1\)><\/script> is not a com\.microsoft\.Messenger key/);
  await other.close();
});

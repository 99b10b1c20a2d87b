import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { exampleCopy, mdmgen } from './helpers/helpers.js';

test('explain: a user\'s settings as rendered for them, each with the line of fleet.yaml that set it, the base policy\'s or their group\'s', () => {
  const fleet = exampleCopy((t) => `${t}\nexemptions:\n  - { user: JGarcia, key: DisallowSave, reason: Legal hold, expires: 2099-12-31 }\n`);
  const lines = readFileSync(fleet, 'utf8').split('\n');
  const lineOf = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l)) + 1;
  const run = mdmgen(['explain', fleet, 'jgarcia']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^jgarcia \(users\.csv line 4\): group Legal \(.*fleet\.yaml:\d+:\d+\)\n/);
  assert.match(run.stdout, new RegExp(`\\n  UserLogonName +forced +"jgarcia@CORP\\.EXAMPLE\\.COM" +base, .*fleet\\.yaml:${lineOf(/^ {4}UserLogonName:/)}:\\d+, from "\\{\\{upn\\}\\}"\\n`));
  const json = JSON.parse(mdmgen(['explain', fleet, 'jgarcia', '--format', 'json']).stdout) as { group: { name: string }; settings: { key: string; origin: { from: string; line: number } }[]; exemptions: unknown[] };
  assert.equal(json.group.name, 'Legal');
  for (const s of json.settings) {
    assert.match(lines[s.origin.line - 1]!, new RegExp(`\\b${s.key}:`), `${s.key} points at the line that sets it`);
    assert.equal(s.origin.from === 'group Legal', s.origin.line > lineOf(/^groups:/), s.key);
  }
  assert.equal(json.exemptions.length, 1, 'the exemption that names the user, as a Mac compares names');

  const unknown = mdmgen(['explain', fleet, 'nobody']);
  assert.match(unknown.stdout, /^nobody is not in the directory: build writes no profile of their own, and audit holds their plists to the base policy\n/);
  const typo = mdmgen(['explain', fleet, '--group', 'Enginering']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /has no group "Enginering"; did you mean "Engineering"\?/);
  assert.equal(mdmgen(['explain', fleet, 'jgarcia', '--group', 'Legal']).code, 2);
});

import { loadCatalog } from '../catalog/catalog.js';
import { suggest } from '../diagnostics/suggest.js';
import { explain as explainPolicy, type Explanation, type Origin } from '../fleet/explain.js';
import { formatters } from '../format/formatters.js';
import { jsonText } from '../format/terminal.js';
import { EXIT, type Io } from './io.js';
import { loadPolicy } from './load.js';

/**
 * `mdmgen explain FLEET [USER] [--group NAME]`: what a user (or a group, or everyone) gets and the line of
 * fleet.yaml each setting comes from. Exit 0; 2 for a fleet.yaml with errors, or a group it does not have.
 */
export async function explain(io: Io, fleetFile: string, userName: string | undefined, options: { group?: string; format: 'text' | 'json' }): Promise<number> {
  const usage = (message: string) => {
    io.stderr(`mdmgen: ${message}\n`);
    return EXIT.usage;
  };
  if (userName !== undefined && options.group !== undefined) return usage('give a user or --group, not both: a user\'s group comes from the directory');
  const loaded = await loadPolicy(io, fleetFile);
  const { fleet, source } = loaded;
  if (!fleet || !source || loaded.diagnostics.some((d) => d.severity === 'error')) {
    io.stderr(formatters.stylish(loaded.diagnostics, { color: io.stderrIsTTY && !io.env.NO_COLOR }));
    return EXIT.usage;
  }
  const group = options.group === undefined ? undefined : fleet.groups.find((g) => g.name === options.group);
  if (options.group !== undefined && !group) {
    const near = suggest(options.group, fleet.groups.map((g) => g.name));
    return usage(`fleet.yaml has no group "${options.group}"${near ? `; did you mean "${near}"?` : ''} (groups: ${fleet.groups.map((g) => g.name).join(', ') || 'none'})`);
  }
  if (userName !== undefined && !loaded.users) return usage('a user is looked up in the directory, and fleet.yaml has no directory section');
  const user = userName === undefined ? undefined : loaded.users!.get(userName);
  const explanation = explainPolicy(fleet, source, loadCatalog(), { ...(user ? { user } : userName !== undefined && { unknownUser: userName }), ...(group && { group }) }, io.now());
  await io.stdout(options.format === 'json' ? jsonText(explanation) : text(explanation, source.file, fleet.directory?.file));
  return EXIT.ok;
}

function text(e: Explanation, fleetFile: string, directoryFile: string | undefined): string {
  const line = (o: Origin) => `${fleetFile}:${o.line}:${o.column}`;
  const at = (o: Origin) => `${o.from}, ${line(o)}`;
  const lines: string[] = [];
  if (e.user && !e.user.known) {
    lines.push(`${e.user.name} is not in the directory: build writes no profile of their own, and audit holds their plists to the base policy`);
  } else {
    const who = e.user ? `${e.user.name} (${directoryFile} line ${e.user.line})` : e.group ? `group ${e.group.name}` : 'the base policy (users in no group fleet.yaml names)';
    lines.push(e.user ? `${who}: ${e.group ? `group ${e.group.name} (${fleetFile}:${e.group.origin.line}:${e.group.origin.column})` : 'no group fleet.yaml names, so the base policy'}` : who);
  }
  const width = Math.max(0, ...e.settings.map((s) => s.key.length));
  const valueWidth = Math.min(40, Math.max(0, ...e.settings.map((s) => s.value.length)));
  let domain = '';
  for (const s of e.settings) {
    if (s.domain !== domain) lines.push((domain = s.domain));
    lines.push(`  ${s.key.padEnd(width)}  ${s.manage.padEnd(6)}  ${s.value.padEnd(valueWidth)}  ${at(s.origin)}${s.template ? `, from ${JSON.stringify(s.template)}` : ''}`);
  }
  if (e.accounts.length) lines.push('accounts');
  for (const a of e.accounts) lines.push(`  ${a.type} ${a.host}${a.user === null ? '' : ` as ${JSON.stringify(a.user)}`}, ${a.authentication}  ${line(a.origin)}`);
  if (e.exemptions.length) lines.push('exemptions in force');
  for (const x of e.exemptions) lines.push(`  ${[x.domain, x.key].filter(Boolean).join(' ') || 'every setting'} until ${x.expires}: ${x.reason}  ${line(x.origin)}`);
  return `${lines.join('\n')}\n`;
}

export type Severity = 'error' | 'warning' | 'info';
export type KeyPath = readonly (string | number)[];

/** One problem, from any stage: YAML parsing, schema, catalogue, cross-key rules, build, audit. */
export interface Diagnostic {
  code: Code;
  severity: Severity;
  /** One sentence, never containing a secret or a whole user value. */
  message: string;
  /** Display path of the file the problem is in. */
  file: string;
  /** 1-based; absent when the problem has no place in a text file. */
  line?: number;
  column?: number;
  /** Byte offset, for inputs that have no lines (invalid UTF-8, binary plists). */
  offset?: number;
  keyPath?: KeyPath;
}

/** Every code mdmgen emits, with its default severity. Codes are stable: users filter on them. */
export const CODES = {
  'io/unreadable': 'error',
  'io/write-failed': 'error',
  'yaml/invalid-utf8': 'error',
  'yaml/too-large': 'error',
  'yaml/syntax': 'error',
  'yaml/duplicate-key': 'error',
  'yaml/multiple-documents': 'error',
  'yaml/alias-limit': 'error',
  'yaml/too-deep': 'error',
  'yaml/integer-out-of-range': 'error',
  'yaml/not-finite': 'error',
  'yaml/ambiguous-octal': 'error',
  'yaml/reserved-key': 'error',
  'yaml/invalid-character': 'error',
  'yaml/unsupported-type': 'error',
  'yaml/warning': 'warning',
  'schema/required': 'error',
  'schema/unknown-key': 'error',
  'schema/type': 'error',
  'schema/value': 'error',
  'pref/type': 'error',
  'pref/not-applicable': 'warning',
  'pref/unchecked-domain': 'warning',
  'pref/domain-case': 'error',
  'rule/port-range-order': 'error',
  'rule/port-range-size': 'error',
  'rule/port-range-incomplete': 'error',
  'rule/port-range-disabled': 'warning',
  'rule/port-conflict': 'error',
  'rule/server-address-required': 'error',
  'rule/kerberos-logon-name': 'error',
  'rule/tcp-with-trust-anchor': 'warning',
  'rule/kerberos-with-password': 'error',
  'rule/template-without-directory': 'error',
  'rule/group-name-collision': 'error',
  'rule/accounts-without-directory': 'error',
  'rule/aim-kerberos': 'error',
  'rule/aim-host': 'warning',
  'rule/duplicate-account': 'error',
  'template/invalid': 'error',
  'directory/unreadable': 'error',
  'directory/unknown-column': 'error',
  'directory/empty-user': 'error',
  'directory/duplicate-user': 'error',
  'directory/unknown-group': 'warning',
  'directory/empty-value': 'error',
  'directory/invalid-character': 'error',
  'directory/lossy-export': 'warning',
  'directory/no-users': 'warning',
  'secret/missing': 'error',
  'secret/invalid': 'error',
  'secret/in-profile': 'warning',
  'rule/signing-identity': 'error',
  'trust/unreadable': 'error',
  'trust/not-ca': 'error',
  'trust/expired': 'error',
  'trust/expiring': 'warning',
  'trust/pin-mismatch': 'error',
  'signing/unreadable': 'error',
  'signing/passphrase': 'error',
  'signing/invalid': 'error',
  'signing/expiring': 'warning',
  'signing/incomplete-chain': 'warning',
  'signing/ca-signer': 'warning',
  'network/dns': 'warning',
  'install-point/program': 'error',
  'build/duplicate-identifier': 'error',
  'exemption/unscoped': 'error',
  'exemption/invalid-date': 'error',
  'exemption/expired': 'warning',
  'audit/unreadable': 'error',
  'audit/missing-key': 'error',
  'audit/missing-plist': 'error',
  'audit/value-mismatch': 'error',
  'audit/type-mismatch': 'error',
  'audit/unknown-key': 'warning',
  'audit/duplicate-key': 'warning',
  'audit/no-plists': 'error',
} as const satisfies Record<string, Severity>;

export type Code = keyof typeof CODES;

const rank: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return rank[severity] >= rank[threshold];
}

export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      compare(a.file, b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      (a.offset ?? 0) - (b.offset ?? 0) ||
      compare(a.code, b.code) ||
      compare(a.message, b.message),
  );
}

/** Drops diagnostics that say the same thing at the same place (a rule can fire once per group). */
export function uniqueDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const id = `${d.file}\0${d.line}\0${d.column}\0${d.code}\0${d.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export function countBySeverity(diagnostics: readonly Diagnostic[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const d of diagnostics) counts[d.severity]++;
  return counts;
}

/** `preferences["com.microsoft.Messenger"].DisallowSave`, `accounts[0].host`. */
export function displayKeyPath(keyPath: KeyPath): string {
  let out = '';
  for (const segment of keyPath) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out || '(document)';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

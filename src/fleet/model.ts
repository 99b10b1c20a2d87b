import type { KeyPath } from '../diagnostics/diagnostic.js';
import type { PlistValue } from '../plist/value.js';

/** forced: Forced; once: Set-Once with mcx_data_timestamp; often: Set-Once without. */
export type Manage = 'forced' | 'once' | 'often';

export interface Setting {
  key: string;
  value: PlistValue;
  manage: Manage;
  /** Where the value was written in fleet.yaml. */
  keyPath: KeyPath;
  /** The value is a string holding a directory template such as {{upn}}. */
  template: boolean;
}

/** Preference domain -> key -> setting, in the order fleet.yaml wrote them. */
export type Policy = ReadonlyMap<string, ReadonlyMap<string, Setting>>;

export interface Group {
  name: string;
  /** File-name and identifier form of the name. */
  slug: string;
  description?: string;
  keyPath: KeyPath;
  /** The base policy with this group's overrides applied. */
  policy: Policy;
}

/** A secret is only ever a reference, resolved at build time. */
export type SecretRef = { env: string } | { file: string };

export interface Account {
  type: 'jabber' | 'aim';
  description?: string;
  host: string;
  port?: number;
  ssl?: boolean;
  authentication: 'kerberos' | 'password';
  /** May hold templates such as {{user}}@example.com. */
  user?: string;
  password?: SecretRef;
  keyPath: KeyPath;
}

export interface DirectorySpec {
  /** As written in fleet.yaml, relative to it. */
  file: string;
  /** Template variable -> CSV header. */
  columns: Readonly<Record<string, string>>;
  /** What separates the fields: a comma unless set. */
  delimiter?: Delimiter;
}

export type Delimiter = ',' | ';' | '\t';

export interface TrustSpec {
  file: string;
  /** Lower-case hex without colons. */
  sha256?: string;
  keyPath: KeyPath;
}

export interface SigningSpec {
  certificate?: string;
  key?: string;
  pkcs12?: string;
  passphrase?: SecretRef;
  chain: readonly string[];
  /** Add a signingTime attribute: the signed bytes then differ on every build. */
  signingTime: boolean;
}

export interface InstallPointSpec {
  /** The expanded program, a file or a folder, relative to fleet.yaml. */
  program: string;
  title: string;
  share?: string;
  archive?: 'zip' | 'tar.gz';
  /** Where the program lives once installed, for uninstall.sh. */
  application: string;
}

export interface NetworkSpec {
  /** Allow the personal (MSN) service's port 1863; blocked by default, as the guide suggests. */
  allowPersonalAccounts: boolean;
  /** TTL of the DNS records, in seconds. */
  ttl: number;
}

export interface Fleet {
  file: string;
  organization: { name: string; identifier: string; domain?: string };
  base: Policy;
  groups: readonly Group[];
  directory?: DirectorySpec;
  accounts: readonly Account[];
  trust: readonly TrustSpec[];
  signing?: SigningSpec;
  installPoint?: InstallPointSpec;
  network: NetworkSpec;
  exemptions: readonly Exemption[];
}

/** Findings the audit leaves out: whose (host, user or group), which (domain, key), why and until when. */
export interface Exemption {
  host?: string;
  user?: string;
  group?: string;
  domain?: string;
  key?: string;
  reason: string;
  /** The last day it applies, YYYY-MM-DD (UTC). */
  expires: string;
  keyPath: KeyPath;
}

/** One row of the directory export. */
export interface User {
  /** The short name: the home folder name on the Mac. */
  name: string;
  /** Template variable -> cell, for every mapped column. */
  values: Readonly<Record<string, string>>;
  /** The group column's value, if mapped and not empty. */
  group?: string;
  /** 1-based line of the row in the CSV. */
  line: number;
}

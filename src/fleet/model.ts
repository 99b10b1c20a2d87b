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

export interface Fleet {
  file: string;
  organization: { name: string; identifier: string; domain?: string };
  base: Policy;
  groups: readonly Group[];
}

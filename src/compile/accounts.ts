import type { Account, User } from '../fleet/model.js';
import { render } from '../fleet/templates.js';
import type { PlistValue } from '../plist/value.js';
import { slugify } from '../fleet/normalize.js';

/**
 * com.apple.jabber.account / com.apple.AIM.account with exactly the keys, types and defaults of Apple's
 * schema (shared/reference/apple-device-management). JabberAuthKerberos is beyond Apple's published
 * rangelist; iChat Server deployments and ProfileManifests use it. Apple removed both payloads in macOS 10.14.
 */
export function accountPayload(account: Account, profileIdentifier: string, user: User, password: string | undefined): Record<string, PlistValue> {
  const jabber = account.type === 'jabber';
  const prefix = jabber ? 'Jabber' : 'AIM';
  const payload: Record<string, PlistValue> = {
    PayloadType: jabber ? 'com.apple.jabber.account' : 'com.apple.AIM.account',
    PayloadVersion: 1,
    PayloadIdentifier: `${profileIdentifier}.account.${account.type}.${slugify(account.host)}`,
    PayloadDisplayName: account.description ?? `${jabber ? 'Jabber' : 'AIM'} account on ${account.host}`,
    PayloadDescription: 'iChat account. Apple removed this payload in macOS 10.14; later Macs ignore it.',
    [`${prefix}HostName`]: account.host,
    [`${prefix}UseSSL`]: account.ssl ?? !jabber,
    [`${prefix}Port`]: account.port ?? (jabber ? 5222 : 5190),
    [`${prefix}Authentication`]: account.authentication === 'kerberos' ? 'JabberAuthKerberos' : `${prefix}AuthPassword`,
  };
  if (account.description !== undefined) payload[`${prefix}AccountDescription`] = account.description;
  if (account.user !== undefined) payload[`${prefix}UserName`] = render(account.user, user.values);
  if (password !== undefined) payload[`${prefix}Password`] = password;
  return payload;
}

/** The payload key that holds an account's password, for hashing a payload without its secret. */
export function passwordKey(account: Account): string {
  return account.type === 'jabber' ? 'JabberPassword' : 'AIMPassword';
}

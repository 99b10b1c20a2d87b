import type { Catalog, PreferenceKey } from '../catalog/catalog.js';

type Schema = Record<string, unknown>;

const REVERSE_DNS = '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))+$';
const HOSTNAME = '^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$';
const text = (description: string, maxLength = 1024): Schema => ({ type: 'string', minLength: 1, maxLength, description });
const path = (description: string): Schema => text(`${description} Relative to fleet.yaml.`, 4096);

/**
 * The fleet.yaml JSON Schema, generated from the preference catalogue so that the two never disagree.
 * schemas/fleet.schema.json is this object as printed by `mdmgen schema`; a test keeps them equal.
 * `forValidation` leaves out the per-key value schemas, which the catalogue checks itself.
 */
export function fleetSchema(catalog: Catalog, { forValidation = false } = {}): Schema {
  const definitions: Record<string, Schema> = {
    manage: {
      enum: ['forced', 'once', 'often'],
      description: 'forced: always this value (default). once: set once, then the user may change it; set again when the value in fleet.yaml changes. often: set at every login (Set-Once without a timestamp).',
    },
    secret: {
      description: 'A secret is never written in fleet.yaml: name an environment variable or a file read at build time.',
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['env'], properties: { env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128, description: 'Environment variable holding the secret.' } } },
        { type: 'object', additionalProperties: false, required: ['file'], properties: { file: path('File holding the secret.') } },
      ],
    },
    preferences: {
      type: 'object',
      description: 'Preference domain -> key -> value. A value is either the value itself (managed as forced) or { value, manage }.',
      propertyNames: { pattern: '^(?:\\.GlobalPreferences|[A-Za-z0-9][A-Za-z0-9._-]*)$', maxLength: 255, description: 'A preference domain is letters, digits, dots, - and _, up to 255 characters (com.microsoft.Messenger).' },
      properties: Object.fromEntries([...catalog.keys()].map((domain) => [domain, { $ref: `#/definitions/${domain}` }])),
      additionalProperties: {
        type: 'object',
        description: 'Any other preference domain (com.apple.iChat, say): passed through to the profile; nothing checks its keys.',
      },
    },
  };
  for (const [domain, entry] of catalog) {
    const description = `${entry.title} (~/${entry.file}), from the Messenger for Mac 5.1 Deployment Guide.`;
    // Validation leaves catalogue keys to the catalogue's typed check (it tells 1 from 1.0, names enumerations
    // and suggests spellings); editors get every key's type from the published schema.
    definitions[domain] = forValidation
      ? { type: 'object', description }
      : {
          type: 'object',
          description,
          additionalProperties: false,
          properties: Object.fromEntries([...entry.keys.values()].map((key) => [key.name, preferenceSchema(key)])),
        };
  }

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'mdmgen fleet policy (fleet.yaml)',
    description: 'One policy for Microsoft Messenger for Mac 5.1 and iChat on a fleet of Macs. See the mdmgen README.',
    type: 'object',
    additionalProperties: false,
    required: ['mdmgen', 'organization'],
    properties: {
      mdmgen: { const: 1, description: 'Format version of this file. Always 1.' },
      organization: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'identifier'],
        description: 'Who publishes the profiles.',
        properties: {
          name: text('Shown as PayloadOrganization on every profile.', 200),
          identifier: { type: 'string', maxLength: 200, pattern: REVERSE_DNS, description: 'Reverse-DNS prefix of every PayloadIdentifier, such as com.example.im. Keep it stable: macOS replaces an installed profile only when the identifier matches.' },
          domain: { type: 'string', maxLength: 253, pattern: HOSTNAME, description: 'DNS zone for the SRV records, such as example.com.' },
        },
      },
      directory: {
        type: 'object',
        additionalProperties: false,
        required: ['file', 'columns'],
        description: 'Who the users are: a CSV exported from Active Directory.',
        properties: {
          file: path('The CSV file.'),
          delimiter: { enum: [',', ';', '\t'], default: ',', description: 'What separates the fields: "," (the default, as Active Directory tools and Export-Csv write), ";" (Excel, and Export-Csv -UseCulture, in locales whose decimal mark is a comma) or "\\t" (a tab).' },
          columns: {
            type: 'object',
            required: ['user'],
            description: 'Template variable -> CSV header. user is the short name; group selects the group overrides.',
            propertyNames: { pattern: '^(?!(?:this|else|true|false|null|undefined)$)[A-Za-z_][A-Za-z0-9_]*$', maxLength: 64, description: 'A variable is letters, digits and _, not starting with a digit, up to 64 characters, as {{variable}} names it, and not {{this}}, {{else}}, {{true}}, {{false}}, {{null}} or {{undefined}}, which a template reads otherwise.' },
            properties: {
              user: text('Header of the short-name column (sAMAccountName): the home folder name on the Mac.', 256),
              email: text('Header of the e-mail column (mail).', 256),
              upn: text('Header of the user principal name column (userPrincipalName).', 256),
              group: text('Header of the column whose value selects the group overrides (department).', 256),
            },
            additionalProperties: { type: 'string', minLength: 1, maxLength: 256 },
          },
        },
      },
      preferences: { $ref: '#/definitions/preferences' },
      accounts: {
        type: 'array',
        maxItems: 100,
        description: 'iChat accounts: com.apple.jabber.account and com.apple.AIM.account payloads.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'host'],
          properties: {
            type: { enum: ['jabber', 'aim'], description: 'jabber or aim.' },
            description: text('Account description shown in iChat.', 256),
            host: { type: 'string', maxLength: 253, pattern: HOSTNAME, description: 'Server host name.' },
            port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Server port (Jabber default 5222, AIM 5190).' },
            ssl: { type: 'boolean', description: 'Connect with SSL.' },
            authentication: { enum: ['kerberos', 'password'], description: 'kerberos writes JabberAuthKerberos; password needs a password reference.' },
            user: text('User name; may use directory templates such as "{{user}}@example.com".', 256),
            password: { $ref: '#/definitions/secret' },
          },
        },
      },
      groups: {
        type: 'object',
        description: 'Overrides by the value of the directory\'s group column. Each group gets its own profile holding the base policy with its overrides.',
        propertyNames: { minLength: 1, maxLength: 128, description: 'A group name is 1 to 128 characters.' },
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          properties: {
            description: text('What the group is, shown in the profile description.', 256),
            preferences: { $ref: '#/definitions/preferences' },
          },
        },
      },
      trust: {
        type: 'array',
        maxItems: 100,
        description: 'CA certificates the Macs must trust (the guide\'s "X509 Anchors").',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['file'],
          properties: {
            file: path('PEM or DER certificate file.'),
            sha256: { type: 'string', pattern: '^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$', maxLength: 95, description: 'Optional SHA-256 fingerprint pin; a mismatch fails the build.' },
          },
        },
      },
      signing: {
        type: 'object',
        additionalProperties: false,
        description: 'Sign every .mobileconfig (CMS SignedData) with this identity.',
        properties: {
          certificate: path('Signer certificate (PEM).'),
          key: path('Signer private key (PEM).'),
          pkcs12: path('Signer identity as PKCS#12, instead of certificate and key.'),
          passphrase: { $ref: '#/definitions/secret' },
          chain: { type: 'array', maxItems: 10, items: path('Intermediate certificate (PEM).') },
          signingTime: { type: 'boolean', description: 'Add a signingTime attribute (default false). The signed bytes then differ on every build.' },
        },
      },
      installPoint: {
        type: 'object',
        additionalProperties: false,
        required: ['program'],
        description: 'The network installation point users copy Messenger from.',
        properties: {
          program: path('The expanded program: a file or a folder, copied as is.'),
          title: text('Product name shown in the user instructions.', 256),
          share: text('Where users find the install point, such as smb://files.example.com/Software/Messenger.', 1024),
          archive: { enum: ['zip', 'tar.gz'], description: 'Also pack the install point as this archive.' },
          application: { type: 'string', minLength: 2, maxLength: 1024, pattern: '^/[^\\u0000]*$', description: 'Where the program lives once installed (default "/Applications/Microsoft Messenger"); uninstall.sh removes it.' },
        },
      },
      exemptions: {
        type: 'array',
        maxItems: 10000,
        description: 'Findings the audit leaves out, each approved for a reason until a date: who (host, user or group), and what (a domain, a key, or all of them).',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['reason', 'expires'],
          properties: {
            host: text('The Mac, as its folder in the pull is named (compared ignoring case).', 255),
            user: text('The user, as their home folder is named (compared as a Mac compares names).', 255),
            group: text('The directory group whose users are exempt.', 256),
            domain: text('The preference domain (com.microsoft.Messenger); every domain if left out.', 255),
            key: text('The preference key (DisallowSave); every key of the domain if left out.', 255),
            reason: text('Why, for whoever reads the policy next (a ticket number, say).', 1024),
            expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', maxLength: 10, description: 'The last day it applies, as YYYY-MM-DD (UTC). After it, the findings come back and validate warns.' },
          },
        },
      },
      network: {
        type: 'object',
        additionalProperties: false,
        description: 'The firewall ports and DNS records build writes.',
        properties: {
          allowPersonalAccounts: { type: 'boolean', description: 'Allow the personal (MSN) service on port 1863. Default false: ports.json marks 1863 "block", as the deployment guide suggests for corporate fleets.' },
          ttl: { type: 'integer', minimum: 60, maximum: 604800, description: 'TTL of the DNS SRV records, in seconds (default 3600).' },
        },
      },
    },
    definitions,
  };
}

function preferenceSchema(key: PreferenceKey): Schema {
  const value = valueSchema(key);
  const notes = [key.description];
  if (key.default !== undefined) notes.push(`Default: ${key.default}.`);
  if (key.values) notes.push(`Names: ${Object.entries(key.values).map(([n, v]) => `${n} = ${v}`).join(', ')}.`);
  if (key.status !== 'applies') notes.push(`The guide marks this key "${key.description}": setting it is a warning.`);
  return {
    description: notes.join(' '),
    anyOf: [
      value,
      { type: 'object', additionalProperties: false, required: ['value'], properties: { value, manage: { $ref: '#/definitions/manage' } } },
    ],
  };
}

function valueSchema(key: PreferenceKey): Schema {
  switch (key.type) {
    case 'boolean':
      return { type: 'boolean' };
    case 'string':
      return { type: 'string', maxLength: 4096 };
    case 'data':
      return { type: 'string', maxLength: 1_000_000, pattern: '^[A-Za-z0-9+/\\s]*={0,2}\\s*$', description: 'Base64-encoded bytes.' };
    case 'integer':
      if (key.values) return { enum: [...Object.values(key.values), ...Object.keys(key.values)] };
      return { type: 'integer', ...(key.minimum !== undefined && { minimum: key.minimum }), ...(key.maximum !== undefined && { maximum: key.maximum }) };
  }
}

import type { PreferenceDomain, PreferenceKey } from './catalog.js';

/**
 * A domain of the catalogue as a Jamf Pro "Application & Custom Settings" JSON Schema manifest (Jamf Pro
 * 10.19 and later: a header with title and description, then each key with title, description,
 * property_order and type; an enumeration as enum with options.enum_titles), so that an admin who edits
 * settings in Jamf's own form gets every key the deployment guide says applies, with its type and names.
 * Keys the guide marks as not applying, and data keys (which JSON cannot carry), are left out.
 */
export function jamfManifest(entry: PreferenceDomain): Record<string, unknown> {
  const keys = [...entry.keys.values()].filter((key) => key.status === 'applies' && key.type !== 'data');
  return {
    title: `${entry.title} (${entry.domain})`,
    description: `Microsoft Messenger for Mac 5.1 preferences in ~/${entry.file}, from the Messenger for Mac 5.1 Deployment Guide. Written by mdmgen.`,
    properties: Object.fromEntries(keys.map((key, index) => [key.name, property(key, (index + 1) * 5)])),
  };
}

function property(key: PreferenceKey, order: number): Record<string, unknown> {
  return {
    title: key.name,
    description: key.description,
    property_order: order,
    type: key.type,
    ...(key.default !== undefined && { default: key.default }),
    ...(key.minimum !== undefined && { minimum: key.minimum }),
    ...(key.maximum !== undefined && { maximum: key.maximum }),
    ...(key.values && { enum: Object.values(key.values), options: { enum_titles: Object.keys(key.values) } }),
  };
}

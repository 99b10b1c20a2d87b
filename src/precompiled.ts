import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type Handlebars from 'handlebars';

/** The templates of templates/, with the options scripts/bake.mjs precompiles each with. */
export const TEMPLATE_OPTIONS = {
  // noEscape: YAML, text and shell scripts, not HTML; strict: a name the template uses but the context
  // lacks is an error, never an empty string in a user's instructions.
  'init/fleet.yaml.hbs': { noEscape: true, strict: true },
  'install-point/admin.txt.hbs': { noEscape: true, strict: true },
  'install-point/install-preferences.sh.hbs': { noEscape: true, strict: true },
  'install-point/read-me.txt.hbs': { noEscape: true, strict: true },
  'install-point/uninstall.sh.hbs': { noEscape: true, strict: true },
  // HTML escaping stays on: every value in the report comes from files pulled from Macs.
  'report/audit.html.hbs': { strict: true },
} as const;

export type TemplateName = keyof typeof TEMPLATE_OPTIONS;

export const BAKED_TEMPLATES = new URL('../generated/templates.cjs', import.meta.url);

const require = createRequire(import.meta.url);

/**
 * A template precompiled at build time, run by Handlebars' runtime in an environment of its own (only the
 * helpers given). Compiling at run time loaded Handlebars' compiler and source-map, 25 to 35 ms before the
 * first template, on every build with an install point and every HTML report.
 */
export function template(name: TemplateName, helpers: Record<string, Handlebars.HelperDelegate> = {}): Handlebars.TemplateDelegate {
  const runtime = (require('handlebars/runtime') as typeof Handlebars).create();
  for (const [helper, fn] of Object.entries(helpers)) runtime.registerHelper(helper, fn);
  const specs = require(fileURLToPath(BAKED_TEMPLATES)) as Record<TemplateName, TemplateSpecification>;
  return runtime.template(specs[name]);
}

type TemplateSpecification = Parameters<typeof Handlebars.template>[0];

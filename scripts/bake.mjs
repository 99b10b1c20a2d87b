// Runs after tsc. Does once, at build time, what would otherwise cost every run: compiles the fleet.yaml
// validator (ajv "standalone", ~50 ms), turns the YAML catalogue and port table into JSON (~70 ms) and
// precompiles the Handlebars templates (so runs load only Handlebars' runtime). Output goes to dist/,
// never to git.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { BAKED_CATALOG, loadCatalog, readCatalogSources } from '../dist/src/catalog/catalog.js';
import { BAKED_PORTS, readPortsSource } from '../dist/src/catalog/ports.js';
import { fleetSchema } from '../dist/src/fleet/schema.js';
import { AJV_OPTIONS } from '../dist/src/fleet/validate-schema.js';
import { BAKED_TEMPLATES, TEMPLATE_OPTIONS } from '../dist/src/precompiled.js';

mkdirSync(new URL('../dist/generated/', import.meta.url), { recursive: true });
writeFileSync(BAKED_CATALOG, JSON.stringify(readCatalogSources()));
writeFileSync(BAKED_PORTS, JSON.stringify(readPortsSource()));

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const validate = ajv.compile(fleetSchema(loadCatalog(), { forValidation: true }));
writeFileSync(new URL('../dist/generated/fleet-validator.cjs', import.meta.url), standaloneCode(ajv, validate));

const specs = Object.entries(TEMPLATE_OPTIONS).map(([name, options]) =>
  `${JSON.stringify(name)}: ${Handlebars.precompile(readFileSync(new URL(`../templates/${name}`, import.meta.url), 'utf8'), options)}`);
writeFileSync(BAKED_TEMPLATES, `module.exports = {\n${specs.join(',\n')}\n};\n`);

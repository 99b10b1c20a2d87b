// Runs after tsc. Does once, at build time, what would otherwise cost every run: compiles the fleet.yaml
// validator (ajv "standalone", ~50 ms) and turns the YAML catalogue and port table into JSON (~70 ms).
// Output goes to dist/, never to git.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { BAKED_CATALOG, loadCatalog, readCatalogSources } from '../dist/src/catalog/catalog.js';
import { BAKED_PORTS, readPortsSource } from '../dist/src/catalog/ports.js';
import { fleetSchema } from '../dist/src/fleet/schema.js';
import { AJV_OPTIONS } from '../dist/src/fleet/validate-schema.js';

mkdirSync(new URL('../dist/generated/', import.meta.url), { recursive: true });
writeFileSync(BAKED_CATALOG, JSON.stringify(readCatalogSources()));
writeFileSync(BAKED_PORTS, JSON.stringify(readPortsSource()));

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const validate = ajv.compile(fleetSchema(loadCatalog(), { forValidation: true }));
writeFileSync(new URL('../dist/generated/fleet-validator.cjs', import.meta.url), standaloneCode(ajv, validate));

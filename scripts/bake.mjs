// Runs after tsc. Compiles the fleet.yaml validator ahead of time (ajv "standalone"), so no run pays
// ajv's ~50 ms schema compile. Output goes to dist/, never to git.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { loadCatalog } from '../dist/src/catalog/catalog.js';
import { fleetSchema } from '../dist/src/fleet/schema.js';
import { AJV_OPTIONS } from '../dist/src/fleet/validate-schema.js';

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const validate = ajv.compile(fleetSchema(loadCatalog(), { forValidation: true }));
mkdirSync(new URL('../dist/generated/', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/generated/fleet-validator.cjs', import.meta.url), standaloneCode(ajv, validate));

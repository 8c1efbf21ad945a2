/** Regenerates schema/scenario.schema.json from the zod schema: `npx tsx scripts/gen-schema.ts`. */
import { writeFileSync } from 'fs';
import { resolve } from 'path';
import { scenarioJsonSchema } from '../src/scenario/json-schema';

const out = resolve(__dirname, '../schema/scenario.schema.json');
writeFileSync(out, scenarioJsonSchema());
console.log(`wrote ${out}`);

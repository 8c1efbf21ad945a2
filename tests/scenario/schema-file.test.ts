/** The published JSON Schema must be what the zod schema generates (`npx tsx scripts/gen-schema.ts`). */
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { scenarioJsonSchema } from '../../src/scenario';

describe('schema/scenario.schema.json', () => {
  it('is up to date with src/scenario/schema.ts', () => {
    const committed = readFileSync(resolve(__dirname, '../../schema/scenario.schema.json'), 'utf8');
    expect(committed).toBe(scenarioJsonSchema());
  });

  it('describes actions once, as a definition shared by every action list', () => {
    const schema = JSON.parse(scenarioJsonSchema()) as { $defs?: Record<string, unknown>; required?: string[] };
    expect(Object.keys(schema.$defs ?? {})).toEqual(['Action']);
    expect(schema.required).toEqual(['name']);
  });
});

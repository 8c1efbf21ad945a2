/**
 * The published JSON Schema of scenario files (schema/scenario.schema.json), generated from the zod
 * schema so the two cannot drift apart; a test checks the committed file against this.
 */
import { z } from 'zod';
import { ScenarioSchema } from './schema';

/** The schema as editors see it: input types (defaults are optional), formatted, newline-terminated. */
export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(ScenarioSchema, { io: 'input', target: 'draft-2020-12' });
  return JSON.stringify(schema, null, 2) + '\n';
}

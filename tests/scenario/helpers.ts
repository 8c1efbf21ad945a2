import { readFileSync } from 'fs';
import { join } from 'path';
import { parseScenario, Scenario, ScenarioError } from '../../src/scenario';

export const FIXTURES = join(__dirname, 'fixtures');

/** Parses a fixture under a short file name, so messages read `name.yaml:L:C: …` in the assertions. */
export function loadFixture(name: string): Scenario {
  return parseScenario(readFileSync(join(FIXTURES, name), 'utf8'), name);
}

/** The `FILE:LINE:COL: message` lines a broken text produces (fails the test if it parses). */
export function errorsOf(text: string, file = 'test.yaml'): string[] {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e.message.split('\n');
    throw e;
  }
  throw new Error(`${file} parsed without errors`);
}

export function fixtureErrors(name: string): string[] {
  return errorsOf(readFileSync(join(FIXTURES, name), 'utf8'), name);
}

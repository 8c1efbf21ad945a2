/**
 * Reading a scenario file: YAML syntax, then the schema, then building and the semantic checks. Every
 * problem found is collected and thrown together as one ScenarioError (SPEC section 1: `FILE:LINE:COL:
 * message`, exit 2). A file with YAML syntax errors stops there: its data is not what the author wrote,
 * so further checks would only add noise.
 */
import { readFileSync } from 'fs';
import { LineCounter, parseDocument } from 'yaml';
import { buildScenario } from './build-scenario';
import { SourcePositions } from './positions';
import { ScenarioDiagnostic, ScenarioError } from './scenario-error';
import type { Scenario } from './scenario-types';
import { ScenarioSchema } from './schema';
import { validateScenario } from './validate-scenario';
import { unresolvedAliases } from './yaml-aliases';
import { collectionKeys, duplicateKeys } from './yaml-keys';
import { IssueMapper } from './zod-issues';

/** yaml's messages end with " at line L, column C:" and a code excerpt; the position is given separately. */
function yamlMessage(message: string): string {
  return (message.split(/ at line \d+, column \d+/)[0] ?? message).trim();
}

export function parseScenario(text: string, file: string): Scenario {
  const lineCounter = new LineCounter();
  // logLevel: yaml's warnings go to process.emitWarning, i.e. to the user's terminal as Node warnings;
  // whatever they are about, the checks here report it as bad input.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false, logLevel: 'error' });
  const positions = new SourcePositions(file, text, doc);
  // What yaml leaves to toJS() (aliases) or checks too slowly (duplicate keys): errors of the text as well.
  const more = unresolvedAliases(doc).map((a) => ({ pos: positions.at(a.range?.[0] ?? 0), message: `YAML: alias '*${a.source}' has no anchor '&${a.source}' before it` }));
  more.push(...duplicateKeys(doc).map((k) => ({ pos: positions.at(k.range?.[0] ?? 0), message: 'YAML: Map keys must be unique' })));
  more.push(...collectionKeys(doc).map((k) => ({ pos: positions.at(k.range?.[0] ?? 0), message: 'YAML: a key here is a name, not a mapping or a sequence' })));
  if (doc.errors.length > 0 || more.length > 0) {
    throw new ScenarioError([
      ...doc.errors.map((e) => ({
        pos: positions.at(e.pos[0]),
        // yaml's own wording for this one tells the user to call a different API.
        message: e.code === 'MULTIPLE_DOCS' ? 'YAML: a scenario file holds one document (a second one starts here)' : `YAML: ${yamlMessage(e.message)}`,
      })),
      ...more,
    ]);
  }
  const raw: unknown = doc.toJS();
  const diagnostics: ScenarioDiagnostic[] = [];
  const result = ScenarioSchema.safeParse(raw);
  if (!result.success) {
    const mapper = new IssueMapper(positions, raw);
    mapper.add(result.error.issues);
    diagnostics.push(...mapper.diagnostics);
  }
  const built = buildScenario(raw, file, positions);
  diagnostics.push(...built.diagnostics, ...validateScenario(built.scenario, built.blocks, built.fields));
  if (diagnostics.length > 0) throw new ScenarioError(diagnostics);
  return built.scenario;
}

export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    // Not `instanceof Error`: errors from Node's fs may come from another realm (e.g. under jest).
    const message = typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e);
    throw new ScenarioError([{ pos: { file: path, line: 1, col: 1 }, message: `cannot read file: ${message}` }]);
  }
  return parseScenario(text, path);
}

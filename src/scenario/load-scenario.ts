/**
 * Reading a scenario file: YAML syntax, then the schema, then building and the semantic checks. Every
 * problem found is collected and thrown together as one ScenarioError (SPEC section 1: `FILE:LINE:COL:
 * message`, exit 2). A file with YAML syntax errors stops there: its data is not what the author wrote,
 * so further checks would only add noise.
 */
import { formatBytes, ReadCappedError, readTextCapped } from '../util/read-capped';
import { MAX_SCENARIO_BYTES } from './input-limits';
import { buildScenario } from './build-scenario';
import { SourcePositions } from './positions';
import { ScenarioDiagnostic, ScenarioError } from './scenario-error';
import type { Scenario } from './scenario-types';
import type { Unwinder } from '../kernel/stack-walk';
import { ScenarioSchema } from './schema';
import { validateScenario } from './validate-scenario';
import { checkMachineFit } from './machine-fit';
import { IssueMapper } from './zod-issues';
import { parseYaml } from './yaml-document';
import { badMergeSources, collectionKeys } from './yaml-keys';

/** yaml's messages end with " at line L, column C:" and a code excerpt; the position is given separately. */
function yamlMessage(message: string): string {
  return (message.split(/ at line \d+, column \d+/)[0] ?? message).trim();
}

/** What a run changes of the scenario that its checks depend on. */
export interface ParseOptions {
  /** The run's CPU count where it overrides the scenario's (`--cpus`): pinned tasks are checked against it. */
  cpus?: number;
  /** The run's unwinder where it overrides the scenario's (`--unwinder`): C is compiled for it (frame pointers or not). */
  unwinder?: Unwinder;
}

export function parseScenario(text: string, file: string, options: ParseOptions = {}): Scenario {
  if (text.length > MAX_SCENARIO_BYTES) {
    // A string from a library caller: counted in UTF-16 units, a file in bytes; either way far too large.
    throw new ScenarioError([
      {
        pos: { file, line: 1, col: 1 },
        message: `scenario too large: more than ${formatBytes(MAX_SCENARIO_BYTES)} (the most klpsim reads)`,
      },
    ]);
  }
  const { doc, problems } = parseYaml(text);
  const positions = new SourcePositions(file, text, doc);
  if (problems.length > 0) throw new ScenarioError(problems.map((p) => ({ pos: positions.at(p.offset), message: p.message })));
  const keyProblems = [
    ...collectionKeys(doc).map((k) => ({
      pos: positions.at(k.range?.[0] ?? 0),
      message: 'YAML: a key here is a name, not a mapping or a sequence',
    })),
    ...badMergeSources(doc).map((v) => ({
      pos: positions.at(v.range?.[0] ?? 0),
      message: "YAML: a merge key ('<<') takes a mapping, an alias of one, or a list of them",
    })),
  ];
  if (keyProblems.length > 0) throw new ScenarioError(keyProblems);
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e) => ({
        pos: positions.at(e.pos[0]),
        // yaml's own wording for this one tells the user to call a different API.
        message:
          e.code === 'MULTIPLE_DOCS'
            ? 'YAML: a scenario file holds one document (a second one starts here)'
            : `YAML: ${yamlMessage(e.message)}`,
      })),
    );
  }
  // Aliases are bounded by parseYaml (MAX_ALIAS_NODES); yaml's own heuristic would refuse some files
  // that are within it, and with an error that has no position.
  const raw: unknown = doc.toJS({ maxAliasCount: -1 });
  // concat, not push(...): a large file can have more problems than a call can take arguments.
  let diagnostics: ScenarioDiagnostic[] = [];
  const result = ScenarioSchema.safeParse(raw);
  if (!result.success) {
    const mapper = new IssueMapper(positions, raw);
    mapper.add(result.error.issues);
    diagnostics = diagnostics.concat(mapper.diagnostics);
  }
  const built = buildScenario(raw, file, positions, options.unwinder);
  diagnostics = diagnostics.concat(
    built.diagnostics,
    validateScenario(built.scenario, built.blocks, built.fields, options.cpus, built.cFailed),
    checkMachineFit(built.scenario, built.blocks, (m, k) => built.fields.pos(m, `param:${k}`, m.pos)),
  );
  if (diagnostics.length > 0) throw new ScenarioError(diagnostics);
  return built.scenario;
}

export function loadScenarioFile(path: string, options: ParseOptions = {}): Scenario {
  let text: string;
  try {
    text = readTextCapped(path, MAX_SCENARIO_BYTES, 'scenario');
  } catch (e) {
    if (!(e instanceof ReadCappedError)) throw e;
    throw new ScenarioError([{ pos: { file: path, line: 1, col: 1 }, message: e.message }]);
  }
  return parseScenario(text, path, options);
}

/** The scenario loader: YAML file -> validated, position-annotated Scenario (SPEC sections 2 and 4). */
export * from './scenario-types';
export { ScenarioError, formatDiagnostic } from './scenario-error';
export type { ScenarioDiagnostic } from './scenario-error';
export { loadScenarioFile, parseScenario } from './load-scenario';
export { parseShellCommand, ShellParseError, SHELL_COMMANDS, GREP_FLAGS } from './shell-command';
export { ScenarioSchema } from './schema';
export { scenarioJsonSchema } from './json-schema';

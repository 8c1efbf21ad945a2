/**
 * klpsim's public library API. Everything else is internal and may change.
 *
 *   const sim = await Simulation.fromFile('scenarios/atomic-replace-nops.yaml', { deterministic: true });
 *   sim.events$.subscribe((ev) => console.log(ev.type));
 *   const { exitCode } = await sim.run();
 */
export { Simulation } from './scenario/simulation';
export type { SimulationOptions, RunResult, StepFailure } from './scenario/simulation';
export { loadScenarioFile, parseScenario, ScenarioError, parseShellCommand, scenarioJsonSchema } from './scenario/index';
export type { Scenario, Step, Action, ModuleDef, TaskDef, CodeBlock, Pos, ShellCommand } from './scenario/scenario-types';
export type { SimEvent, SimEventType, RawEvent } from './kernel/events';

// The machine and the livepatch core, for programs that drive them directly.
export { Machine, SimError } from './coordinator/machine';
export type { MachineOptions, SpawnRequest, TaskHandle } from './coordinator/machine';
export { taskEnded } from './mem/task-struct';
export { Livepatch, DEFAULT_KLP_OPTIONS } from './livepatch/livepatch';
export type { KlpOptions, KlpFault } from './livepatch/klp-state';
export type { KlpPatchDef, KlpObjectDef, KlpFuncDef } from './livepatch/klp-types';
export type { TaskAction } from './kernel/task-program';

// Stress runs (`klpsim stress`): one seed, or many side by side.
export { runStress } from './stress/stress-run';
export type { StressOptions, StressResult, StressProgress, ViolationRecord } from './stress/stress-run';
export { runSeeds } from './stress/pool';
export { shrink } from './stress/shrink';
export type { StressOp, OpKind } from './stress/ops';

// The x86 layer.
export { assemble, AsmError } from './x86/assembler';
export type { AsmResult, AsmOptions, AsmDiagnostic, AsmReloc } from './x86/assembler';
export { Reg, REG64_NAMES } from './x86/registers';
export { FTRACE_SITE_NOP } from './x86/ftrace-site';

/**
 * The limits on what a scenario file may ask of klpsim before it is refused as bad input (exit 2, with
 * the position of what is over). Each bounds a resource that would otherwise grow with the input
 * without bound — memory, time, the JavaScript stack — and each is far above what a real scenario uses.
 */

/**
 * Scenario file size: a scenario with 100 000 five-line functions (a vmlinux's worth of symbols) is
 * about 10 MiB; parsing it takes seconds. Past the limit the file is refused before it is read whole.
 */
export const MAX_SCENARIO_BYTES = 16 << 20;

/**
 * Collections nested inside each other (maps and sequences, aliases expanded): the YAML composer and
 * the checks after it recurse once per level, and the JavaScript stack ends near 800 levels. A scenario
 * nests about 8 deep.
 */
export const MAX_YAML_NESTING = 100;

/**
 * Nodes that aliases add when expanded: an alias is a reference, but every check after parsing walks
 * the data as a tree, so nested aliases ("billion laughs") would cost time exponential in the file's
 * size.
 */
export const MAX_ALIAS_NODES = 100_000;

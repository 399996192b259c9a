/** Builds the `kiln` command tree: global options, then one register function per verb. */
import { Command } from "commander";

type Register = (program: Command) => void;

/**
 * Each verb's module, loaded on demand: a command line names one verb, and loading only
 * that one saves a dozen milliseconds of start-up. In `--help` order.
 */
const VERBS: readonly (readonly [readonly string[], () => Promise<Register>])[] = [
  [["hash"], async () => (await import("./commands/hash.ts")).registerHashCommand],
  [["store"], async () => (await import("./commands/store.ts")).registerStoreCommand],
  [
    ["derivation"],
    async () => (await import("./commands/derivation.ts")).registerDerivationCommand,
  ],
  [["nar"], async () => (await import("./commands/nar.ts")).registerNarCommand],
  [["narinfo"], async () => (await import("./commands/narinfo.ts")).registerNarinfoCommand],
  [["archive"], async () => (await import("./commands/archive.ts")).registerArchiveCommand],
  [["publish"], async () => (await import("./commands/publish.ts")).registerPublishCommand],
  [["gc"], async () => (await import("./commands/gc.ts")).registerGcCommand],
  [["package"], async () => (await import("./commands/package.ts")).registerPackageCommand],
  [["build"], async () => (await import("./commands/build.ts")).registerBuildCommand],
  [
    ["build-users"],
    async () => (await import("./commands/build-users.ts")).registerBuildUsersCommand,
  ],
  [["weather"], async () => (await import("./commands/weather.ts")).registerWeatherCommand],
  [["daemon"], async () => (await import("./commands/daemon.ts")).registerDaemonCommand],
  [["bootstrap"], async () => (await import("./commands/bootstrap.ts")).registerBootstrapCommand],
  [
    ["show", "search", "lint"],
    async () => (await import("./commands/packages.ts")).registerPackageCommands,
  ],
  [["pull"], async () => (await import("./commands/pull.ts")).registerPullCommand],
  [["describe"], async () => (await import("./commands/describe.ts")).registerDescribeCommand],
  [
    ["time-machine"],
    async () => (await import("./commands/time-machine.ts")).registerTimeMachineCommand,
  ],
];

/** Global options that take a value (`--store-dir DIR`). */
const GLOBAL_WITH_VALUE = new Set(["--store-dir", "--real-store-dir", "--state-dir"]);

/** The verb an argument list names, if it is one of ours (global options skipped). */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (GLOBAL_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith("-"))
      return VERBS.some(([names]) => names.includes(arg)) ? arg : undefined;
  }
  return undefined;
}

/**
 * `env` is the process environment, read here at the edge and nowhere below. With `argv`,
 * only the verb it names is loaded (all of them when it names none: `--help`, a typo).
 */
export async function createProgram(
  env: Readonly<Record<string, string | undefined>>,
  argv?: readonly string[],
): Promise<Command> {
  const program = new Command("kiln")
    .description("Kiln: a functional build farm, wire-compatible with Guix and Nix")
    .version("0.1.0")
    .option(
      "--store-dir <dir>",
      "logical store directory, part of every store path (env KILN_STORE_DIR)",
      undefined,
    )
    .option(
      "--real-store-dir <dir>",
      "where the store's files are on disk (env KILN_REAL_STORE_DIR)",
    )
    .option(
      "--state-dir <dir>",
      "state directory holding kiln/db, logs, roots (env KILN_STATE_DIR)",
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  Object.assign(program, { kilnEnv: env });
  const verb = argv === undefined ? undefined : verbOf(argv);
  for (const [names, load] of VERBS)
    if (verb === undefined || names.includes(verb)) (await load())(program);
  exitOverrideEverywhere(program);
  return program;
}

/** Commander errors must not call process.exit: main() turns them into exit codes. */
function exitOverrideEverywhere(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideEverywhere(sub);
}

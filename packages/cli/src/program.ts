/** Builds the `kiln` command tree: global options, then one register function per verb. */
import { Command } from "commander";
import { registerArchiveCommand } from "./commands/archive.ts";
import { registerBootstrapCommand } from "./commands/bootstrap.ts";
import { registerBuildCommand } from "./commands/build.ts";
import { registerBuildUsersCommand } from "./commands/build-users.ts";
import { registerDaemonCommand } from "./commands/daemon.ts";
import { registerDerivationCommand } from "./commands/derivation.ts";
import { registerGcCommand } from "./commands/gc.ts";
import { registerHashCommand } from "./commands/hash.ts";
import { registerNarCommand } from "./commands/nar.ts";
import { registerNarinfoCommand } from "./commands/narinfo.ts";
import { registerPackageCommand } from "./commands/package.ts";
import { registerPackageCommands } from "./commands/packages.ts";
import { registerPublishCommand } from "./commands/publish.ts";
import { registerStoreCommand } from "./commands/store.ts";
import { registerWeatherCommand } from "./commands/weather.ts";

/** `env` is the process environment, read here at the edge and nowhere below. */
export function createProgram(env: Readonly<Record<string, string | undefined>>): Command {
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
  registerHashCommand(program);
  registerStoreCommand(program);
  registerDerivationCommand(program);
  registerNarCommand(program);
  registerNarinfoCommand(program);
  registerArchiveCommand(program);
  registerPublishCommand(program);
  registerGcCommand(program);
  registerPackageCommand(program);
  registerBuildCommand(program);
  registerBuildUsersCommand(program);
  registerWeatherCommand(program);
  registerDaemonCommand(program);
  registerBootstrapCommand(program);
  registerPackageCommands(program);
  exitOverrideEverywhere(program);
  return program;
}

/** Commander errors must not call process.exit: main() turns them into exit codes. */
function exitOverrideEverywhere(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideEverywhere(sub);
}

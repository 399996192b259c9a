/** The `kiln` entry point: parse, run, and turn errors into one line and an exit code. */
import { CommanderError } from "commander";
import { createProgram } from "./program.ts";
import { quietOnBrokenPipe } from "./quiet-broken-pipe.ts";
import { reportError } from "./report-error.ts";

export async function main(argv: string[]): Promise<number> {
  const program = await createProgram(process.env, argv);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help/version text).
      return error.exitCode === 0 ? 0 : 2;
    }
    return reportError(error, process.stderr);
  }
}

quietOnBrokenPipe();

process.exitCode = await main(process.argv.slice(2));

/** `kiln derivation show|check`: read `.drv` files as `nix show-derivation` does, and check them. */
import type { Command } from "commander";
import { configOf } from "../global-config.ts";

export function registerDerivationCommand(program: Command): void {
  const derivation = program.command("derivation").description("inspect derivations (.drv files)");
  derivation
    .command("show")
    .description("print derivations as JSON, like nix show-derivation")
    .argument("<drv...>", ".drv files or .drv store paths")
    .action(async (files: string[], _options: unknown, command: Command) => {
      const { readFileSync } = await import("node:fs");
      const { derivationToJson } = await import("@kiln/formats/derivation-json");
      const { parseDerivation } = await import("@kiln/formats/parse-derivation");
      const { logicalDrvPath, realFile } = await import("../derivation-files.ts");
      const config = configOf(command);
      const out: Record<string, unknown> = {};
      for (const file of files) {
        const drv = parseDerivation(readFileSync(realFile(file, config)));
        Object.assign(out, derivationToJson(logicalDrvPath(file, config), drv));
      }
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
  derivation
    .command("check")
    .description(
      "recompute each derivation's output paths and its own .drv path; report any mismatch",
    )
    .argument(
      "<drv...>",
      ".drv files or .drv store paths; input derivations are read from the store",
    )
    .addHelpText(
      "after",
      "\nExit status: 0 when every derivation checks out, 1 otherwise (one line per problem).\n",
    )
    .action(async (files: string[], _options: unknown, command: Command) => {
      const { FormatError } = await import("@kiln/formats/kiln-error");
      const { checkDerivation, logicalDrvPath, storeDerivationReader } = await import(
        "../derivation-files.ts"
      );
      const config = configOf(command);
      const resolve = storeDerivationReader(config);
      const cache = new Map<string, Uint8Array>();
      let failed = 0;
      for (const file of files) {
        const problems = checkDerivation(file, config, resolve, cache);
        for (const problem of problems) process.stderr.write(`${problem}\n`);
        if (problems.length > 0) failed++;
        else process.stdout.write(`${logicalDrvPath(file, config)}: ok\n`);
      }
      if (failed > 0)
        throw new FormatError(
          "derivation",
          `${failed} of ${files.length} derivations did not check out`,
        );
    });
}

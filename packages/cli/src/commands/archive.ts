/** `kiln archive`: export and import store items, and manage signing keys, as `guix archive`. */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";
import { UsageError } from "../usage-error.ts";
import { type ArchiveKeyFlags, addArchiveKeyOptions, runArchiveKeyVerb } from "./archive-keys.ts";

interface ArchiveOptions extends ArchiveKeyFlags {
  export?: boolean;
  import?: boolean;
  recursive?: boolean;
}

export function registerArchiveCommand(program: Command): void {
  const archive = program
    .command("archive")
    .description("export or import store items; generate, export and authorize signing keys")
    .argument("[path...]", "store paths to export")
    .option(
      "--export",
      "write PATHs in the format nix-store --import and guix archive --import read",
    )
    .option(
      "--import",
      "read an archive (nix-store --export / guix archive --export) and add its items",
    )
    .option("-r, --recursive", "with --export: include the closure of PATHs");
  addArchiveKeyOptions(archive)
    .addHelpText(
      "after",
      "\nExamples:\n  kiln archive --export -r /gnu/store/…-hello > hello.nar\n  kiln archive --import < hello.nar\n  kiln archive --generate-key\n  kiln archive --export-key --format nix\n  kiln archive --authorize < other-farm.pub\n",
    )
    .action(async (paths: string[], options: ArchiveOptions, command: Command) => {
      const { configDir } = configOf(command);
      const io = {
        configDir,
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
      };
      if (await runArchiveKeyVerb(options, io)) return;
      if (Boolean(options.export) === Boolean(options.import))
        throw new UsageError("give exactly one of --export or --import");
      const config = configOf(command);
      if (options.export) {
        if (paths.length === 0) throw new UsageError("--export needs at least one store path");
        const { exportPaths } = await import("@kiln/store/export-paths");
        await withStore(config, (store) =>
          pipeline(
            Readable.from(exportPaths(store, paths, { recursive: options.recursive })),
            process.stdout,
          ),
        );
        return;
      }
      if (paths.length > 0)
        throw new UsageError("--import reads standard input and takes no paths");
      const { importPaths } = await import("@kiln/store/import-paths");
      const imported = await withStore(config, (store) => importPaths(store, process.stdin));
      for (const path of imported) process.stdout.write(`${path}\n`);
    });
}

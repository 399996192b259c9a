/** `kiln store …`: store-level verbs. Today: `path`, the store path content would get. */
import { createReadStream, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { configOf } from "../global-config.ts";
import { UsageError } from "../usage-error.ts";

interface StorePathOptions {
  method: string;
  algo: string;
  ref: string[];
  name?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerStoreCommand(program: Command): void {
  const store = program.command("store").description("operate on the store");
  store
    .command("path")
    .description("print the store path FILE's content would get, without writing anything")
    .argument("<file>", "the file or directory")
    .option(
      "--method <method>",
      "text (like builtins.toFile), flat (file bytes) or recursive (NAR)",
      "recursive",
    )
    .option(
      "--algo <algorithm>",
      "hash algorithm for flat and recursive: sha256, sha512, sha1, md5",
      "sha256",
    )
    .option(
      "--ref <path>",
      "a store path the content refers to (text, recursive sha256); repeatable",
      collect,
      [],
    )
    .option("--name <name>", "the store path's name (default: FILE's base name)")
    .addHelpText(
      "after",
      "\nExamples:\n  kiln store path --method recursive ./src          # as nix-store --add\n  kiln store path --method flat --algo sha1 f.tar    # as a flat fixed-output derivation\n",
    )
    .action(async (file: string, options: StorePathOptions, command: Command) => {
      const { parseHashAlgorithm } = await import("@kiln/formats/hash");
      const { hashPath } = await import("@kiln/formats/hash-path");
      const { hashStream } = await import("@kiln/formats/hash-stream");
      const { makeFixedOutputPath, makeTextPath } = await import("@kiln/formats/make-store-path");
      const { storeDir } = configOf(command);
      const name = options.name ?? basename(resolve(file));
      const algorithm = parseHashAlgorithm(options.algo);
      let path: string;
      switch (options.method) {
        case "text":
          if (algorithm !== "sha256") throw new UsageError("text store paths always use sha256");
          path = makeTextPath(name, readFileSync(file), { references: options.ref, storeDir });
          break;
        case "flat":
          if (options.ref.length > 0)
            throw new UsageError("flat fixed-output paths cannot have references");
          path = makeFixedOutputPath({
            method: "flat",
            hash: await hashStream(createReadStream(file), algorithm),
            name,
            storeDir,
          });
          break;
        case "recursive":
          if (options.ref.length > 0 && algorithm !== "sha256") {
            throw new UsageError("only recursive sha256 paths can have references");
          }
          path = makeFixedOutputPath({
            method: "recursive",
            hash: (await hashPath(file, algorithm)).hash,
            name,
            references: options.ref,
            storeDir,
          });
          break;
        default:
          throw new UsageError(
            `unknown method ${JSON.stringify(options.method)}`,
            "use text, flat or recursive",
          );
      }
      process.stdout.write(`${path}\n`);
    });
}

/** `kiln store …`: store-level verbs. Today: `path`, the store path content would get. */
import { createReadStream, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { configOf } from "../global-config.ts";
import { withStore } from "../open-store.ts";
import { takeNarHashThread } from "../prewarm.ts";
import { withStoreView } from "../store-view.ts";
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

  store
    .command("add")
    .description(
      "add files or trees to the store and print their store paths (as nix-store --add / --add-fixed)",
    )
    .argument("<path...>", "files or directories to add")
    .option(
      "--fixed <algorithm>",
      "content-address with this algorithm (sha256, sha512, sha1, md5); flat unless --recursive",
    )
    .option("--recursive", "with --fixed: hash the NAR serialisation rather than a file's bytes")
    .option("--name <name>", "store path name (default: each PATH's base name)")
    .addHelpText(
      "after",
      "\nWithout --fixed, PATH is added as nix-store --add does: recursive sha256.\nA path that is already valid is not rewritten.\n",
    )
    .action(
      async (
        paths: string[],
        options: { fixed?: string; recursive?: boolean; name?: string },
        command: Command,
      ) => {
        const { parseHashAlgorithm } = await import("@kiln/formats/hash");
        const algorithm = parseHashAlgorithm(options.fixed ?? "sha256");
        const method = options.fixed === undefined || options.recursive ? "recursive" : "flat";
        if (options.name !== undefined && paths.length > 1)
          throw new UsageError("--name takes a single PATH");
        // Trees are hashed on two threads; the thread was started before the CLI loaded.
        const thread = takeNarHashThread();
        const { NarHashWorker } = await import("@kiln/formats/nar-hash-worker");
        const worker = thread ? new NarHashWorker(thread) : undefined;
        const hashTree =
          worker && ((path: string, algo: typeof algorithm) => worker.hashPath(path, algo));
        try {
          await withStoreView(configOf(command), async (store) => {
            for (const path of paths) {
              const added = await store.addToStore(path, {
                method,
                algorithm,
                name: options.name,
                hashTree,
              });
              process.stdout.write(`${added}\n`);
            }
          });
        } finally {
          await worker?.close();
        }
      },
    );
  store
    .command("path-info")
    .description("show what the store knows about valid paths (as nix path-info)")
    .argument("<path...>", "store paths")
    .option("--json", "print JSON like nix path-info --json")
    .option("-r, --recursive", "include the closure of each path")
    .option("-s, --size", "print the NAR size of each path")
    .action(
      async (
        paths: string[],
        options: { json?: boolean; recursive?: boolean; size?: boolean },
        command: Command,
      ) => {
        const { parseHash, toBase64 } = await import("@kiln/formats/hash");
        await withStoreView(configOf(command), async (store) => {
          const selected = options.recursive ? await store.requisites(paths) : paths;
          const infos = await Promise.all(selected.map((path) => store.pathInfo(path)));
          if (options.json) {
            const json = infos.map((info) => {
              const hash = parseHash(info.narHash);
              return {
                path: info.path,
                narHash: `${hash.algorithm}-${toBase64(hash.digest)}`,
                narSize: info.narSize,
                references: info.references,
                ...(info.ca ? { ca: info.ca } : {}),
                ...(info.deriver ? { deriver: info.deriver } : {}),
                registrationTime: info.registrationTime,
                ...(info.ultimate ? { ultimate: true } : {}),
                ...(info.sigs.length > 0 ? { signatures: info.sigs } : {}),
              };
            });
            process.stdout.write(`${JSON.stringify(json)}\n`);
            return;
          }
          for (const info of infos) {
            process.stdout.write(
              options.size
                ? `${info.path}\t${String(info.narSize).padStart(11)}\n`
                : `${info.path}\n`,
            );
          }
        });
      },
    );
  store
    .command("verify")
    .description(
      "check the store: every valid path present (and intact with --check-contents); clear crash leftovers",
    )
    .option("--check-contents", "recompute every path's NAR hash")
    .option("--repair", "make broken paths that nothing refers to invalid")
    .addHelpText(
      "after",
      "\nExit status: 0 when the store is consistent, 1 when something is missing or corrupted.\n",
    )
    .action(async (options: { checkContents?: boolean; repair?: boolean }, command: Command) => {
      const { verifyStore } = await import("@kiln/store/verify-store");
      const { KilnError } = await import("@kiln/formats/kiln-error");
      const report = await withStore(configOf(command), (store) => verifyStore(store, options));
      for (const path of report.removed) process.stderr.write(`removed leftover ${path}\n`);
      for (const path of report.missing) process.stderr.write(`path ${path} disappeared\n`);
      for (const line of report.corrupted) process.stderr.write(`path ${line}\n`);
      for (const path of report.repaired)
        process.stderr.write(`repaired: ${path} is no longer valid\n`);
      process.stdout.write(
        `checked ${report.checked} paths: ${report.clean ? "store is clean" : "store has problems"}\n`,
      );
      if (!report.clean)
        throw new KilnError("ERR_STORE_CORRUPT", "the store is not consistent", {
          hint: "run with --repair",
        });
    });
}

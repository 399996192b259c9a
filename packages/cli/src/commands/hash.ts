/** `kiln hash`: as `guix hash`, the hash of files, flat or over their NAR serialisation. */
import { createReadStream } from "node:fs";
import type { Hash, HashEncoding } from "@kiln/formats/hash";
import type { Command } from "commander";
import { takeNarHashThread } from "../prewarm.ts";
import { UsageError } from "../usage-error.ts";

/** Guix's names for the output formats, plus SRI. */
const FORMATS: Record<string, HashEncoding> = {
  "nix-base32": "nix32",
  base32: "nix32",
  base16: "base16",
  hex: "base16",
  hexadecimal: "base16",
  base64: "base64",
  sri: "sri",
};

interface HashOptions {
  serializer: string;
  format: string;
  hash: string;
  recursive?: boolean;
}

export function registerHashCommand(program: Command): void {
  program
    .command("hash")
    .description("print the cryptographic hash of each FILE (of its NAR serialisation with -S nar)")
    .argument("<file...>", "files or directories to hash")
    .option(
      "-S, --serializer <type>",
      "how to read FILE: 'none' (its bytes) or 'nar' (its NAR serialisation)",
      "none",
    )
    .option(
      "-f, --format <fmt>",
      "output format: nix-base32, base32, base16, hex, base64 or sri",
      "nix-base32",
    )
    .option("-H, --hash <algorithm>", "hash algorithm: sha256, sha512, sha1 or md5", "sha256")
    .option("-r, --recursive", "same as -S nar (deprecated in Guix, kept for scripts)")
    .addHelpText(
      "after",
      "\nExample:\n  kiln hash -S nar ./src       # the hash 'nix hash path --base32' prints\n",
    )
    .action(async (files: string[], options: HashOptions) => {
      // Imported when run, so `kiln --help` and other verbs do not pay for loading them.
      const { formatDigest, parseHashAlgorithm } = await import("@kiln/formats/hash");
      const { hashPath } = await import("@kiln/formats/hash-path");
      const { hashStream } = await import("@kiln/formats/hash-stream");
      const encoding = FORMATS[options.format];
      if (!encoding)
        throw new UsageError(
          `unknown hash format ${JSON.stringify(options.format)}`,
          `use one of ${Object.keys(FORMATS).join(", ")}`,
        );
      const algorithm = parseHashAlgorithm(options.hash);
      const serializer = options.recursive ? "nar" : options.serializer;
      if (serializer !== "none" && serializer !== "nar") {
        throw new UsageError(
          `unsupported serializer ${JSON.stringify(serializer)}`,
          "use -S none or -S nar",
        );
      }
      // A NAR hash of a big tree runs on two threads (walk here, hash there); the thread
      // was started before the CLI loaded (see prewarm.ts).
      const thread = serializer === "nar" ? takeNarHashThread() : undefined;
      const { NarHashWorker } = await import("@kiln/formats/nar-hash-worker");
      const worker = thread ? new NarHashWorker(thread) : undefined;
      try {
        for (const file of files) {
          const hash: Hash =
            serializer === "nar"
              ? (await (worker ? worker.hashPath(file, algorithm) : hashPath(file, algorithm))).hash
              : await hashStream(createReadStream(file), algorithm);
          process.stdout.write(`${formatDigest(hash, encoding)}\n`);
        }
      } finally {
        await worker?.close();
      }
    });
}

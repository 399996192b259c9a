/** `kiln narinfo verify`: check narinfo signatures (Nix `Sig:` or Guix `Signature:`) against given keys. */
import { readFileSync } from "node:fs";
import { KilnError } from "@kiln/formats/kiln-error";
import type { TrustedKey } from "@kiln/formats/verify-narinfo";
import type { Command } from "commander";
import { UsageError } from "../usage-error.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerNarinfoCommand(program: Command): void {
  const narinfo = program.command("narinfo").description("work with narinfo files");
  narinfo
    .command("verify")
    .description(
      "check that each NARINFO carries a valid signature from one of the given public keys",
    )
    .argument("<narinfo...>", "narinfo files")
    .option(
      "--key <file>",
      "a public key file: Nix 'name:base64' or a Guix S-expression (or acl); repeatable",
      collect,
      [],
    )
    .addHelpText(
      "after",
      "\nExit status: 0 only when every narinfo is validly signed; otherwise one line per failure.\n",
    )
    .action(async (files: string[], options: { key: string[] }) => {
      const { parseTrustedKeys, verifyNarinfo } = await import("@kiln/formats/verify-narinfo");
      if (options.key.length === 0)
        throw new UsageError("no --key given", "pass --key FILE with a trusted public key");
      const keys: TrustedKey[] = options.key.flatMap((file) =>
        parseTrustedKeys(readFileSync(file, "utf8")),
      );
      let failed = 0;
      for (const file of files) {
        // A narinfo names its own store directory (its StorePath); the fingerprint uses that.
        const result = verifyNarinfo(readFileSync(file, "utf8"), keys);
        if (result.valid) {
          process.stdout.write(`${file}: valid (${result.validBy.join(", ")})\n`);
        } else {
          failed++;
          process.stderr.write(`${file}: ${result.failures.join("; ") || "no signature"}\n`);
        }
      }
      if (failed > 0)
        throw new KilnError(
          "ERR_SIGNATURE",
          `${failed} of ${files.length} narinfos are not validly signed`,
        );
    });
}

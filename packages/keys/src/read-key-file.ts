/** Reads a key file, turning a missing or unreadable file into a KeysError with a hint. */
import { readFileSync } from "node:fs";
import { KeysError } from "./keys-error.ts";

export function readKeyFile(file: string, what: "public" | "secret"): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new KeysError("MISSING", `no ${what} key at ${file}`, {
        cause,
        hint: "generate a key pair with `kiln archive --generate-key`",
      });
    }
    throw new KeysError("UNREADABLE", `cannot read the ${what} key ${file} (${code})`, {
      cause,
      hint: what === "secret" ? "the secret key is mode 0400: run as its owner" : undefined,
    });
  }
}

/**
 * The key verbs of `kiln archive`, as in `guix archive`: `--generate-key`,
 * `--export-key --format nix|guix` and `--authorize`. The archive command adds these
 * options with `addArchiveKeyOptions` and hands its flags to `runArchiveKeyVerb` first.
 */

import { join } from "node:path";
import { type Command, Option } from "commander";
import { UsageError } from "../usage-error.ts";

export interface ArchiveKeyFlags {
  generateKey?: boolean;
  exportKey?: boolean;
  authorize?: boolean;
  format?: "nix" | "guix";
  publicKey?: string;
  privateKey?: string;
  keyName?: string;
  acl?: string;
  /** The archive command's own verbs, which the key verbs exclude. */
  export?: boolean;
  import?: boolean;
}

export interface ArchiveKeyIo {
  /** The configuration directory (CliConfig.configDir), where the default files live. */
  readonly configDir: string;
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Adds the key options to the archive command; returns it for chaining. */
export function addArchiveKeyOptions(command: Command): Command {
  return command
    .option("--generate-key", "generate the signing key pair (refuses to overwrite one)")
    .option("--export-key", "print the public key, for clients to trust")
    .option(
      "--authorize",
      "add the public key on standard input (Guix S-expression or Nix name:base64) to the ACL",
    )
    .addOption(
      new Option("--format <format>", "with --export-key: nix (name:base64) or guix (S-expression)")
        .choices(["nix", "guix"])
        .default("nix"),
    )
    .option("--public-key <file>", "public key file (default: CONFIG_DIR/signing-key.pub)")
    .option(
      "--private-key <file>",
      "secret key file, written mode 0400 (default: CONFIG_DIR/signing-key.sec)",
    )
    .option(
      "--key-name <name>",
      "with --export-key --format nix: the key name (default kiln-<hostname>-1)",
    )
    .addHelpText(
      "after",
      "\nKeys: CONFIG_DIR is /etc/kiln, or $KILN_CONFIG_DIR.\n  kiln archive --generate-key\n  kiln archive --export-key --format nix   # for Nix's trusted-public-keys\n  kiln archive --authorize < farm-signing-key.pub\n",
    )
    .option("--acl <file>", "with --authorize: the ACL file (default: CONFIG_DIR/acl)");
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Runs the key verb named by `flags`, if any; returns false when there is none (the
 * archive command then goes on with --export or --import).
 */
export async function runArchiveKeyVerb(
  flags: ArchiveKeyFlags,
  io: ArchiveKeyIo,
): Promise<boolean> {
  const verbs = [flags.generateKey, flags.exportKey, flags.authorize].filter(Boolean).length;
  if (verbs === 0) return false;
  if (verbs > 1 || flags.export || flags.import) {
    throw new UsageError(
      "give one of --generate-key, --export-key, --authorize, --export or --import",
    );
  }
  const publicKeyFile = flags.publicKey ?? join(io.configDir, "signing-key.pub");
  if (flags.generateKey) {
    const { generateKeyPair } = await import("@kiln/keys/generate-key-pair");
    const secretKeyFile = flags.privateKey ?? join(io.configDir, "signing-key.sec");
    generateKeyPair({ publicKeyFile, secretKeyFile });
    io.stderr.write(`kiln: wrote ${secretKeyFile} and ${publicKeyFile}\n`);
  } else if (flags.exportKey) {
    const { readPublicKey } = await import("@kiln/keys/read-public-key");
    const { exportPublicKey } = await import("@kiln/keys/export-public-key");
    const text = exportPublicKey(readPublicKey(publicKeyFile), flags.format ?? "nix", {
      name: flags.keyName,
    });
    io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  } else {
    const { authorizeKey } = await import("@kiln/keys/authorize-key");
    const aclFile = flags.acl ?? join(io.configDir, "acl");
    const text = await readAll(io.stdin);
    if (text.trim() === "")
      throw new UsageError("--authorize reads a public key on standard input");
    const { added } = authorizeKey(aclFile, text);
    if (!added) io.stderr.write(`kiln: the key is already in ${aclFile}\n`);
  }
  return true;
}

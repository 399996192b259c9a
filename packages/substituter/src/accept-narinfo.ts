/**
 * The trust decision for one narinfo, kept pure so every refusal is a unit test: a
 * narinfo may tell us how to fetch a store path only if a trusted key signed it and it
 * is really about that path in our store directory.
 */
import { FormatError } from "@kiln/formats/kiln-error";
import type { Narinfo } from "@kiln/formats/narinfo";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { type TrustedKey, verifyNarinfo } from "@kiln/formats/verify-narinfo";

/** The verdict: the parsed narinfo and what vouched for it, or why it was refused. */
export type NarinfoAcceptance =
  | { readonly accepted: true; readonly narinfo: Narinfo; readonly validBy: readonly string[] }
  | { readonly accepted: false; readonly reason: string };

export interface AcceptNarinfoOptions {
  /** The store path we asked for. */
  readonly path: string;
  /** Our logical store directory. */
  readonly storeDir: string;
  readonly trustedKeys: readonly TrustedKey[];
}

/**
 * Accepts a narinfo text for `path` only when it parses for `storeDir`, names `path` as
 * its StorePath, has a SHA-256 NarHash (what the store checks), and carries a valid Nix
 * `Sig:` or Guix `Signature:` from a trusted key. A Guix signature covers only the text
 * before it, so when that is all that vouches for the narinfo, nothing may follow it.
 * @example acceptNarinfo(text, { path, storeDir: "/nix/store", trustedKeys }).accepted // true
 */
export function acceptNarinfo(text: string, options: AcceptNarinfoOptions): NarinfoAcceptance {
  const refuse = (reason: string): NarinfoAcceptance => ({ accepted: false, reason });
  let narinfo: Narinfo;
  try {
    narinfo = parseNarinfo(text, { storeDir: options.storeDir });
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    return refuse(`malformed narinfo (${error.message})`);
  }
  if (narinfo.storePath !== options.path) {
    return refuse(`the narinfo is for ${narinfo.storePath}, not ${options.path}`);
  }
  if (narinfo.narHash.algorithm !== "sha256") {
    return refuse(`its NarHash is ${narinfo.narHash.algorithm}, not sha256`);
  }
  const verification = verifyNarinfo(text, options.trustedKeys, { storeDir: options.storeDir });
  if (!verification.valid) {
    return refuse(
      `no valid signature from a trusted key (${verification.failures.join("; ") || "no signature"})`,
    );
  }
  if (verification.validBy.every((by) => by.startsWith("Signature ")) && textAfterSignature(text)) {
    return refuse("lines follow the Signature: line, which does not cover them");
  }
  return { accepted: true, narinfo, validBy: verification.validBy };
}

function textAfterSignature(text: string): boolean {
  const start = text.startsWith("Signature:") ? 0 : text.indexOf("\nSignature:") + 1;
  const end = text.indexOf("\n", start);
  return end >= 0 && end + 1 < text.length;
}

/**
 * The fingerprint Nix signs for a store path (`ValidPathInfo::fingerprint`):
 * `1;<storePath>;<narHash as sha256:nix32>;<narSize>;<full reference paths, sorted, comma-separated>`.
 */
import { formatHashNix32 } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import type { Narinfo } from "./narinfo.ts";

/**
 * Computes the fingerprint. References are full store paths; pass `storeDir` when they
 * are base names as in a `Narinfo`. Like Nix, refuses a NAR hash that is not SHA-256
 * and an unknown (zero) NAR size.
 * @example narinfoFingerprint(parseNarinfo(text), { storeDir: "/nix/store" })
 * // "1;/nix/store/94f9…-simple;sha256:04zw…0dqw;120;"
 */
export function narinfoFingerprint(
  info: Pick<Narinfo, "storePath" | "narHash" | "narSize" | "references">,
  options: { storeDir?: string } = {},
): string {
  if (info.narHash.algorithm !== "sha256") {
    throw new FormatError("narinfo", `cannot sign ${info.storePath}: its NAR hash is not SHA-256`);
  }
  if (info.narSize === 0) {
    throw new FormatError("narinfo", `cannot sign ${info.storePath}: its NAR size is not known`);
  }
  const references = info.references.map((ref) => {
    if (options.storeDir !== undefined) return `${options.storeDir}/${ref}`;
    if (!ref.startsWith("/")) {
      throw new FormatError(
        "narinfo",
        `reference ${JSON.stringify(ref)} is not a full store path`,
        {
          hint: "pass { storeDir } when references are base names",
        },
      );
    }
    return ref;
  });
  references.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `1;${info.storePath};${formatHashNix32(info.narHash)};${info.narSize};${references.join(",")}`;
}

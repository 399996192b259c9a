/** The URL groups of a narinfo: where each compression of the nar is served. */
import { parseHash } from "@kiln/formats/hash";
import type { NarinfoUrl } from "@kiln/formats/narinfo";
import type { PathInfo } from "@kiln/store/path-info";
import type { Compression, CompressionMethod } from "./compression.ts";

/**
 * The URL of a nar, as guix publish writes it: `<narPath>/<method>/<basename>`, or
 * `<narPath>/<basename>` uncompressed. The store item's name, not a file hash.
 */
export function narUrl(narPath: string, method: CompressionMethod, baseName: string): string {
  return method === "none" ? `${narPath}/${baseName}` : `${narPath}/${method}/${baseName}`;
}

/** File facts of a baked (compressed ahead of time) nar. */
export interface BakedNar {
  readonly fileHash: NarinfoUrl["fileHash"];
  readonly fileSize: number;
}

/**
 * One group per compression, in the order given. The uncompressed nar's size and hash
 * are the NAR's own; a compressed one's are known only once baked.
 */
export function narGroups(
  info: PathInfo,
  compressions: readonly Compression[],
  options: { narPath: string; baked?: ReadonlyMap<CompressionMethod, BakedNar> },
): NarinfoUrl[] {
  const baseName = info.path.slice(info.path.lastIndexOf("/") + 1);
  return compressions.map(({ method }) => {
    const url = narUrl(options.narPath, method, baseName);
    if (method === "none") {
      return {
        url,
        compression: "none",
        fileHash: parseHash(info.narHash),
        fileSize: info.narSize,
      };
    }
    const baked = options.baked?.get(method);
    return baked ? { url, compression: method, ...baked } : { url, compression: method };
  });
}

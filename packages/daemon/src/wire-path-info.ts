/**
 * ValidPathInfo on the wire: the deriver ("" when unknown), the NAR hash in bare
 * base16, references, registration time and NAR size; from protocol 1.16 Nix adds
 * `ultimate`, signatures and the content address. Guix's client reads only the first
 * five fields, whatever the version.
 */
import { formatHashNix32, parseHash, toHex } from "@kiln/formats/hash";
import type { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import type { PathInfo } from "@kiln/store/path-info";
import type { WireFormat } from "./wire-format.ts";

/** Store paths, names and signatures are short; refuse anything longer. */
export const MAX_PATH_LENGTH = 4096;

function hasExtendedFields(format: WireFormat): boolean {
  return format.dialect === "nix" && format.minor >= 16;
}

/** Appends a path's info; with `includePath`, the path first (as AddToStore answers). */
export function writePathInfo(
  out: FrameWriter,
  info: PathInfo,
  format: WireFormat,
  options: { includePath?: boolean } = {},
): void {
  if (options.includePath) out.string(info.path);
  out
    .string(info.deriver ?? "")
    .string(toHex(parseHash(info.narHash, "sha256").digest))
    .strings(info.references)
    .u64(info.registrationTime)
    .u64(info.narSize);
  if (hasExtendedFields(format)) {
    out
      .bool(info.ultimate)
      .strings(info.sigs)
      .string(info.ca ?? "");
  }
}

/** Reads a path's info written by writePathInfo; `path` is given when not included. */
export async function readPathInfo(
  reader: FrameReader,
  format: WireFormat,
  options: { path?: string } = {},
): Promise<PathInfo> {
  const path = options.path ?? (await reader.string(MAX_PATH_LENGTH));
  const deriver = await reader.string(MAX_PATH_LENGTH);
  const narHash = formatHashNix32(parseHash(await reader.string(256), "sha256"));
  const references = await reader.strings(MAX_PATH_LENGTH);
  const registrationTime = await reader.u64();
  const narSize = await reader.u64();
  let ultimate = false;
  let sigs: string[] = [];
  let ca: string | undefined;
  if (hasExtendedFields(format)) {
    ultimate = await reader.bool();
    sigs = await reader.strings(MAX_PATH_LENGTH);
    const text = await reader.string(MAX_PATH_LENGTH);
    ca = text === "" ? undefined : text;
  }
  return {
    path,
    narHash,
    narSize,
    references,
    ...(deriver === "" ? {} : { deriver }),
    registrationTime,
    ultimate,
    sigs,
    ...(ca === undefined ? {} : { ca }),
  };
}

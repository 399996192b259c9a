/**
 * Writes a `Narinfo` as text, in the exact line order of Nix (`NarInfo::to_string`) or
 * of `guix publish` (`narinfo-string`). Kiln signs for both worlds in one file: Nix
 * `Sig:` lines come before Guix's `Signature:`, which is always last because it covers
 * the text above it.
 */
import { formatHashNix32 } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import type { Narinfo, NarinfoFlavour, NarinfoUrl } from "./narinfo.ts";

/** Byte order, as C++ `std::set<std::string>` sorts. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort(byteOrder);
}

function groupLines(group: NarinfoUrl, fileSize: boolean): string {
  let text = `URL: ${group.url}\nCompression: ${group.compression}\n`;
  if (group.fileHash) text += `FileHash: ${formatHashNix32(group.fileHash)}\n`;
  if (fileSize && group.fileSize !== undefined) text += `FileSize: ${group.fileSize}\n`;
  return text;
}

function singleGroup(narinfo: Narinfo, flavour: NarinfoFlavour): NarinfoUrl {
  if (narinfo.urls.length !== 1) {
    throw new FormatError(
      "narinfo",
      `a ${flavour} narinfo has exactly one URL, this one has ${narinfo.urls.length}`,
      { hint: 'print it with { flavour: "guix" } to keep several compressions' },
    );
  }
  return narinfo.urls[0];
}

/** The lines after the references and the deriver/system pair, shared by all flavours. */
function trailer(narinfo: Narinfo, sigs: readonly string[]): string {
  let text = "";
  for (const sig of sigs) text += `Sig: ${sig}\n`;
  if (narinfo.ca !== undefined) text += `CA: ${narinfo.ca}\n`;
  if (narinfo.signature !== undefined) text += `Signature: ${narinfo.signature}\n`;
  return text;
}

/**
 * Prints a narinfo. `nix` sorts references and signatures as Nix's sets do and keeps
 * `References: ` with its trailing space when empty; `guix` writes every URL group,
 * then System before Deriver, as `guix publish` does.
 * @example printNarinfo(parseNarinfo(text), { flavour: "nix" }) === text // for Nix's own output
 */
export function printNarinfo(narinfo: Narinfo, options: { flavour: NarinfoFlavour }): string {
  const { flavour } = options;
  const head = `StorePath: ${narinfo.storePath}\n`;
  const nar = `NarHash: ${formatHashNix32(narinfo.narHash)}\nNarSize: ${narinfo.narSize}\n`;
  const system = narinfo.system === undefined ? "" : `System: ${narinfo.system}\n`;
  const deriver = narinfo.deriver === undefined ? "" : `Deriver: ${narinfo.deriver}\n`;

  if (flavour === "nix") {
    const references = `References: ${sortedUnique(narinfo.references).join(" ")}\n`;
    const group = groupLines(singleGroup(narinfo, flavour), true);
    return (
      head +
      group +
      nar +
      references +
      deriver +
      system +
      trailer(narinfo, sortedUnique(narinfo.sigs))
    );
  }
  const references = `References: ${narinfo.references.join(" ")}\n`;
  if (flavour === "guix-legacy") {
    const group = singleGroup(narinfo, flavour);
    const fileSize = group.fileSize === undefined ? "" : `FileSize: ${group.fileSize}\n`;
    return (
      head +
      groupLines(group, false) +
      nar +
      references +
      fileSize +
      system +
      deriver +
      trailer(narinfo, narinfo.sigs)
    );
  }
  if (narinfo.urls.length === 0) throw new FormatError("narinfo", "a narinfo needs a URL");
  const groups = narinfo.urls.map((group) => groupLines(group, true)).join("");
  return head + groups + nar + references + system + deriver + trailer(narinfo, narinfo.sigs);
}

/**
 * Reads narinfo text of either flavour into a `Narinfo`.
 *
 * Nix rules (nar-info.cc): `Key: value` lines ending in `\n`; unknown keys are ignored;
 * a missing or empty `Compression` means bzip2; StorePath, URL, NarHash and a non-zero
 * NarSize are mandatory; `Deriver: unknown-deriver` means none; an empty `CA:` or
 * `System:` means none. Guix rules (narinfo.scm): URL, Compression, FileHash and
 * FileSize may repeat, one group per compression. Kiln is stricter than both about
 * duplicated single-valued keys, so that what a signature covers cannot be read two ways.
 */
import { type Hash, parseHash } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";
import type { Narinfo, NarinfoUrl } from "./narinfo.ts";
import { parseStorePath } from "./store-path.ts";

const SINGLE_KEYS = new Set([
  "StorePath",
  "NarHash",
  "NarSize",
  "References",
  "Deriver",
  "System",
  "CA",
  "Signature",
]);
const CONTENT_ADDRESS = /^(?:text:(sha256):|fixed:(?:r:)?(md5|sha1|sha256|sha512):)(.*)$/;

function fail(message: string, options: { hint?: string; cause?: unknown } = {}): never {
  throw new FormatError("narinfo", message, options);
}

function parseNumber(key: string, value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) {
    fail(`${key} ${JSON.stringify(value)} is not a non-negative integer`);
  }
  return n;
}

function parseHashField(key: string, value: string): Hash {
  try {
    return parseHash(value);
  } catch (cause) {
    fail(`${key} ${JSON.stringify(value)} is not a valid hash`, { cause });
  }
}

function checkBaseName(key: string, baseName: string, storeDir: string): void {
  try {
    parseStorePath(`${storeDir}/${baseName}`, storeDir);
  } catch (cause) {
    fail(`${key} ${JSON.stringify(baseName)} is not a store path base name`, { cause });
  }
}

function parseContentAddress(value: string): string | undefined {
  if (value === "") return undefined;
  const match = CONTENT_ADDRESS.exec(value);
  if (!match) fail(`CA ${JSON.stringify(value)} is not text:sha256:… or fixed:[r:]<algo>:…`);
  parseHashField("CA", `${match[1] ?? match[2]}:${match[3]}`);
  return value;
}

const GROUP_KEYS = new Set(["URL", "Compression", "FileHash", "FileSize"]);

interface Lines {
  /** Values of the other keys, in order. */
  readonly fields: Map<string, string[]>;
  /** One record per URL line with the Compression/FileHash/FileSize lines that belong to it. */
  readonly groups: Map<string, string>[];
}

/**
 * Splits the text into `Key: value` lines. A Compression, FileHash or FileSize line
 * belongs to the closest URL line above it (or to the first URL when it comes before
 * any): Nix writes one URL, `guix publish` writes groups, and 2017's guix publish put
 * FileSize after References.
 */
function readLines(text: string): Lines {
  if (text.length > 0 && !text.endsWith("\n")) fail("the last line does not end with a newline");
  const fields = new Map<string, string[]>();
  const groups: Map<string, string>[] = [];
  const early = new Map<string, string>();
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((line, index) => {
    const separator = line.indexOf(": ");
    const key = line.slice(0, separator);
    if (separator <= 0 || /[:\s]/.test(key)) {
      fail(`line ${index + 1} is not of the form "Key: value": ${JSON.stringify(line)}`);
    }
    const value = line.slice(separator + 2);
    if (GROUP_KEYS.has(key)) {
      if (key === "URL") groups.push(new Map());
      const group = groups.length === 0 ? early : groups[groups.length - 1];
      if (group.has(key)) fail(`two ${key} lines for one URL (line ${index + 1})`);
      group.set(key, value);
      return;
    }
    const values = fields.get(key) ?? [];
    if (values.length > 0 && SINGLE_KEYS.has(key))
      fail(`duplicate ${key} line (line ${index + 1})`);
    values.push(value);
    fields.set(key, values);
  });
  for (const [key, value] of groups.length === 0 ? [] : early) {
    if (groups[0].has(key)) fail(`two ${key} lines for one URL`);
    groups[0].set(key, value);
  }
  return { fields, groups };
}

function storeDirOf(storePath: string): string {
  const slash = storePath.lastIndexOf("/");
  if (slash <= 0) fail(`StorePath ${JSON.stringify(storePath)} is not an absolute store path`);
  return storePath.slice(0, slash);
}

function readUrl(group: Map<string, string>): NarinfoUrl {
  const url = group.get("URL")!;
  if (url === "") fail("empty URL");
  const fileHash = group.get("FileHash");
  const fileSize = group.get("FileSize");
  return {
    url,
    compression: group.get("Compression") || "bzip2",
    ...(fileHash === undefined ? {} : { fileHash: parseHashField("FileHash", fileHash) }),
    ...(fileSize === undefined ? {} : { fileSize: parseNumber("FileSize", fileSize) }),
  };
}

/**
 * Parses a narinfo of either flavour. `storeDir` (e.g. `/nix/store`) is checked against
 * StorePath; without it, the directory of StorePath is used.
 * @example parseNarinfo(text, { storeDir: "/nix/store" }).narSize // 120
 */
export function parseNarinfo(text: string, options: { storeDir?: string } = {}): Narinfo {
  const { fields, groups } = readLines(text);
  const one = (key: string) => fields.get(key)?.[0];

  const storePath = one("StorePath");
  if (storePath === undefined) fail("missing StorePath line");
  const storeDir = options.storeDir ?? storeDirOf(storePath);
  try {
    parseStorePath(storePath, storeDir);
  } catch (cause) {
    fail(`StorePath ${JSON.stringify(storePath)} is not a store path in ${storeDir}`, { cause });
  }

  const narHashText = one("NarHash");
  if (narHashText === undefined) fail("missing NarHash line");
  const narSizeText = one("NarSize");
  if (narSizeText === undefined) fail("missing NarSize line");
  const narSize = parseNumber("NarSize", narSizeText);
  if (narSize === 0) fail("NarSize must not be 0");

  const references = (one("References") ?? "").split(" ").filter((ref) => ref !== "");
  for (const ref of references) checkBaseName("reference", ref, storeDir);

  const deriverText = one("Deriver");
  const deriver = deriverText === "unknown-deriver" ? undefined : deriverText;
  if (deriver !== undefined) checkBaseName("Deriver", deriver, storeDir);

  if (groups.length === 0) fail("missing URL line");
  const urls = groups.map(readUrl);
  const system = one("System") || undefined;
  const ca = parseContentAddress(one("CA") ?? "");
  const signature = one("Signature");

  return {
    storePath,
    urls,
    narHash: parseHashField("NarHash", narHashText),
    narSize,
    references,
    ...(deriver === undefined ? {} : { deriver }),
    ...(system === undefined ? {} : { system }),
    sigs: fields.get("Sig") ?? [],
    ...(signature === undefined ? {} : { signature }),
    ...(ca === undefined ? {} : { ca }),
  };
}

/**
 * Test fixtures: the binary caches made by real Nix 2.8 (none, xz, zstd, bzip2), the key
 * that signed them, scratch copies to tamper with, and scratch Kiln stores.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { narinfoFingerprint } from "@kiln/formats/narinfo-fingerprint";
import { signNix } from "@kiln/formats/nix-signature";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { parseTrustedKeys, type TrustedKey } from "@kiln/formats/verify-narinfo";
import { LocalStore } from "@kiln/store/local-store";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const keys = JSON.parse(readFileSync(join(FIXTURES, "keys.json"), "utf8"));

export const COMPRESSIONS = ["none", "xz", "zstd", "bzip2"] as const;

/** The Nix secret key (`test-1:…`) that signed the fixture caches. */
export const TEST_SECRET_KEY: string = keys.testCache.secretKey;
/** Its public key, as trusted keys. */
export const TEST_KEYS: TrustedKey[] = parseTrustedKeys(keys.testCache.publicKey);
/** A real Guix-signed narinfo and its farm's public key. */
export const GUIX_NARINFO: { narinfo: string; publicKey: string } = keys.guixNarinfo;

/** The fixture cache directory of one compression (read-only: copy it to change it). */
export function fixtureCache(compression: string): string {
  return join(FIXTURES, "cache", compression);
}

/** Every store path the fixture caches hold (the same in each). */
export function fixturePaths(compression = "none"): string[] {
  return readdirSync(fixtureCache(compression))
    .filter((name) => name.endsWith(".narinfo"))
    .map((name) => narinfoOf(compression, name).storePath)
    .sort();
}

function narinfoOf(compression: string, name: string) {
  return parseNarinfo(readFileSync(join(fixtureCache(compression), name), "utf8"));
}

/** A scratch directory removed when `dispose` is called. */
export function scratchDir(prefix: string): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), `kiln-substituter-${prefix}-`));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A writable copy of a fixture cache under `dir`. */
export function copyCache(compression: string, dir: string): string {
  const target = join(dir, `cache-${compression}`);
  cpSync(fixtureCache(compression), target, { recursive: true });
  return target;
}

/** A fresh Kiln store with logical directory /nix/store kept under `dir`. */
export function scratchStore(dir: string, name = "kiln"): LocalStore {
  return LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(dir, name, "store"),
    stateDir: join(dir, name, "state"),
  });
}

/** Replaces the `Sig:` lines of a narinfo text by a fresh signature over its (possibly edited) fields. */
export function resign(text: string, secretKey = TEST_SECRET_KEY): string {
  const unsigned = text.replace(/^Sig: .*\n/gm, "");
  const info = parseNarinfo(unsigned);
  const storeDir = info.storePath.slice(0, info.storePath.lastIndexOf("/"));
  return `${unsigned}Sig: ${signNix(secretKey, narinfoFingerprint(info, { storeDir }))}\n`;
}

/** The path of `storePath`'s narinfo file in a cache directory. */
export function narinfoFile(cacheDir: string, storePath: string): string {
  return join(
    cacheDir,
    `${storePath.slice("/nix/store/".length, "/nix/store/".length + 32)}.narinfo`,
  );
}

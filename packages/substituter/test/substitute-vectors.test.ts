/**
 * Substitutes every path of the binary caches made by real Nix 2.8 (none, xz, zstd and
 * bzip2 compression, signed with Nix `Sig:` lines), served over HTTP and read through
 * file://, into scratch Kiln stores, and checks what the store then holds against the
 * narinfos: NAR hash of the files on disk, size, references, deriver, CA, signatures.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { formatHashNix32 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import type { LocalStore } from "@kiln/store/local-store";
import { type DownloadProgress, Substituter } from "../src/index.ts";
import {
  COMPRESSIONS,
  fixtureCache,
  fixturePaths,
  narinfoFile,
  scratchDir,
  scratchStore,
  TEST_KEYS,
} from "./fixtures.ts";
import { serveDirectory } from "./serve-directory.ts";

const scratch = scratchDir("vectors");
after(() => scratch.dispose());

async function checkStoreAgainstCache(store: LocalStore, cacheDir: string, paths: string[]) {
  for (const path of paths) {
    const narinfo = parseNarinfo(readFileSync(narinfoFile(cacheDir, path), "utf8"));
    const info = store.queryPathInfo(path);
    assert.ok(info, `${path} is valid`);
    const onDisk = await hashPath(store.realPath(path));
    assert.equal(formatHashNix32(onDisk.hash), formatHashNix32(narinfo.narHash), path);
    assert.equal(onDisk.narSize, narinfo.narSize);
    assert.equal(info.narHash, formatHashNix32(narinfo.narHash));
    assert.deepEqual(
      info.references,
      narinfo.references.map((reference) => `/nix/store/${reference}`).sort(),
    );
    assert.equal(info.deriver, narinfo.deriver && `/nix/store/${narinfo.deriver}`);
    assert.equal(info.ca, narinfo.ca);
    assert.deepEqual(info.sigs, narinfo.sigs);
    assert.equal(info.ultimate, false);
  }
}

for (const compression of COMPRESSIONS) {
  test(`every path of the ${compression} cache made by Nix substitutes over HTTP`, async () => {
    const cacheDir = fixtureCache(compression);
    const server = await serveDirectory(cacheDir);
    const store = scratchStore(scratch.dir, compression);
    const progress: DownloadProgress[] = [];
    const substituter = new Substituter({
      store,
      urls: [server.url],
      trustedKeys: TEST_KEYS,
      onProgress: (event) => progress.push(event),
    });
    try {
      const paths = fixturePaths(compression);
      assert.equal(paths.length, 13);
      const result = await substituter.substitutePaths(paths);
      assert.deepEqual(result.failed, new Map());
      assert.deepEqual([...result.substituted].sort(), paths);
      await checkStoreAgainstCache(store, cacheDir, paths);
      // The closure is complete: the store's own view agrees.
      assert.deepEqual(store.requisites(paths), paths);
      // Each download reported its end with the whole file.
      const ends = progress.filter((event) => event.done);
      assert.equal(ends.length, paths.length);
      for (const end of ends) assert.equal(end.received, end.total);
      // Substituting again asks nothing: the paths are valid.
      const before = server.requests.length;
      const again = await substituter.substitutePaths(paths);
      assert.deepEqual(again.substituted, []);
      assert.equal(server.requests.length, before);
    } finally {
      substituter.close();
      store.close();
      await server.close();
    }
  });
}

test("a file:// cache substitutes a closure from its top path", async () => {
  const cacheDir = fixtureCache("zstd");
  const store = scratchStore(scratch.dir, "file-url");
  const substituter = new Substituter({
    store,
    urls: [pathToFileURL(cacheDir).href],
    trustedKeys: TEST_KEYS,
    cacheFile: null,
  });
  try {
    // `-depends` refers to `-multi-dev`, which refers to `-multi-lib`: one request, three paths.
    const top = fixturePaths("zstd").find((path) => path.endsWith("-depends"))!;
    const result = await substituter.substitutePaths([top]);
    assert.deepEqual(result.failed, new Map());
    const closure = store.requisites([top]);
    assert.ok(closure.length >= 3, closure.join(" "));
    assert.deepEqual([...result.substituted].sort(), closure);
    await checkStoreAgainstCache(store, cacheDir, closure);
    // Nothing but the store paths themselves is left in the store directory.
    assert.deepEqual(
      readdirSync(join(store.config.realStoreDir)).sort(),
      closure.map((path) => path.slice("/nix/store/".length)),
    );
  } finally {
    substituter.close();
    store.close();
  }
});

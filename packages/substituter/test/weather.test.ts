/** `checkWeather` against served copies of the Nix-made caches: counts, sizes, timings, refusals. */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { checkWeather } from "../src/index.ts";
import {
  copyCache,
  fixtureCache,
  fixturePaths,
  narinfoFile,
  resign,
  scratchDir,
  TEST_KEYS,
} from "./fixtures.ts";
import { serveDirectory } from "./serve-directory.ts";

const scratch = scratchDir("weather");
after(() => scratch.dispose());

const ABSENT = "/nix/store/00000000000000000000000000000000-absent";

test("weather counts what each server has, its sizes and its response times", async () => {
  const paths = [...fixturePaths("xz"), ABSENT];
  const full = await serveDirectory(fixtureCache("xz"));
  // A slower cache missing two paths, one narinfo re-signed by nobody we trust.
  const partialDir = copyCache("zstd", join(scratch.dir, "partial"));
  rmSync(narinfoFile(partialDir, paths[0]));
  rmSync(narinfoFile(partialDir, paths[1]));
  const unsigned = narinfoFile(partialDir, paths[2]);
  writeFileSync(unsigned, readFileSync(unsigned, "utf8").replace(/^Sig: .*\n/m, ""));
  const partial = await serveDirectory(partialDir, {
    delay: (path) => (path.endsWith(".narinfo") ? 30 : 0),
  });
  const otherStoreDir = copyCache("none", join(scratch.dir, "gnu"));
  writeFileSync(join(otherStoreDir, "nix-cache-info"), "StoreDir: /gnu/store\n");
  const gnu = await serveDirectory(otherStoreDir);
  const progress: string[] = [];
  try {
    const [a, b, c] = await checkWeather(paths, {
      urls: [full.url, `${partial.url}/`, gnu.url],
      storeDir: "/nix/store",
      trustedKeys: TEST_KEYS,
      concurrency: 4,
      onProgress: ({ url, done, total }) => progress.push(`${url} ${done}/${total}`),
    });
    const narinfos = paths
      .slice(0, -1)
      .map((path) => parseNarinfo(readFileSync(narinfoFile(fixtureCache("xz"), path), "utf8")));
    assert.equal(a.url, full.url);
    assert.deepEqual(a.available, paths.slice(0, -1));
    assert.deepEqual(a.missing, [ABSENT]);
    assert.equal(a.signed, 13);
    assert.equal(a.priority, 50);
    assert.equal(
      a.narSize,
      narinfos.reduce((sum, info) => sum + info.narSize, 0),
    );
    assert.equal(
      a.fileSize,
      narinfos.reduce((sum, info) => sum + info.urls[0].fileSize!, 0),
    );
    assert.equal(a.fileSizeKnown, 13);
    assert.equal(a.requestTimes.length, paths.length);
    assert.equal(a.failedRequests, 0);

    assert.equal(b.url, partial.url, "the URL is normalised");
    assert.deepEqual(b.missing, [paths[0], paths[1], ABSENT]);
    assert.equal(b.available.length, 11);
    assert.equal(b.signed, 10, "the unsigned narinfo counts as available, not as signed");
    assert.ok(Math.min(...b.requestTimes) >= 29, `${Math.min(...b.requestTimes)} ms`);
    assert.ok(b.elapsed < b.requestTimes.reduce((sum, time) => sum + time, 0), "in parallel");

    assert.equal(c.error, `binary cache ${gnu.url} is for store /gnu/store, not /nix/store`);
    assert.deepEqual(c.available, []);
    assert.equal(c.missing.length, paths.length);
    assert.equal(progress.at(-1), `${partial.url} 14/14`);
    assert.ok(progress.includes(`${full.url} 0/14`));
  } finally {
    await full.close();
    await partial.close();
    await gnu.close();
  }
});

test("weather counts a narinfo for another path as invalid, and a server error as a failed request", async () => {
  const dir = copyCache("none", join(scratch.dir, "bad"));
  const [first, second] = fixturePaths("none");
  writeFileSync(narinfoFile(dir, first), resign(readFileSync(narinfoFile(dir, second), "utf8")));
  const server = await serveDirectory(dir, {
    respond: (path) => (path === `/${second.slice(11, 43)}.narinfo` ? { status: 500 } : undefined),
  });
  try {
    const [report] = await checkWeather([first, second], {
      urls: [server.url],
      storeDir: "/nix/store",
    });
    assert.deepEqual(report.available, []);
    assert.deepEqual(report.missing, [first, second]);
    assert.equal(report.invalid, 1);
    assert.equal(report.failedRequests, 1);
    assert.equal(report.signed, undefined, "no keys, no signature count");
  } finally {
    await server.close();
  }
});

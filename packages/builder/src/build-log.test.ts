import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { buildLogPath, openBuildLog } from "./build-log.ts";
import { readBuildLog } from "./read-build-log.ts";

const DRV = "/gnu/store/ab1cd2ef3gh4ij5kl6mn7pq8rs9vwxyz-hello-2.12.drv";
const OUT = "/gnu/store/zz1cd2ef3gh4ij5kl6mn7pq8rs9vwxyz-hello-2.12";

function scratch(t: { after: (fn: () => void) => void }) {
  const stateDir = mkdtempSync(join(tmpdir(), "kiln-log-test-"));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  return { stateDir };
}

const noDb = { queryPathInfo: () => undefined };

test("logs are kept gzip'ed where guix-daemon keeps them, and read back whole", async (t) => {
  const config = scratch(t);
  assert.equal(
    buildLogPath(config, DRV),
    join(config.stateDir, "kiln/log/drvs/ab/1cd2ef3gh4ij5kl6mn7pq8rs9vwxyz-hello-2.12.drv.gz"),
  );
  const seen: string[] = [];
  const log = openBuildLog(config, DRV, {
    tee: (chunk) => seen.push(Buffer.from(chunk).toString()),
  });
  // Past the in-memory threshold, so the log streams through gzip to the file.
  const lines = Array.from({ length: 30000 }, (_, i) => `line ${i}\n`);
  for (let i = 0; i < lines.length; i += 100) {
    const chunk = lines.slice(i, i + 100).join("");
    if (!log.stream.write(chunk)) await new Promise((resolve) => log.stream.once("drain", resolve));
  }
  await log.close();
  const file = readFileSync(log.path);
  assert.deepEqual([...file.subarray(0, 2)], [0x1f, 0x8b], "gzip magic");
  assert.ok(file.length < lines.join("").length / 3, "compressed");
  assert.equal(gunzipSync(file).toString(), lines.join(""));
  assert.equal(seen.join(""), lines.join(""), "everything was shown live too");
  assert.equal(await text(readBuildLog(config, noDb, DRV)!), lines.join(""));
  const db = { queryPathInfo: (p: string) => (p === OUT ? { deriver: DRV } : undefined) };
  assert.equal(
    await text(readBuildLog(config, db as never, OUT)!),
    lines.join(""),
    "found by output path",
  );
  assert.equal(readBuildLog(config, noDb, OUT), undefined);
  assert.equal(readBuildLog(config, noDb, DRV.replace("hello", "other")), undefined);
});

test("a short log is written whole at the end; an empty one is a valid empty log", async (t) => {
  const config = scratch(t);
  const log = openBuildLog(config, DRV);
  log.stream.write("short\n");
  await log.close();
  assert.equal(gunzipSync(readFileSync(log.path)).toString(), "short\n");
  const empty = openBuildLog(config, DRV.replace("hello", "quiet"));
  await empty.close();
  assert.equal(await text(readBuildLog(config, noDb, DRV.replace("hello", "quiet"))!), "");
});

test("a new build's log replaces the old one; a log cut short reads up to the cut", async (t) => {
  const config = scratch(t);
  const first = openBuildLog(config, DRV);
  first.stream.write("first build\n");
  await first.close();
  const second = openBuildLog(config, DRV);
  second.stream.write(`${"x".repeat(100000)}\nsecond build\n`);
  await second.close();
  assert.equal((await text(readBuildLog(config, noDb, DRV)!)).endsWith("second build\n"), true);
  truncateSync(second.path, statSync(second.path).size - 12); // no gzip trailer any more
  const partial = await text(readBuildLog(config, noDb, DRV)!);
  assert.ok(partial.startsWith("xxxx"));
});

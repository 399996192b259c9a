/**
 * `--serve-processes N`: several processes on one port (SO_REUSEPORT). Requests are
 * answered whichever process takes the connection; only the first process bakes, and
 * each item once; `/metrics` counts the requests of all of them.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { parseCompression } from "../src/compression.ts";
import { startPublishProcesses } from "../src/publish-processes.ts";
import { createPublishFixture, type PublishFixture } from "./publish-fixture.ts";

let fixture: PublishFixture;
before(async () => {
  fixture = await createPublishFixture();
});
after(() => fixture.dispose());

/** One GET on a fresh connection, so that the kernel picks a process for each. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false, headers: { Connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    })
      .on("error", reject)
      .end();
  });
}

test("three processes share the port; one bakes; /metrics sums them all", async () => {
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  const publish = await startPublishProcesses({
    storeConfig: fixture.store.config,
    key: fixture.key,
    port: 0,
    compressions: ["zstd:3", "none"].map(parseCompression),
    cache: { dir, bypassThreshold: 0, workers: 1 },
    serveProcesses: 3,
    logLevel: "silent",
  });
  try {
    assert.equal(publish.otherPids?.length, 2);
    for (const pid of publish.otherPids!) assert.ok(existsSync(`/proc/${pid}`));
    const narinfo = `${publish.url}/${fixture.tree.slice(11, 43)}.narinfo`;
    // Asked on many connections, so every process is asked; none bakes but the first.
    const first = await Promise.all(Array.from({ length: 30 }, () => get(narinfo)));
    for (const answer of first) assert.equal(answer.status, 404);
    await publish.context.cache!.idle();
    let baked = 0;
    for (let i = 0; i < 30; i++) {
      const answer = await get(narinfo);
      if (answer.status === 200) {
        baked++;
        assert.ok(parseNarinfo(answer.body).urls[0].fileSize! > 0);
      }
    }
    assert.equal(baked, 30, "every process answers from the baked cache");
    const metrics = (await get(`${publish.url}/metrics`)).body;
    assert.match(metrics, /kiln_publish_requests_total\{endpoint="narinfo",status="404"\} 30\n/);
    assert.match(metrics, /kiln_publish_requests_total\{endpoint="narinfo",status="200"\} 30\n/);
    assert.match(metrics, /kiln_publish_baked_total\{compression="zstd"\} 1\n/);
  } finally {
    await publish.close();
  }
  for (const pid of publish.otherPids!) assert.equal(existsSync(`/proc/${pid}`), false);
});

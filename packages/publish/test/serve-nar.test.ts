import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { dumpPath } from "@kiln/formats/nar-writer";
import { parseCompression } from "../src/compression.ts";
import { type PublishServer, startPublishServer } from "../src/publish-server.ts";
import { rawStatus, slowDownload } from "./http-client.ts";
import { createPublishFixture, noise, type PublishFixture } from "./publish-fixture.ts";
import { type SpyStore, spyStore } from "./spy-store.ts";

let fixture: PublishFixture;
let publish: PublishServer;
let store: SpyStore;
let big: string;
const BIG_SIZE = 24 << 20;

before(async () => {
  fixture = await createPublishFixture();
  mkdirSync(join(fixture.root, "src", "big"));
  writeFileSync(join(fixture.root, "src", "big", "blob"), noise(BIG_SIZE, "big"));
  big = await fixture.store.addToStore(join(fixture.root, "src", "big"), { name: "big" });
  store = spyStore(fixture.publishStore);
  publish = await startPublishServer({
    store,
    key: fixture.key,
    port: 0,
    compressions: ["gzip", "zstd", "none"].map(parseCompression),
    negativeTtl: 60,
    ttl: 86_400,
  });
});
after(async () => {
  await publish.close();
  fixture.dispose();
});

async function narOf(path: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of dumpPath(fixture.store.realPath(path))) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const base = (path: string) => path.slice("/nix/store/".length);

test("serves the NAR uncompressed, gzip and zstd, each decoding to the store's NAR", async () => {
  const nar = await narOf(fixture.tree);
  const info = fixture.store.queryPathInfo(fixture.tree)!;
  assert.equal(nar.length, info.narSize);
  const plain = await fetch(`${publish.url}/nar/${base(fixture.tree)}`);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get("Content-Type"), "application/x-nix-archive");
  assert.equal(plain.headers.get("Content-Length"), String(info.narSize));
  assert.equal(plain.headers.get("Cache-Control"), "max-age=86400");
  assert.deepEqual(Buffer.from(await plain.arrayBuffer()), nar);
  const gzip = await fetch(`${publish.url}/nar/gzip/${base(fixture.tree)}`);
  assert.deepEqual(gunzipSync(Buffer.from(await gzip.arrayBuffer())), nar);
  const zstd = await fetch(`${publish.url}/nar/zstd/${base(fixture.tree)}`);
  assert.equal(zstd.headers.get("Content-Length"), null); // unknown until compressed: chunked
  assert.deepEqual(zstdDecompressSync(Buffer.from(await zstd.arrayBuffer())), nar);
});

test("HEAD gives the length without a body; Range gives parts of the NAR", async () => {
  const nar = await narOf(fixture.tree);
  const url = `${publish.url}/nar/${base(fixture.tree)}`;
  const head = await fetch(url, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("Content-Length"), String(nar.length));
  assert.equal(head.headers.get("Accept-Ranges"), "bytes");
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  for (const [range, start, end] of [
    ["bytes=100-199", 100, 199],
    ["bytes=1048570-", 1048570, nar.length - 1],
    ["bytes=-77", nar.length - 77, nar.length - 1],
    [`bytes=300000-${nar.length + 5}`, 300000, nar.length - 1],
  ] as const) {
    const partial = await fetch(url, { headers: { Range: range } });
    if (start >= nar.length) continue;
    assert.equal(partial.status, 206, range);
    assert.equal(partial.headers.get("Content-Range"), `bytes ${start}-${end}/${nar.length}`);
    assert.deepEqual(Buffer.from(await partial.arrayBuffer()), nar.subarray(start, end + 1), range);
  }
  const beyond = await fetch(url, { headers: { Range: `bytes=${nar.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get("Content-Range"), `bytes */${nar.length}`);
  await beyond.arrayBuffer();
});

test("a missing item is a 404 with the negative TTL; other methods a 405", async () => {
  const missing = await fetch(`${publish.url}/nar/gzip/${"0".repeat(32)}-gone`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("Cache-Control"), "max-age=60");
  await missing.arrayBuffer();
  const post = await fetch(`${publish.url}/nar/${base(fixture.tree)}`, { method: "POST" });
  assert.equal(post.status, 405);
  await post.arrayBuffer();
});

test("bad nar paths are refused before the store is asked", async () => {
  store.calls.length = 0;
  const hash = base(fixture.tree).slice(0, 32);
  for (const [line, status] of [
    ["GET /nar/../../etc/passwd HTTP/1.1", 400],
    ["GET /nar/..%2f..%2fetc%2fpasswd HTTP/1.1", 400],
    ["GET /nar/gzip/../../etc/passwd HTTP/1.1", 400],
    [`GET /nar/${hash.slice(2)}-demo-tree HTTP/1.1`, 400],
    [`GET /nar/${hash}-demo%20tree HTTP/1.1`, 400],
    [`GET /nar/gzip/x/${base(fixture.tree)} HTTP/1.1`, 400],
    [`GET /nar/lzip/${base(fixture.tree)} HTTP/1.1`, 404],
    [`GET /nar/none/${base(fixture.tree)} HTTP/1.1`, 404],
    [`GET /nar/xz/${base(fixture.tree)} HTTP/1.1`, 404],
  ] as const) {
    assert.equal(await rawStatus(publish.port, line), status, line);
  }
  assert.deepEqual(store.calls, []);
});

test("a slow reader holds the server back (backpressure), then gets the whole NAR", async () => {
  let response: ServerResponse | undefined;
  const onRequest = (_req: unknown, res: ServerResponse) => {
    response = res;
  };
  publish.server.on("request", onRequest);
  const download = await slowDownload(`${publish.url}/nar/${base(big)}`, 500, () => {
    // While the reader sleeps, what the server has written or buffered stays far below
    // the archive's size: the store is read only as fast as the client reads.
    const pushed = (response?.socket?.bytesWritten ?? 0) + (response?.writableLength ?? 0);
    assert.ok(pushed > 0 && pushed < BIG_SIZE / 2, `server pushed ${pushed} bytes ahead`);
  });
  publish.server.off("request", onRequest);
  assert.equal(download.size, fixture.store.queryPathInfo(big)!.narSize);
  assert.equal(
    download.sha256,
    createHash("sha256")
      .update(await narOf(big))
      .digest("hex"),
  );
});

test("a client that goes away mid-transfer does not stop the server", async () => {
  const controller = new AbortController();
  const response = await fetch(`${publish.url}/nar/zstd/${base(big)}`, {
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  await sleep(50);
  const again = await fetch(`${publish.url}/nar/${base(fixture.text)}`);
  assert.equal(again.status, 200);
  await again.arrayBuffer();
  const metrics = await (await fetch(`${publish.url}/metrics`)).text();
  assert.match(metrics, /kiln_publish_requests_total\{endpoint="nar",status="499"\} 1\n/);
});

test("a failing store gives 500s over the socket and the server lives on", async () => {
  const broken = {
    ...fixture.publishStore,
    pathFromHashPart: (): string => {
      throw new Error("database is locked");
    },
    pathInfo: () => {
      throw new Error("database is locked");
    },
  };
  const server = await startPublishServer({ store: broken, key: fixture.key, port: 0 });
  try {
    for (const path of [`/${"1".repeat(32)}.narinfo`, `/nar/${base(fixture.tree)}`]) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 500, path);
      await response.arrayBuffer();
    }
    assert.equal((await fetch(`${server.url}/nix-cache-info`)).status, 200);
  } finally {
    await server.close();
  }
});

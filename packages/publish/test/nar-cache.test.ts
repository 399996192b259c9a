import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { zstdDecompressSync } from "node:zlib";
import { guixKeyPairFromSeed } from "@kiln/formats/guix-key";
import { formatHashNix32 } from "@kiln/formats/hash";
import { dumpPath } from "@kiln/formats/nar-writer";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { verifyNarinfo } from "@kiln/formats/verify-narinfo";
import { parseCompression } from "../src/compression.ts";
import type { PublishServerOptions } from "../src/publish-server.ts";
import { type PublishServer, startPublishServer } from "../src/publish-server.ts";
import { slowDownload } from "./http-client.ts";
import { createPublishFixture, noise, type PublishFixture } from "./publish-fixture.ts";

let fixture: PublishFixture;
const items: string[] = [];

before(async () => {
  fixture = await createPublishFixture();
  for (let i = 0; i < 5; i++) {
    const dir = join(fixture.root, "src", `item${i}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "data"), noise(200_000 + i, `item${i}`));
    items.push(await fixture.store.addToStore(dir, { name: `item${i}` }));
  }
});
after(() => fixture.dispose());

async function start(
  dir: string,
  options: Partial<PublishServerOptions> = {},
): Promise<PublishServer> {
  return startPublishServer({
    store: fixture.publishStore,
    key: fixture.key,
    port: 0,
    compressions: ["zstd:6", "gzip", "none"].map(parseCompression),
    cache: { dir, bypassThreshold: 100_000, workers: 2 },
    ...options,
  });
}

async function narOf(path: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of dumpPath(fixture.store.realPath(path))) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const hashOf = (path: string) => path.slice(11, 43);
const base = (path: string) => path.slice(11);

test("first request: 404 'We're baking it'; once baked, a narinfo listing the baked files", async () => {
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  const publish = await start(dir);
  try {
    const first = await fetch(`${publish.url}/${hashOf(fixture.tree)}.narinfo`);
    assert.equal(first.status, 404);
    assert.equal(first.headers.get("Cache-Control"), "max-age=300");
    assert.equal(await first.text(), "We're baking it.\n");
    const nar = await fetch(`${publish.url}/nar/zstd/${base(fixture.tree)}`);
    assert.equal(nar.status, 404);
    await nar.arrayBuffer();
    await publish.context.cache!.idle();

    const response = await fetch(`${publish.url}/${hashOf(fixture.tree)}.narinfo`);
    assert.equal(response.status, 200);
    const text = await response.text();
    const narinfo = parseNarinfo(text);
    const expected = await narOf(fixture.tree);
    // `none` is baked too; its FileHash and FileSize are the NAR's own.
    for (const group of narinfo.urls) {
      const file = readFileSync(join(dir, group.compression, `${base(fixture.tree)}.nar`));
      assert.equal(group.fileSize, file.length);
      assert.equal(
        formatHashNix32(group.fileHash!),
        formatHashNix32({
          algorithm: "sha256",
          digest: new Uint8Array(createHash("sha256").update(file).digest()),
        }),
      );
      const served = Buffer.from(await (await fetch(`${publish.url}/${group.url}`)).arrayBuffer());
      assert.deepEqual(served, file);
    }
    assert.deepEqual(
      narinfo.urls.map((u) => u.compression),
      ["zstd", "gzip", "none"],
    );
    assert.deepEqual(
      zstdDecompressSync(readFileSync(join(dir, "zstd", `${base(fixture.tree)}.nar`))),
      expected,
    );
    assert.equal(verifyNarinfo(text, [{ kind: "guix", q: fixture.key.q }]).valid, true);
    // The baked narinfo sits beside the first method's nar; no temporary file remains.
    assert.deepEqual(readdirSync(join(dir, "zstd")).sort(), [
      `${base(fixture.tree)}.nar`,
      `${base(fixture.tree)}.narinfo`,
    ]);
    assert.deepEqual(readdirSync(join(dir, "gzip")), [`${base(fixture.tree)}.nar`]);
    assert.deepEqual(readFileSync(join(dir, "none", `${base(fixture.tree)}.nar`)), expected);

    // Baked files answer HEAD and Range with their own length.
    const url = `${publish.url}/nar/zstd/${base(fixture.tree)}`;
    const size = narinfo.urls[0].fileSize!;
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.headers.get("Content-Length"), String(size));
    const part = await fetch(url, { headers: { Range: "bytes=10-29" } });
    assert.equal(part.status, 206);
    assert.deepEqual(
      Buffer.from(await part.arrayBuffer()),
      readFileSync(join(dir, "zstd", `${base(fixture.tree)}.nar`)).subarray(10, 30),
    );
  } finally {
    await publish.close();
  }
});

test("items below the bypass threshold are served live while they bake", async () => {
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  const publish = await start(dir);
  try {
    const response = await fetch(`${publish.url}/${hashOf(fixture.text)}.narinfo`);
    assert.equal(response.status, 200);
    // Temporary, as guix publish makes it: no compressed FileSize yet, kept 5 minutes.
    assert.equal(response.headers.get("Cache-Control"), "max-age=300");
    const live = parseNarinfo(await response.text());
    assert.equal(live.urls[0].fileSize, undefined); // not baked yet
    const nar = await fetch(`${publish.url}/${live.urls[0].url}`);
    assert.equal(nar.status, 200);
    assert.deepEqual(
      zstdDecompressSync(Buffer.from(await nar.arrayBuffer())),
      await narOf(fixture.text),
    );
    await publish.context.cache!.idle();
    const baked = parseNarinfo(
      await (await fetch(`${publish.url}/${hashOf(fixture.text)}.narinfo`)).text(),
    );
    assert.ok(baked.urls[0].fileSize! > 0);
  } finally {
    await publish.close();
  }
});

test("with --ttl, a baked narinfo carries the TTL and a temporary one 5 minutes", async () => {
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  const publish = await start(dir, { ttl: 86_400 });
  try {
    const url = `${publish.url}/${hashOf(fixture.flat)}.narinfo`;
    const live = await fetch(url);
    assert.equal(live.headers.get("Cache-Control"), "max-age=300");
    await live.text();
    await publish.context.cache!.idle();
    const baked = await fetch(url);
    assert.equal(baked.headers.get("Cache-Control"), "max-age=86400");
    await baked.text();
  } finally {
    await publish.close();
  }
});

test("an item that is a compressed file is advertised and baked only as none", async () => {
  const src = join(fixture.root, "src", "hello-2.12.tar.gz");
  writeFileSync(src, noise(50_000, "tarball"));
  const tarball = await fixture.store.addToStore(src, {
    method: "flat",
    name: "hello-2.12.tar.gz",
  });
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  // Without a cache, the narinfo is made live with the one group.
  const plain = await startPublishServer({
    store: fixture.publishStore,
    key: fixture.key,
    port: 0,
    compressions: ["zstd:6", "gzip"].map(parseCompression),
  });
  try {
    const text = await (await fetch(`${plain.url}/${hashOf(tarball)}.narinfo`)).text();
    assert.deepEqual(
      parseNarinfo(text).urls.map((u) => [u.compression, u.url]),
      [["none", `nar/${base(tarball)}`]],
    );
  } finally {
    await plain.close();
  }
  const publish = await start(dir, { cache: { dir, bypassThreshold: 0, workers: 1 } });
  try {
    const url = `${publish.url}/${hashOf(tarball)}.narinfo`;
    assert.equal((await fetch(url)).status, 404);
    await publish.context.cache!.idle();
    const response = await fetch(url);
    assert.equal(response.status, 200);
    const narinfo = parseNarinfo(await response.text());
    assert.deepEqual(
      narinfo.urls.map((u) => u.compression),
      ["none"],
    );
    assert.equal(narinfo.urls[0].fileSize, narinfo.narSize);
    assert.deepEqual(readdirSync(join(dir, "none")).sort(), [
      `${base(tarball)}.nar`,
      `${base(tarball)}.narinfo`,
    ]);
    assert.equal(existsSync(join(dir, "zstd")), false);
    const nar = Buffer.from(
      await (await fetch(`${publish.url}/${narinfo.urls[0].url}`)).arrayBuffer(),
    );
    assert.deepEqual(nar, await narOf(tarball));
  } finally {
    await publish.close();
  }
});

test("baking runs at most --workers items at a time and each item once", async () => {
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  const publish = await start(dir, { cache: { dir, bypassThreshold: 0, workers: 2 } });
  try {
    const cache = publish.context.cache!;
    let maxActive = 0;
    const sampler = setInterval(() => {
      maxActive = Math.max(maxActive, cache.stats().active);
    }, 1);
    for (const item of [...items, ...items]) {
      const response = await fetch(`${publish.url}/${hashOf(item)}.narinfo`);
      assert.equal(response.status, 404);
      await response.text();
    }
    assert.ok(cache.stats().queued + cache.stats().active <= items.length);
    await cache.idle();
    clearInterval(sampler);
    assert.equal(maxActive, 2);
    const metrics = await (await fetch(`${publish.url}/metrics`)).text();
    assert.match(metrics, /kiln_publish_baked_total\{compression="zstd"\} 5\n/);
    assert.match(metrics, /kiln_publish_bake_queue_length 0\n/);
  } finally {
    await publish.close();
  }
});

test("a restarted server serves what is baked at once; a new key rebakes", async () => {
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  let publish = await start(dir);
  await (await fetch(`${publish.url}/${hashOf(items[0])}.narinfo`)).text();
  await publish.context.cache!.idle();
  await publish.close();
  publish = await start(dir);
  try {
    assert.equal((await fetch(`${publish.url}/${hashOf(items[0])}.narinfo`)).status, 200);
  } finally {
    await publish.close();
  }
  const other = guixKeyPairFromSeed(new Uint8Array(32).fill(99));
  publish = await start(dir, { key: other });
  try {
    assert.equal((await fetch(`${publish.url}/${hashOf(items[0])}.narinfo`)).status, 404);
    await publish.context.cache!.idle();
    const text = await (await fetch(`${publish.url}/${hashOf(items[0])}.narinfo`)).text();
    assert.equal(verifyNarinfo(text, [{ kind: "guix", q: other.q }]).valid, true);
  } finally {
    await publish.close();
  }
});

test("an item whose files no longer match its NarHash is never baked or advertised", async () => {
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  const victim = items[4];
  const file = join(fixture.store.realPath(victim), "data");
  chmodSync(fixture.store.realPath(victim), 0o755);
  chmodSync(file, 0o644);
  writeFileSync(file, "corrupted\n");
  const publish = await start(dir, { cache: { dir, bypassThreshold: 0, workers: 1 } });
  try {
    assert.equal((await fetch(`${publish.url}/${hashOf(victim)}.narinfo`)).status, 404);
    await publish.context.cache!.idle();
    assert.equal((await fetch(`${publish.url}/${hashOf(victim)}.narinfo`)).status, 404);
    for (const method of ["zstd", "gzip", "none"]) {
      assert.deepEqual(readdirSync(join(dir, method)), []);
    }
    const metrics = await (await fetch(`${publish.url}/metrics`)).text();
    assert.match(metrics, /kiln_publish_bake_failures_total 1\n/);
  } finally {
    await publish.close();
  }
});

test("baked files are sent with backpressure to a slow reader, and a reader that leaves", async () => {
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  const src = join(fixture.root, "src", "big-baked");
  mkdirSync(src);
  writeFileSync(join(src, "blob"), noise(24 << 20, "big-baked"));
  const big = await fixture.store.addToStore(src, { name: "big-baked" });
  const publish = await start(dir, { cache: { dir, bypassThreshold: 0, workers: 1 } });
  let response: ServerResponse | undefined;
  publish.server.on("request", (_req, res) => {
    response = res;
  });
  try {
    await (await fetch(`${publish.url}/${hashOf(big)}.narinfo`)).text();
    await publish.context.cache!.idle();
    const file = join(dir, "none", `${base(big)}.nar`);
    const download = await slowDownload(`${publish.url}/nar/${base(big)}`, 500, () => {
      const pushed = (response?.socket?.bytesWritten ?? 0) + (response?.writableLength ?? 0);
      assert.ok(pushed > 0 && pushed < (24 << 20) / 2, `server pushed ${pushed} bytes ahead`);
    });
    assert.equal(download.size, statSync(file).size);
    assert.equal(download.sha256, createHash("sha256").update(readFileSync(file)).digest("hex"));

    // A reader that goes away: the server closes the file and carries on.
    const fds = readdirSync("/proc/self/fd").length;
    const controller = new AbortController();
    const partial = await fetch(`${publish.url}/nar/zstd/${base(big)}`, {
      signal: controller.signal,
    });
    await partial.body!.getReader().read();
    controller.abort();
    await sleep(100);
    assert.ok(readdirSync("/proc/self/fd").length <= fds + 1);
    const whole = await fetch(`${publish.url}/nar/zstd/${base(big)}`);
    assert.equal(
      (await whole.arrayBuffer()).byteLength,
      statSync(join(dir, "zstd", `${base(big)}.nar`)).size,
    );
    const metrics = await (await fetch(`${publish.url}/metrics`)).text();
    assert.match(metrics, /kiln_publish_requests_total\{endpoint="nar",status="499"\} 1\n/);
  } finally {
    await publish.close();
  }
});

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { parseGuixPublicKey } from "@kiln/formats/guix-key";
import { verifyGuixNarinfo } from "@kiln/formats/guix-signature";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import { verifyNarinfo } from "@kiln/formats/verify-narinfo";
import pino from "pino";
import { parseCompression } from "../src/compression.ts";
import { createPublishApp } from "../src/publish-app.ts";
import { createPublishContext, type PublishOptions } from "../src/publish-context.ts";
import { createPublishFixture, type PublishFixture } from "./publish-fixture.ts";
import { spyStore } from "./spy-store.ts";

let fixture: PublishFixture;
before(async () => {
  fixture = await createPublishFixture();
});
after(() => fixture.dispose());

function appWith(options: Partial<PublishOptions> = {}) {
  const store = spyStore(fixture.publishStore);
  const context = createPublishContext({
    store,
    key: fixture.key,
    hostname: "farm",
    keyName: "farm-1",
    compressions: ["gzip", "zstd:6", "none"].map(parseCompression),
    logDir: fixture.logDir,
    ...options,
  });
  return { app: createPublishApp(context), store, context };
}

const hashOf = (path: string) => path.slice("/nix/store/".length, "/nix/store/".length + 32);

test("/nix-cache-info names the store directory, mass query and priority", async () => {
  const { app } = appWith({ priority: 30, wantMassQuery: true });
  const response = await app.request("/nix-cache-info");
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n");
  const defaults = await appWith().app.request("/nix-cache-info");
  assert.equal(await defaults.text(), "StoreDir: /nix/store\nWantMassQuery: 0\nPriority: 100\n");
});

test("a narinfo has one URL group per compression and verifies for Nix and for Guix", async () => {
  const { app } = appWith({ ttl: 3600 });
  const response = await app.request(`/${hashOf(fixture.text)}.narinfo`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("Content-Type"), "text/x-nix-narinfo");
  assert.equal(response.headers.get("Cache-Control"), "max-age=3600");
  const text = await response.text();
  const narinfo = parseNarinfo(text, { storeDir: "/nix/store" });
  const info = fixture.store.queryPathInfo(fixture.text)!;
  const base = fixture.text.slice("/nix/store/".length);
  assert.equal(narinfo.storePath, fixture.text);
  assert.deepEqual(
    narinfo.urls.map((u) => [u.url, u.compression, u.fileSize]),
    [
      [`nar/gzip/${base}`, "gzip", undefined],
      [`nar/zstd/${base}`, "zstd", undefined],
      [`nar/${base}`, "none", info.narSize],
    ],
  );
  assert.equal(narinfo.narSize, info.narSize);
  assert.deepEqual(narinfo.references, [fixture.tree.slice("/nix/store/".length)]);
  assert.equal(narinfo.ca, info.ca);
  // Sig: before Signature:, which is the last line.
  assert.match(text, /\nSig: farm-1:[^\n]+\nSignature: 1;farm;[^\n]+\n$/);
  const q = fixture.key.q;
  assert.deepEqual(verifyNarinfo(text, [{ kind: "nix", name: "farm-1", key: q }]).validBy, [
    "Sig farm-1",
    "Signature farm",
  ]);
  const guixKey = parseGuixPublicKey(await (await app.request("/signing-key.pub")).text());
  assert.equal(verifyGuixNarinfo(text, [guixKey]).valid, true);
  // One changed byte and neither signature holds.
  const tampered = text.replace(/NarSize: (\d+)/, (_m, n) => `NarSize: ${Number(n) + 1}`);
  assert.equal(verifyNarinfo(tampered, [{ kind: "nix", name: "farm-1", key: q }]).valid, false);
});

test("narinfos come from memory after the first request", async () => {
  const { app, store } = appWith();
  const url = `/${hashOf(fixture.tree)}.narinfo`;
  const first = await (await app.request(url)).text();
  const calls = store.calls.length;
  assert.ok(calls > 0);
  assert.equal(await (await app.request(url)).text(), first);
  assert.equal(store.calls.length, calls);
});

test("HEAD of a narinfo answers without a body", async () => {
  const { app } = appWith();
  const response = await app.request(`/${hashOf(fixture.tree)}.narinfo`, { method: "HEAD" });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "");
  assert.ok(Number(response.headers.get("Content-Length")) > 100);
});

test("a missing narinfo is a 404 with the negative TTL", async () => {
  const { app } = appWith({ negativeTtl: 600 });
  const response = await app.request(`/${"0".repeat(32)}.narinfo`);
  assert.equal(response.status, 404);
  assert.equal(response.headers.get("Cache-Control"), "max-age=600");
  const plain = await appWith().app.request(`/${"0".repeat(32)}.narinfo`);
  assert.equal(plain.status, 404);
  assert.equal(plain.headers.get("Cache-Control"), null);
});

test("malformed names are refused without touching the store", async () => {
  const { app, store } = appWith();
  const hash = hashOf(fixture.text);
  for (const [url, status] of [
    [`/${hash.slice(1)}.narinfo`, 400],
    [`/${hash}a.narinfo`, 400],
    [`/${hash.toUpperCase()}.narinfo`, 400],
    [`/${hash.replace(/[0-9a-z]$/, "e")}.narinfo`, 400],
    [`/..%2f${hash}.narinfo`, 400],
    ["/log/%2e%2e%2fetc%2fpasswd", 400],
    [`/log/${hash}`, 400],
    ["/file/a%2fb/sha256/0jn6nhl8m3kv6dpwvycyb3d1c3zahprbc58vd5g9x7jydv88a8fy", 400],
    ["/file/flat.txt/sha256/not-a-hash", 400],
    ["/file/flat.txt/sha256/2jn6nhl8m3kv6dpwvycyb3d1c3zahprbc58vd5g9x7jydv88a8fy", 400],
    ["/../../etc/passwd", 404],
    ["/etc/passwd", 404],
  ] as const) {
    const response = await app.request(url);
    assert.equal(response.status, status, url);
  }
  assert.deepEqual(store.calls, []);
});

test("other methods than GET and HEAD are refused", async () => {
  const { app } = appWith();
  const response = await app.request("/nix-cache-info", { method: "POST", body: "x" });
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("Allow"), "GET, HEAD");
});

test("/log serves a derivation's gzipped log, by drv or output name", async () => {
  const { app } = appWith();
  for (const name of [fixture.drvBaseName, fixture.built.slice("/nix/store/".length)]) {
    const response = await app.request(`/log/${name}`);
    assert.equal(response.status, 200, name);
    assert.equal(response.headers.get("Content-Encoding"), "gzip");
    assert.equal(gunzipSync(Buffer.from(await response.arrayBuffer())).toString(), fixture.logText);
  }
  const none = await app.request(`/log/${fixture.tree.slice("/nix/store/".length)}`);
  assert.equal(none.status, 404);
  const noLogDir = await appWith({ logDir: undefined }).app.request(`/log/${fixture.drvBaseName}`);
  assert.equal(noLogDir.status, 404);
});

test("/file/<name>/sha256/<hash> serves a flat fixed-output item's content", async () => {
  const { app } = appWith();
  const info = fixture.store.queryPathInfo(fixture.flat)!;
  const hash = info.ca!.replace("fixed:sha256:", "");
  const response = await app.request(`/file/flat.txt/sha256/${hash}`);
  assert.equal(response.status, 200);
  assert.deepEqual(Buffer.from(await response.arrayBuffer()), fixture.flatContents);
  const other = await app.request(`/file/other.txt/sha256/${hash}`);
  assert.equal(other.status, 404);
});

test("/signing-key.pub serves the public key; / an index", async () => {
  const { app } = appWith({ publicKeyText: "(public-key …)\n" });
  assert.equal(await (await app.request("/signing-key.pub")).text(), "(public-key …)\n");
  assert.match(await (await app.request("/")).text(), /farm-1/);
});

test("/metrics counts requests by endpoint and status, and bytes", async () => {
  const { app } = appWith();
  await app.request(`/${hashOf(fixture.tree)}.narinfo`);
  await app.request(`/${"0".repeat(32)}.narinfo`);
  await app.request(`/${"0".repeat(31)}.narinfo`);
  const metrics = await (await app.request("/metrics")).text();
  assert.match(metrics, /kiln_publish_requests_total\{endpoint="narinfo",status="200"\} 1\n/);
  assert.match(metrics, /kiln_publish_requests_total\{endpoint="narinfo",status="404"\} 1\n/);
  assert.match(metrics, /kiln_publish_requests_total\{endpoint="narinfo",status="400"\} 1\n/);
  assert.match(metrics, /kiln_publish_bytes_served_total\{endpoint="narinfo"\} [1-9]\d+\n/);
  assert.match(metrics, /kiln_publish_bake_queue_length 0\n/);
});

test("refuses a repeated compression and a bad --nar-path", () => {
  assert.throws(
    () => appWith({ compressions: ["gzip:3", "gzip:9"].map(parseCompression) }),
    /gzip is given twice/,
  );
  assert.throws(() => appWith({ compressions: [] }), /no compression/);
  for (const narPath of ["/nar", "nar/", "../nar", "a/../b", "", "n ar"]) {
    assert.throws(() => appWith({ narPath }), /is not a relative URL path/, narPath);
  }
});

test("a store that fails answers 500 and is logged, without secrets", async () => {
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
  const broken = {
    ...fixture.publishStore,
    pathFromHashPart: (): string => {
      throw new Error("database is locked");
    },
  };
  const context = createPublishContext({ store: broken, key: fixture.key, logger });
  const response = await createPublishApp(context).request(`/${"1".repeat(32)}.narinfo`);
  assert.equal(response.status, 500);
  assert.match(lines.join(""), /"msg":"request failed"/);
  assert.match(lines.join(""), /database is locked/);
  const d = fixture.key.d.toString(16).toUpperCase();
  assert.ok(!lines.join("").toUpperCase().includes(d.slice(-16)));
});

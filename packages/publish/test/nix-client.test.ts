/**
 * Real Nix substitutes from kiln publish: `nix copy --from` and `nix-store --realise`
 * with Kiln's key in trusted-public-keys succeed into a private Nix store and give the
 * same NAR hashes; a narinfo or nar changed on the way, or an untrusted key, is refused.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { guixKeyPairFromSeed } from "@kiln/formats/guix-key";
import { verifyGuixNarinfo } from "@kiln/formats/guix-signature";
import { exportPublicKey } from "@kiln/keys/export-public-key";
import {
  createPrivateNixStore,
  nixCopyArgs,
  type PrivateNixStore,
  requirePeer,
} from "@kiln/testkit";
import { parseCompression } from "../src/compression.ts";
import { type PublishServer, startPublishServer } from "../src/publish-server.ts";
import { runNix, tamperingProxy } from "./nix-run.ts";
import { createPublishFixture, type PublishFixture } from "./publish-fixture.ts";

let fixture: PublishFixture;
let publish: PublishServer;
let trusted: string;
const requested: string[] = [];
const stores: PrivateNixStore[] = [];

before(async () => {
  fixture = await createPublishFixture();
  publish = await startPublishServer({
    store: fixture.publishStore,
    key: fixture.key,
    port: 0,
    hostname: "kiln-test",
    compressions: ["gzip", "zstd:6", "none"].map(parseCompression),
  });
  publish.server.on("request", (req) => requested.push(`${req.method} ${req.url}`));
  trusted = exportPublicKey(fixture.key.q, "nix", { name: publish.context.signer.keyName });
});
after(async () => {
  await publish.close();
  for (const store of stores) store.dispose();
  fixture.dispose();
});

function freshStore(): PrivateNixStore {
  const store = createPrivateNixStore("/nix/store");
  stores.push(store);
  return store;
}

async function nixCopy(
  from: string,
  store: PrivateNixStore,
  key: string,
  ...paths: readonly string[]
) {
  return runNix("nix", nixCopyArgs({ from, to: store.uri, trustedKey: key, paths }), {
    NIX_CONF_DIR: fixture.root,
  });
}

async function narHashIn(store: PrivateNixStore, path: string): Promise<string | undefined> {
  const run = await runNix("nix-store", ["--store", store.uri, "-q", "--hash", path], {
    NIX_CONF_DIR: fixture.root,
  });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

test("nix copy --from kiln publish copies a closure with the store's NAR hashes", async (t) => {
  if (!requirePeer(t, "nix", "Nix")) return;
  const store = freshStore();
  requested.length = 0;
  // The text file and its reference are content-addressed; `built` is input-addressed,
  // so Nix accepts it only on the strength of its Sig: line.
  const copied = await nixCopy(publish.url, store, trusted, fixture.text, fixture.built);
  assert.equal(copied.status, 0, copied.stderr);
  for (const path of [fixture.text, fixture.tree, fixture.built]) {
    assert.equal(await narHashIn(store, path), fixture.store.queryPathInfo(path)!.narHash);
  }
  // Nix 2.8 reads one URL group and keeps the last one it sees: here `none`.
  const nars = requested.filter((line) => line.includes("/nar/")).sort();
  assert.deepEqual(
    nars,
    [fixture.text, fixture.tree, fixture.built].map((path) => `GET /nar/${path.slice(11)}`).sort(),
  );
});

test("Nix takes the last URL group: zstd when it comes last", async (t) => {
  if (!requirePeer(t, "nix", "Nix")) return;
  const zstdLast = await startPublishServer({
    store: fixture.publishStore,
    key: fixture.key,
    port: 0,
    hostname: "kiln-test",
    compressions: ["none", "gzip", "zstd"].map(parseCompression),
  });
  const seen: string[] = [];
  zstdLast.server.on("request", (req) => seen.push(req.url ?? ""));
  try {
    const store = freshStore();
    const copied = await nixCopy(zstdLast.url, store, trusted, fixture.tree);
    assert.equal(copied.status, 0, copied.stderr);
    assert.deepEqual(
      seen.filter((url) => url.includes("/nar/")),
      [`/nar/zstd/${fixture.tree.slice(11)}`],
    );
    assert.equal(
      await narHashIn(store, fixture.tree),
      fixture.store.queryPathInfo(fixture.tree)!.narHash,
    );
  } finally {
    await zstdLast.close();
  }
});

test("nix-store --realise substitutes from kiln publish", async (t) => {
  if (!requirePeer(t, "nix-store", "Nix")) return;
  const store = freshStore();
  const realised = await runNix(
    "nix-store",
    [
      "--store",
      store.uri,
      "--option",
      "substituters",
      publish.url,
      "--option",
      "trusted-public-keys",
      trusted,
      "--realise",
      fixture.text,
    ],
    { NIX_CONF_DIR: fixture.root },
  );
  assert.equal(realised.status, 0, realised.stderr);
  assert.equal(realised.stdout.trim(), fixture.text);
  assert.equal(
    await narHashIn(store, fixture.text),
    fixture.store.queryPathInfo(fixture.text)!.narHash,
  );
});

test("Nix refuses a narinfo signed by a key it does not trust (input-addressed item)", async (t) => {
  if (!requirePeer(t, "nix", "Nix")) return;
  const stranger = exportPublicKey(guixKeyPairFromSeed(new Uint8Array(32).fill(5)).q, "nix", {
    name: publish.context.signer.keyName,
  });
  const store = freshStore();
  const copied = await nixCopy(publish.url, store, stranger, fixture.built);
  assert.notEqual(copied.status, 0);
  assert.match(copied.stderr, /lacks a valid signature/);
  assert.equal(await narHashIn(store, fixture.built), undefined);
});

test("Nix refuses a narinfo changed after signing", async (t) => {
  if (!requirePeer(t, "nix", "Nix")) return;
  const proxy = await tamperingProxy(publish.url, (path, body) =>
    path.endsWith(".narinfo")
      ? Buffer.from(
          body.toString().replace(/^NarSize: (\d+)$/m, (_m, n) => `NarSize: ${Number(n) + 8}`),
        )
      : body,
  );
  try {
    const store = freshStore();
    const copied = await nixCopy(proxy.url, store, trusted, fixture.built);
    assert.notEqual(copied.status, 0);
    assert.match(copied.stderr, /lacks a valid signature/);
    assert.equal(await narHashIn(store, fixture.built), undefined);
  } finally {
    proxy.server.close();
  }
});

test("Nix refuses a nar changed on the way", async (t) => {
  if (!requirePeer(t, "nix", "Nix")) return;
  const proxy = await tamperingProxy(publish.url, (path, body) => {
    if (!path.startsWith("/nar/")) return body;
    const changed = Buffer.from(body);
    changed[changed.length - 200] ^= 1; // inside the last file's contents
    return changed;
  });
  try {
    const store = freshStore();
    const copied = await nixCopy(proxy.url, store, trusted, fixture.tree);
    assert.notEqual(copied.status, 0);
    assert.match(copied.stderr, /hash mismatch/);
    assert.equal(await narHashIn(store, fixture.tree), undefined);
  } finally {
    proxy.server.close();
  }
});

test("baked zstd nars from --cache are copied by Nix; the narinfo verifies for Guix", async (t) => {
  if (!requirePeer(t, "nix", "Nix")) return;
  const dir = mkdtempSync(join(fixture.root, "cache-"));
  const baked = await startPublishServer({
    store: fixture.publishStore,
    key: fixture.key,
    port: 0,
    hostname: "kiln-test",
    compressions: ["gzip", "zstd:6"].map(parseCompression),
    cache: { dir, bypassThreshold: 0, workers: 2 },
  });
  const seen: string[] = [];
  baked.server.on("request", (req) => seen.push(req.url ?? ""));
  try {
    for (const path of [fixture.text, fixture.tree]) {
      assert.equal((await fetch(`${baked.url}/${path.slice(11, 43)}.narinfo`)).status, 404);
    }
    await baked.context.cache!.idle();
    const text = await (await fetch(`${baked.url}/${fixture.text.slice(11, 43)}.narinfo`)).text();
    assert.equal(verifyGuixNarinfo(text, [fixture.key.q]).valid, true);
    const store = freshStore();
    const copied = await nixCopy(baked.url, store, trusted, fixture.text);
    assert.equal(copied.status, 0, copied.stderr);
    assert.equal(
      await narHashIn(store, fixture.tree),
      fixture.store.queryPathInfo(fixture.tree)!.narHash,
    );
    assert.ok(seen.includes(`/nar/zstd/${fixture.tree.slice(11)}`));
  } finally {
    await baked.close();
  }
});

/**
 * Real Nix checks Kiln's signatures: narinfos signed with `signNarinfoBoth` (Nix Sig:
 * made from the Guix scalar d) in a file:// binary cache are copied by `nix copy` into a
 * private store when the key is trusted, and refused when it is not or when the
 * narinfo was changed after signing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { formatHashNix32, type Hash } from "@kiln/formats/hash";
import { makeFixedOutputPath } from "@kiln/formats/make-store-path";
import { dumpPath } from "@kiln/formats/nar-writer";
import { printNarinfo } from "@kiln/formats/print-narinfo";
import { createPrivateNixStore, nixCopyArgs, requirePeer } from "@kiln/testkit";
import { exportPublicKey } from "../src/export-public-key.ts";
import { generateKeyPair } from "../src/generate-key-pair.ts";
import { signNarinfoBoth } from "../src/sign-narinfo-both.ts";
import { parseSigningKey, readSecretKey, type SigningKey } from "../src/signing-key.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-keys-nix-"));
after(() => rmSync(root, { recursive: true, force: true }));

async function narOf(dir: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of dumpPath(dir)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Writes a file:// cache holding `count` small items, each signed by `key`. */
async function makeCache(
  name: string,
  count: number,
  sign: (text: string, index: number) => string,
): Promise<{ url: string; paths: string[] }> {
  const cache = join(root, name);
  mkdirSync(join(cache, "nar"), { recursive: true });
  writeFileSync(join(cache, "nix-cache-info"), "StoreDir: /nix/store\n");
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const tree = join(root, `${name}-src-${i}`);
    mkdirSync(tree, { recursive: true });
    writeFileSync(join(tree, "file"), `${name} item ${i}\n`.repeat(i + 1));
    const nar = await narOf(tree);
    const narHash: Hash = {
      algorithm: "sha256",
      digest: new Uint8Array(createHash("sha256").update(nar).digest()),
    };
    const path = makeFixedOutputPath({
      method: "recursive",
      hash: narHash,
      name: `item-${i}`,
      storeDir: "/nix/store",
    });
    const baseName = path.slice("/nix/store/".length);
    writeFileSync(join(cache, "nar", `${baseName}.nar`), nar);
    const text = printNarinfo(
      {
        storePath: path,
        urls: [{ url: `nar/${baseName}.nar`, compression: "none", fileSize: nar.length }],
        narHash,
        narSize: nar.length,
        references: [],
        sigs: [],
      },
      { flavour: "guix" },
    );
    writeFileSync(join(cache, `${baseName.slice(0, 32)}.narinfo`), sign(text, i));
    paths.push(path);
  }
  return { url: `file://${cache}`, paths };
}

function nixCopy(from: string, trusted: string, paths: readonly string[]) {
  const store = createPrivateNixStore("/nix/store");
  const result = spawnSync(
    "nix",
    nixCopyArgs({ from, to: store.uri, trustedKey: trusted, paths }),
    { encoding: "utf8", env: { ...process.env, NIX_CONF_DIR: root, NIX_REMOTE: "" } },
  );
  const valid = paths.filter(
    (path) =>
      spawnSync("nix-store", ["--store", store.uri, "--check-validity", path], {
        env: { ...process.env, NIX_CONF_DIR: root },
      }).status === 0,
  );
  store.dispose();
  return { status: result.status, stderr: result.stderr, valid };
}

test("nix copy accepts narinfos signed with a generated Kiln key, trusted in Nix form", async (t) => {
  if (!requirePeer(t, "nix", "Nix")) return;
  const key = generateKeyPair({
    publicKeyFile: join(root, "etc/signing-key.pub"),
    secretKeyFile: join(root, "etc/signing-key.sec"),
  });
  const secret = readSecretKey(join(root, "etc/signing-key.sec"));
  const sign = (text: string) => signNarinfoBoth(text, secret, { hostname: "kiln-test" });
  const { url, paths } = await makeCache("good", 25, sign);
  const trusted = exportPublicKey(key.q, "nix", { name: "kiln-kiln-test-1" });
  const copied = nixCopy(url, trusted, paths);
  assert.equal(copied.status, 0, copied.stderr);
  assert.deepEqual(copied.valid, paths);
});

test("a key read from a Nix secret key file signs as Nix expects too", async (t) => {
  if (!requirePeer(t, "nix-store", "Nix")) return;
  const sk = join(root, "nix.sk");
  const pk = join(root, "nix.pk");
  const generated = spawnSync("nix-store", ["--generate-binary-cache-key", "nixgen-1", sk, pk]);
  assert.equal(generated.status, 0, String(generated.stderr));
  const secret: SigningKey = parseSigningKey(readFileSync(sk, "utf8"));
  const { url, paths } = await makeCache("nixgen", 3, (text) =>
    signNarinfoBoth(text, secret, { hostname: "h" }),
  );
  const copied = nixCopy(url, readFileSync(pk, "utf8"), paths);
  assert.equal(copied.status, 0, copied.stderr);
  assert.deepEqual(copied.valid, paths);
});

test("nix copy refuses an untrusted key and a narinfo changed after signing", async (t) => {
  if (!requirePeer(t, "nix", "Nix")) return;
  const signer = parseSigningKey(readFileSync(join(root, "nix.sk"), "utf8"));
  const stranger = generateKeyPair({
    publicKeyFile: join(root, "stranger.pub"),
    secretKeyFile: join(root, "stranger.sec"),
  });
  const trusted = exportPublicKey(signer.q, "nix", { name: "farm-1" });
  // Item 0 is signed by a stranger under the trusted name; item 1 has its NarHash
  // changed after signing.
  const { url, paths } = await makeCache("bad", 2, (text, index) => {
    if (index === 0) return signNarinfoBoth(text, stranger, { hostname: "h", keyName: "farm-1" });
    const signed = signNarinfoBoth(text, signer, { hostname: "h", keyName: "farm-1" });
    const otherHash = formatHashNix32({ algorithm: "sha256", digest: new Uint8Array(32) });
    return signed.replace(/^NarHash: .*$/m, `NarHash: ${otherHash}`);
  });
  for (const path of paths) {
    const copied = nixCopy(url, trusted, [path]);
    assert.notEqual(copied.status, 0);
    assert.match(copied.stderr, /lacks a valid signature/);
    assert.deepEqual(copied.valid, []);
  }
});

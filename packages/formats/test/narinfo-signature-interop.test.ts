/**
 * Differential tests of narinfo signing against the real implementations: Nix 2.8
 * (`nix store sign`) for `Sig:` lines, and libgcrypt (what Guix links, driven through
 * Python's ctypes) for Guix keys, S-expression printing and deterministic ECDSA.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import fc from "fast-check";
import {
  formatGuixPublicKey,
  formatGuixSecretKey,
  guixKeyPairFromSeed,
  parseGuixSecretKey,
} from "../src/guix-key.ts";
import { guixSignatureSexp, signGuixNarinfo } from "../src/guix-signature.ts";
import { parseHash } from "../src/hash.ts";
import { narinfoFingerprint } from "../src/narinfo-fingerprint.ts";
import {
  generateNixKeyPair,
  parseNixPublicKey,
  parseNixSecretKey,
  signNix,
  verifyNix,
} from "../src/nix-signature.ts";
import { findSexp, parseSexp, printSexp, type Sexp, sexpAtom } from "../src/sexp.ts";

/** Runs one batch of libgcrypt operations; see the request fields used below. */
const GCRYPT_PEER = `
import base64, ctypes, ctypes.util, json, sys
name = ctypes.util.find_library("gcrypt")
if not name:
    sys.exit(3)
g = ctypes.CDLL(name)
g.gcry_check_version.restype = ctypes.c_char_p
g.gcry_sexp_find_token.restype = ctypes.c_void_p
g.gcry_sexp_sprint.restype = ctypes.c_size_t
version = g.gcry_check_version(None).decode()
def scan(data):
    p = ctypes.c_void_p(); off = ctypes.c_size_t()
    rc = g.gcry_sexp_sscan(ctypes.byref(p), ctypes.byref(off), data, len(data))
    if rc: raise ValueError("sscan error %d at %d" % (rc, off.value))
    return p
def sprint(p, mode):
    n = g.gcry_sexp_sprint(p, mode, None, 0); buf = ctypes.create_string_buffer(n)
    g.gcry_sexp_sprint(p, mode, buf, n); return buf.raw[:n - 1]
def find(p, token):
    return ctypes.c_void_p(g.gcry_sexp_find_token(p, token, 0))
b64 = lambda b: base64.b64encode(b).decode()
req = json.load(sys.stdin)
out = {"version": version, "keys": [], "signatures": [], "verify": [], "reprint": []}
for _ in range(req.get("genkeys", 0)):
    k = ctypes.c_void_p()
    assert not g.gcry_pk_genkey(ctypes.byref(k), scan(b"(genkey (ecdsa (curve Ed25519) (flags rfc6979)))"))
    out["keys"].append({"secret": sprint(find(k, b"private-key"), 3).decode(), "public": sprint(find(k, b"public-key"), 3).decode()})
for s in req.get("sign", []):
    data = scan(("(data (flags rfc6979) (hash sha256 #%s#))" % s["digest"]).encode())
    sig = ctypes.c_void_p()
    rc = g.gcry_pk_sign(ctypes.byref(sig), data, scan(s["secret"].encode()))
    out["signatures"].append(sprint(sig, 3).decode() if rc == 0 else "error %d" % rc)
for v in req.get("verify", []):
    full = scan(base64.b64decode(v))
    out["verify"].append(g.gcry_pk_verify(find(full, b"sig-val"), find(full, b"data"), find(full, b"public-key")))
for r in req.get("reprint", []):
    p = scan(base64.b64decode(r))
    out["reprint"].append({"advanced": b64(sprint(p, 3)), "canonical": b64(sprint(p, 1))})
json.dump(out, sys.stdout)
`;

interface GcryptReply {
  version: string;
  keys: { secret: string; public: string }[];
  signatures: string[];
  verify: number[];
  reprint: { advanced: string; canonical: string }[];
}

/** One python3 process per call; undefined (test skipped) when libgcrypt is missing. */
function gcrypt(t: TestContext, request: object): GcryptReply | undefined {
  if (!requirePeer(t, "python3", "Python (to drive libgcrypt)")) return undefined;
  const result = spawnSync("python3", ["-c", GCRYPT_PEER], {
    input: JSON.stringify(request),
    maxBuffer: 1 << 26,
  });
  if (result.status === 3) {
    const message = "libgcrypt is not installed: this interop test cannot run";
    if (process.env.CI === "true") throw new Error(`${message}; CI must install libgcrypt20`);
    process.stderr.write(
      `\n!!! SKIPPED: ${message}. Install it (apt-get install libgcrypt20).\n\n`,
    );
    t.skip(message);
    return undefined;
  }
  assert.equal(result.status, 0, result.stderr.toString());
  return JSON.parse(result.stdout.toString());
}

const sigVal = (payload: Uint8Array) =>
  Buffer.from(printSexp(findSexp(parseSexp(payload), "sig-val")!)).toString("utf8");
const upperHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex").toUpperCase();
const farm = JSON.parse(
  readFileSync(new URL("fixtures/guix-narinfo.json", import.meta.url), "utf8"),
).cases[0];

test("libgcrypt's own Ed25519 keys read and print identically", (t) => {
  const reply = gcrypt(t, { genkeys: 4 });
  if (!reply) return;
  for (const key of reply.keys) {
    const pair = parseGuixSecretKey(key.secret);
    assert.equal(formatGuixSecretKey(pair), key.secret);
    assert.equal(formatGuixPublicKey(pair.q), key.public);
  }
});

test("ECDSA signatures equal libgcrypt's bit for bit, for libgcrypt's keys and Kiln's", (t) => {
  const generated = gcrypt(t, { genkeys: 3 });
  if (!generated) return;
  const keys = [
    ...generated.keys.map((key) => parseGuixSecretKey(key.secret)),
    ...[1, 2, 3].map(() => guixKeyPairFromSeed(randomBytes(32))),
  ];
  const jobs = keys.flatMap((key) =>
    Array.from({ length: 12 }, () => ({ key, digest: randomBytes(32) })),
  );
  const reply = gcrypt(t, {
    sign: jobs.map(({ key, digest }) => ({
      secret: formatGuixSecretKey(key),
      digest: upperHex(digest),
    })),
  })!;
  jobs.forEach(({ key, digest }, i) => {
    assert.equal(sigVal(guixSignatureSexp(digest, key)), reply.signatures[i], `job ${i}`);
  });
});

test("libgcrypt verifies the Signature: payloads Kiln writes, and re-prints them identically", (t) => {
  const unsigned = farm.narinfo.slice(0, farm.narinfo.indexOf("Signature:"));
  const payloads = [1, 2, 3, 4, 5].map((i) => {
    const signed = signGuixNarinfo(`${unsigned}X-Run: ${i}\n`, {
      ...guixKeyPairFromSeed(randomBytes(32)),
      hostname: "kiln",
    });
    return signed.slice(signed.lastIndexOf(";") + 1).trim();
  });
  const reply = gcrypt(t, { verify: payloads, reprint: payloads });
  if (!reply) return;
  assert.deepEqual(reply.verify, [0, 0, 0, 0, 0]);
  for (const [i, payload] of payloads.entries()) assert.equal(reply.reprint[i].advanced, payload);
});

test("libgcrypt reads printSexp's text back to what printSexp prints, in both forms", (t) => {
  const tree: fc.Arbitrary<Sexp> = fc.letrec<{ node: Sexp; list: Sexp }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      fc.uint8Array({ maxLength: 10 }),
      fc.stringMatching(/^[a-z][a-z0-9:=.-]{0,6}$/).map(sexpAtom),
      fc
        .string({ unit: "binary-ascii", maxLength: 6 })
        .map((s) => new Uint8Array(Buffer.from(s, "latin1"))),
      fc
        .array(fc.integer({ min: 0x20, max: 0xff }), { maxLength: 6 })
        .map((b) => Uint8Array.from(b)),
      tie("list"),
    ),
    // libgcrypt collapses an empty top-level list, so the root is a non-empty list.
    list: fc.array(tie("node"), { minLength: 1, maxLength: 4 }),
  })).list;
  const trees = fc.sample(tree, 60);
  const reply = gcrypt(t, {
    // The advanced form, since libgcrypt refuses the canonical empty atom "0:".
    reprint: trees.map((sexp) => Buffer.from(printSexp(sexp)).toString("base64")),
  });
  if (!reply) return;
  trees.forEach((sexp, i) => {
    assert.equal(
      Buffer.from(reply.reprint[i].advanced, "base64").toString("latin1"),
      Buffer.from(printSexp(sexp)).toString("latin1"),
    );
    assert.deepEqual(parseSexp(Buffer.from(reply.reprint[i].advanced, "base64")), sexp);
    assert.equal(
      reply.reprint[i].canonical,
      Buffer.from(printSexp(sexp, { form: "canonical" })).toString("base64"),
    );
  });
});

test("Nix's `nix store sign` and signNix agree, with keys made by either side", (t) => {
  if (!requirePeer(t, "nix-store")) return;
  const store = createPrivateNixStore("/nix/store");
  const dir = mkdtempSync(join(tmpdir(), "kiln-sign-"));
  try {
    writeFileSync(join(dir, "a.txt"), "hello\n");
    const source = store
      .run("nix-store", ["--add", join(dir, "a.txt")])
      .toString()
      .trim();
    const drv = store
      .run("nix-instantiate", [
        "--expr",
        `derivation { name = "x"; system = "x86_64-linux"; builder = "/bin/sh"; src = ${join(dir, "a.txt")}; }`,
      ])
      .toString()
      .trim();
    const paths = [source, drv];
    const nixMade = spawnSync("nix-store", [
      "--generate-binary-cache-key",
      "nix-made-1",
      join(dir, "nix.sk"),
      join(dir, "nix.pk"),
    ]);
    assert.equal(nixMade.status, 0, nixMade.stderr.toString());
    const kilnMade = generateNixKeyPair("kiln-made-1");
    writeFileSync(join(dir, "kiln.sk"), kilnMade.secretKey);
    const nixSecret = parseNixSecretKey(readFileSync(join(dir, "nix.sk"), "utf8"));
    const nixPublic = parseNixPublicKey(readFileSync(join(dir, "nix.pk"), "utf8"));
    // New-style commands act on a .drv's outputs unless told --derivation.
    const asIs = (path: string) => (path.endsWith(".drv") ? ["--derivation", path] : [path]);
    const infos = paths.flatMap((path) => {
      for (const key of ["nix.sk", "kiln.sk"]) {
        store.run("nix", ["store", "sign", "--key-file", join(dir, key), ...asIs(path)]);
      }
      return JSON.parse(store.run("nix", ["path-info", "--json", ...asIs(path)]).toString());
    });
    assert.equal(infos.length, 2);
    for (const info of infos) {
      const fingerprint = narinfoFingerprint({
        storePath: info.path,
        narHash: parseHash(info.narHash),
        narSize: info.narSize,
        references: info.references,
      });
      const expected = [
        signNix(kilnMade.secretKey, fingerprint),
        signNix(nixSecret, fingerprint),
      ].sort();
      assert.deepEqual([...info.signatures].sort(), expected);
      for (const sig of info.signatures) {
        assert.equal(verifyNix([nixPublic, kilnMade.publicKey], fingerprint, sig).valid, true);
      }
    }
    assert.equal(
      infos.find((i: { path: string }) => i.path === drv).references.includes(source),
      true,
    );
  } finally {
    store.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDerivedPath, parseDerivedPath } from "./derived-path.ts";
import { NIX_2_8_FORMAT } from "./wire-format.ts";

const drv = "/nix/store/dz5804pzyrwwj3cm256fcizhlrghc4zc-hello.drv";

test("built paths as Nix 2.8 sends them (drv!out, drv!*) round-trip", () => {
  for (const text of [`${drv}!out`, `${drv}!*`, `${drv}!dev,out`]) {
    assert.equal(formatDerivedPath(parseDerivedPath(text, NIX_2_8_FORMAT)), text);
  }
  assert.deepEqual(parseDerivedPath(`${drv}!out,dev,out`, NIX_2_8_FORMAT), {
    kind: "built",
    drvPath: drv,
    outputs: ["dev", "out"],
  });
});

test("a bare .drv is the file itself from 1.30 on, and a build before that and for Guix", () => {
  assert.deepEqual(parseDerivedPath(drv, NIX_2_8_FORMAT), { kind: "opaque", path: drv });
  for (const format of [
    { minor: 29, dialect: "nix" as const },
    { minor: 34, dialect: "guix" as const },
  ]) {
    assert.deepEqual(parseDerivedPath(drv, format), { kind: "built", drvPath: drv, outputs: "*" });
  }
  const plain = "/nix/store/7kninbr93ivkf0zgr9i67wzddihrpm0m-hello";
  assert.deepEqual(parseDerivedPath(plain, { minor: 20, dialect: "nix" }), {
    kind: "opaque",
    path: plain,
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import {
  applyClientOptions,
  readClientOptions,
  type WireClientOptions,
} from "./client-settings.ts";
import { NIX_2_8_FORMAT } from "./wire-format.ts";

function reader(bytes: Uint8Array): FrameReader {
  const r = new FrameReader();
  r.push(bytes);
  r.end();
  return r;
}

test("reads SetOptions exactly as nix-store 2.8 sent it (captured from a real client)", async () => {
  // After the operation code 19: keepFailed 0, keepGoing 0, fallback 0, verbosity 3,
  // max-jobs 1, max-silent-time 0, build hook 1, build verbosity 0, log type 0, trace 0,
  // cores 2, substitutes 1, no overrides.
  const w = new FrameWriter();
  for (const n of [0, 0, 0, 3, 1, 0, 1, 0, 0, 0, 2, 1, 0]) w.u64(n);
  const r = reader(w.take());
  const options = await readClientOptions(r, NIX_2_8_FORMAT);
  assert.equal(options.verbosity, 3);
  assert.equal(options.buildCores, 2);
  assert.equal(options.useSubstitutes, true);
  assert.equal(options.overrides.size, 0);
  assert.equal(r.buffered, 0, "every byte consumed");
});

const base: WireClientOptions = {
  keepFailed: true,
  keepGoing: true,
  tryFallback: false,
  verbosity: 5,
  maxBuildJobs: 8,
  maxSilentTime: 30,
  buildCores: 4,
  useSubstitutes: false,
  overrides: new Map(),
};

test("anyone may tune their own builds", () => {
  const { settings, warnings } = applyClientOptions(
    {
      ...base,
      overrides: new Map([
        ["build-timeout", "60"],
        ["max-silent-time", "7"],
        ["cores", "3"],
      ]),
    },
    { trusted: false },
  );
  assert.deepEqual(warnings, []);
  assert.equal(settings.timeout, 60);
  assert.equal(settings.maxSilentTime, 7);
  assert.equal(settings.buildCores, 3);
  assert.equal(settings.keepFailed, true);
  assert.equal(settings.useSubstitutes, false);
});

test("untrusted clients cannot turn off the sandbox or choose substituters", () => {
  const overrides = new Map([
    ["sandbox", "false"],
    ["substituters", "http://evil.example"],
    ["allowed-impure-host-deps", "/"],
  ]);
  const untrusted = applyClientOptions({ ...base, overrides }, { trusted: false });
  assert.equal(untrusted.settings.disableChroot, false);
  assert.equal(untrusted.settings.substituteUrls, undefined);
  assert.equal(untrusted.warnings.length, 3);
  assert.match(untrusted.warnings[0], /restricted setting and you are not a trusted user/);
  const trusted = applyClientOptions({ ...base, overrides }, { trusted: true });
  assert.equal(trusted.settings.disableChroot, true);
  assert.deepEqual(trusted.settings.substituteUrls, ["http://evil.example"]);
  assert.deepEqual(trusted.warnings, []);
});

test("settings Nix and Guix clients always send are accepted quietly", () => {
  const overrides = new Map([
    ["terminal-columns", "80"],
    ["locale", "C"],
    ["experimental-features", "nix-command"],
  ]);
  assert.deepEqual(applyClientOptions({ ...base, overrides }, { trusted: false }).warnings, []);
});

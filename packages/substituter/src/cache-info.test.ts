import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCacheInfo } from "./cache-info.ts";

test("parseCacheInfo reads StoreDir, WantMassQuery and Priority, with Nix's defaults", () => {
  assert.deepEqual(parseCacheInfo("StoreDir: /gnu/store\nWantMassQuery: 1\nPriority: 40\n"), {
    storeDir: "/gnu/store",
    wantMassQuery: true,
    priority: 40,
  });
  assert.deepEqual(parseCacheInfo("StoreDir: /nix/store\n"), {
    storeDir: "/nix/store",
    wantMassQuery: false,
    priority: 50,
  });
  assert.deepEqual(parseCacheInfo("Unknown: x\nWantMassQuery: 0\n"), {
    wantMassQuery: false,
    priority: 50,
  });
});

test("parseCacheInfo refuses a Priority that is not a number", () => {
  assert.throws(() => parseCacheInfo("Priority: high\n"), {
    code: "ERR_SUBSTITUTE_CACHE_INFO",
    message: 'nix-cache-info: Priority "high" is not a number',
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { splitNameVersion } from "./manifest-entry.ts";
import { evaluateSearchPaths, formatSearchPath, searchPathsOf } from "./search-paths.ts";

test("an item's search paths come from the directories it has", () => {
  const dirs = new Set(["bin", "share/man", "lib/pkgconfig"]);
  assert.deepEqual(
    searchPathsOf((d) => dirs.has(d)).map((s) => s.variable),
    ["PATH", "PKG_CONFIG_PATH", "MANPATH"],
  );
  assert.deepEqual(
    searchPathsOf(() => false),
    [],
  );
});

test("a profile's search paths: PATH always considered, values only from directories present", () => {
  const manifest = {
    entries: [
      {
        name: "pc",
        version: "1",
        output: "out",
        item: "/gnu/store/x-pc-1",
        searchPaths: searchPathsOf((d) => d === "share/pkgconfig" || d === "share/info"),
      },
    ],
  };
  const present = new Set(["bin", "sbin", "share/pkgconfig"]);
  const settings = evaluateSearchPaths(manifest, "/home/ada/.kiln-profile", (d) => present.has(d));
  assert.deepEqual(settings, [
    {
      variable: "PATH",
      value: "/home/ada/.kiln-profile/bin:/home/ada/.kiln-profile/sbin",
      separator: ":",
    },
    {
      variable: "PKG_CONFIG_PATH",
      value: "/home/ada/.kiln-profile/share/pkgconfig",
      separator: ":",
    },
  ]);
  const path = settings[0];
  assert.equal(formatSearchPath(path, "exact"), `export PATH="${path.value}"`);
  assert.equal(formatSearchPath(path, "prefix"), `export PATH="${path.value}\${PATH:+:}$PATH"`);
  assert.equal(formatSearchPath(path, "suffix"), `export PATH="$PATH\${PATH:+:}${path.value}"`);
});

test("store names split into name and version as Nix splits derivation names", () => {
  assert.deepEqual(splitNameVersion("hello-2.12"), { name: "hello", version: "2.12" });
  assert.deepEqual(splitNameVersion("gcc-toolchain-12.3.0"), {
    name: "gcc-toolchain",
    version: "12.3.0",
  });
  assert.deepEqual(splitNameVersion("profile"), { name: "profile", version: "" });
  assert.deepEqual(splitNameVersion("python-3-foo"), { name: "python", version: "3-foo" });
});

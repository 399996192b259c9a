/**
 * Writes examples/hello.drv: a derivation for /gnu/store whose builder is the host's
 * /bin/sh (made visible with --chroot-directory), used by the README's first command.
 * Run again after changing it: `node scripts/make-example-drv.ts`.
 */
import { writeFileSync } from "node:fs";
import type { Derivation } from "../packages/formats/src/derivation.ts";
import { computeDerivationOutputs } from "../packages/formats/src/derivation-outputs.ts";
import { printDerivation } from "../packages/formats/src/print-derivation.ts";

// Shell built-ins only: the sandbox has no PATH, just /bin/sh and what it needs.
const script = [
  "read host < /proc/sys/kernel/hostname",
  "set -- /proc/[0-9]*",
  'echo "Hello from a Kiln sandbox: hostname $host, $# processes visible, $NIX_BUILD_CORES cores, building in $PWD" > $out',
].join("; ");
const drv: Derivation = {
  outputs: new Map([["out", { path: "", hashAlgo: "", hash: "" }]]),
  inputDrvs: new Map(),
  inputSrcs: [],
  system: "x86_64-linux",
  builder: "/bin/sh",
  args: ["-c", script],
  env: new Map([
    ["builder", "/bin/sh"],
    ["name", "hello"],
    ["out", ""],
    ["system", "x86_64-linux"],
  ]),
};
const full = computeDerivationOutputs(drv, {
  resolve: () => {
    throw new Error("no inputs");
  },
  storeDir: "/gnu/store",
});
writeFileSync(new URL("../examples/hello.drv", import.meta.url), printDerivation(full));
console.log(full.outputs.get("out")?.path);

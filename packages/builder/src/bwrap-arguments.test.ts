import assert from "node:assert/strict";
import { test } from "node:test";
import { bwrapArguments } from "./bwrap-arguments.ts";
import { sandboxEtcFiles } from "./sandbox-etc-files.ts";
import { sandboxLayout } from "./sandbox-layout.ts";

const layout = sandboxLayout("/var/kiln/builds/1", "hello-2.12");
const spec = {
  storeDir: "/gnu/store",
  builder: "/gnu/store/aaa-bash/bin/bash",
  args: ["-e", "builder.sh"],
  network: false,
};
const inputs = [
  { path: "/gnu/store/aaa-bash", realPath: "/real/aaa-bash" },
  { path: "/gnu/store/bbb-link", symlink: "/gnu/store/aaa-bash" },
];

function argsFor(network: boolean, chrootDirs?: string[]) {
  return bwrapArguments(
    { ...spec, network, chrootDirs },
    {
      layout,
      inputs,
      etcFiles: sandboxEtcFiles({ uid: 30001, gid: 30000, network }),
      uid: 30001,
      gid: 30000,
    },
  );
}

/** The position of `op` followed by `operands` in `args`, or -1. */
function indexOfOp(args: string[], op: string, ...operands: string[]): number {
  return args.findIndex((arg, i) => arg === op && operands.every((o, j) => args[i + 1 + j] === o));
}

test("non-fixed-output builds get their own network namespace, fixed-output builds do not", () => {
  assert.notEqual(argsFor(false).indexOf("--unshare-net"), -1);
  assert.equal(argsFor(true).indexOf("--unshare-net"), -1);
  assert.notEqual(
    indexOfOp(argsFor(true), "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"),
    -1,
  );
  assert.equal(
    indexOfOp(argsFor(false), "--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"),
    -1,
  );
});

test("the /etc files come from descriptors 4, 5 and (without network) 6", () => {
  const closed = argsFor(false);
  assert.notEqual(indexOfOp(closed, "--file", "4", "/etc/passwd"), -1);
  assert.notEqual(indexOfOp(closed, "--file", "5", "/etc/group"), -1);
  assert.notEqual(indexOfOp(closed, "--file", "6", "/etc/hosts"), -1);
  assert.equal(indexOfOp(argsFor(true), "--file", "6", "/etc/hosts"), -1);
});

test("mounts come in an order that works: /tmp before the build tree, store before inputs", () => {
  const args = argsFor(false);
  const tmp = indexOfOp(args, "--tmpfs", "/tmp");
  const top = indexOfOp(args, "--bind", layout.hostBuildTop, "/tmp/kiln-build-hello-2.12.drv-0");
  const store = indexOfOp(args, "--bind", layout.hostStoreDir, "/gnu/store");
  const input = indexOfOp(args, "--ro-bind", "/real/aaa-bash", "/gnu/store/aaa-bash");
  const link = indexOfOp(args, "--symlink", "/gnu/store/aaa-bash", "/gnu/store/bbb-link");
  const readOnlyRoot = indexOfOp(args, "--remount-ro", "/");
  assert.ok(tmp !== -1 && tmp < top, "tmpfs before the build tree");
  assert.ok(store !== -1 && store < input && store < link, "store before the inputs");
  assert.ok(readOnlyRoot > input && readOnlyRoot > link, "root read-only last");
});

test("the build runs as the given ids, as PID 1, from the build tree, builder last", () => {
  const args = argsFor(false, ["/bin/sh"]);
  assert.notEqual(indexOfOp(args, "--uid", "30001"), -1);
  assert.notEqual(indexOfOp(args, "--gid", "30000"), -1);
  for (const flag of ["--as-pid-1", "--die-with-parent", "--new-session", "--unshare-pid"]) {
    assert.notEqual(args.indexOf(flag), -1, flag);
  }
  assert.notEqual(indexOfOp(args, "--ro-bind", "/bin/sh", "/bin/sh"), -1);
  assert.notEqual(indexOfOp(args, "--chdir", "/tmp/kiln-build-hello-2.12.drv-0"), -1);
  assert.deepEqual(args.slice(-4), ["--", spec.builder, "-e", "builder.sh"]);
});

test("sandboxLayout refuses names that could escape /tmp", () => {
  assert.throws(() => sandboxLayout("/x", "../../etc"), /not a valid derivation name/);
  assert.throws(() => sandboxLayout("/x", ".hidden"), /not a valid derivation name/);
  assert.throws(() => sandboxLayout("/x", ""), /not a valid derivation name/);
  assert.equal(sandboxLayout("/x", "a+b_c?=d").buildTop, "/tmp/kiln-build-a+b_c?=d.drv-0");
});

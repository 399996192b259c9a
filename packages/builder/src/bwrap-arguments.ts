/**
 * The bubblewrap command line of a sandboxed build. Pure, so that what the sandbox
 * contains can be read (and tested) in one place.
 *
 * Order matters: bwrap applies the operations one after the other, so /tmp is mounted
 * before the build tree inside it, the store directory before the inputs inside it,
 * and the root is made read-only last.
 */
import type { SandboxEtcFiles } from "./sandbox-etc-files.ts";
import type { SandboxLayout } from "./sandbox-layout.ts";
import type { SandboxSpec } from "./sandbox-spec.ts";

/** An input as bound into the sandbox: a bind mount, or a symlink re-created as such. */
export type ResolvedInput = { path: string; realPath: string } | { path: string; symlink: string };

/** The descriptor on which bwrap reports the pid of the sandbox's first process. */
export const INFO_FD = 3;

/**
 * The /etc files are handed to bwrap through descriptors 4, 5 (and 6), in this order,
 * and written into the sandbox's root tmpfs: no file per build on the host's disk.
 */
export const ETC_FILES = ["passwd", "group", "hosts"] as const;

// For fixed-output builds: enough of the host's /etc to resolve names.
const NETWORK_ETC_FILES = ["/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/services", "/etc/hosts"];

/**
 * The arguments to bwrap for `spec`, running as `uid`:`gid` inside the sandbox.
 *
 * The builder is the sandbox's PID 1 (`--as-pid-1`), as in guix-daemon and Nix: when
 * it exits, the kernel kills every other process in the PID namespace before bwrap
 * sees it exit, so nothing the build started outlives it.
 */
export function bwrapArguments(
  spec: Pick<SandboxSpec, "storeDir" | "builder" | "args" | "network" | "chrootDirs">,
  options: {
    layout: SandboxLayout;
    inputs: readonly ResolvedInput[];
    etcFiles: SandboxEtcFiles;
    uid: number;
    gid: number;
    /** bwrap waits for a byte on this descriptor before it starts the builder. */
    blockFd?: number;
  },
): string[] {
  const { layout, inputs, etcFiles, uid, gid, blockFd } = options;
  const args = [
    "--unshare-user",
    "--uid",
    String(uid),
    "--gid",
    String(gid),
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    ...(spec.network ? [] : ["--unshare-net"]),
    "--hostname",
    "localhost",
    "--as-pid-1",
    "--die-with-parent",
    // A new session: the build cannot inject input into a terminal (TIOCSTI).
    "--new-session",
    // Matters when the daemon runs as root without build users: the build is then uid 0
    // in its namespace, and must not keep capabilities there (e.g. to remount).
    "--cap-drop",
    "ALL",
    "--info-fd",
    String(INFO_FD),
    ...(blockFd === undefined ? [] : ["--block-fd", String(blockFd)]),
    "--dev",
    "/dev",
    "--dev-bind-try",
    "/dev/kvm",
    "/dev/kvm",
    "--proc",
    "/proc",
    "--perms",
    "1777",
    "--tmpfs",
    "/tmp",
    "--bind",
    layout.hostBuildTop,
    layout.buildTop,
  ];
  // bwrap would create these as 0700; guix-daemon's are world-readable.
  for (const dir of ["/etc", ...ancestors(spec.storeDir)])
    args.push("--perms", "0755", "--dir", dir);
  args.push("--bind", layout.hostStoreDir, spec.storeDir);
  for (const input of inputs) {
    if ("symlink" in input) args.push("--symlink", input.symlink, input.path);
    else args.push("--ro-bind", input.realPath, input.path);
  }
  let fd = INFO_FD + 1;
  for (const name of ETC_FILES) {
    if (etcFiles[name] !== undefined)
      args.push("--perms", "0644", "--file", String(fd++), `/etc/${name}`);
  }
  if (spec.network) {
    for (const file of NETWORK_ETC_FILES) args.push("--ro-bind-try", file, file);
  }
  for (const dir of spec.chrootDirs ?? []) args.push("--ro-bind", dir, dir);
  args.push("--remount-ro", "/", "--chdir", layout.buildTop, "--", spec.builder, ...spec.args);
  return args;
}

/** `/gnu/store` → [`/gnu`]; `/nix/var/store` → [`/nix`, `/nix/var`]. */
function ancestors(path: string): string[] {
  const parts = path.split("/").filter((part) => part !== "");
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join("/")}`);
}

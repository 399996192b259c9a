/**
 * Where a build's files are, on the host and inside the sandbox.
 *
 * `<scratchDir>/build` is private (mode 0700). It holds the build tree (`top`) and the
 * sandbox's writable store directory (`store`, where the builder creates its outputs
 * next to the read-only inputs). Inside the
 * sandbox the build tree is always `/tmp/kiln-build-NAME.drv-0`, whatever the host's
 * TMPDIR, so that its name cannot leak into build results.
 */
import { join } from "node:path";
import { BuilderError } from "./builder-error.ts";

export interface SandboxLayout {
  /** The build tree as the builder sees it: `/tmp/kiln-build-NAME.drv-0`. */
  buildTop: string;
  /** Mode 0700; owned by the build user during the build, by the daemon's user after it. */
  hostPrivateDir: string;
  /** The build tree on the host (mode 0700, owned by the build user). */
  hostBuildTop: string;
  /** Bound writable at the logical store directory; outputs appear here. */
  hostStoreDir: string;
}

// The characters Nix allows in store path names.
const DRV_NAME = /^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$/;

/**
 * The layout of a build under `scratchDir`.
 *
 * @example
 * sandboxLayout("/var/kiln/builds/7", "hello-2.12").buildTop // "/tmp/kiln-build-hello-2.12.drv-0"
 */
export function sandboxLayout(scratchDir: string, drvName: string): SandboxLayout {
  if (!DRV_NAME.test(drvName)) {
    throw new BuilderError("ERR_SANDBOX_SETUP", `"${drvName}" is not a valid derivation name`);
  }
  const hostPrivateDir = join(scratchDir, "build");
  return {
    buildTop: `/tmp/kiln-build-${drvName}.drv-0`,
    hostPrivateDir,
    hostBuildTop: join(hostPrivateDir, "top"),
    hostStoreDir: join(hostPrivateDir, "store"),
  };
}

/**
 * The CLI's configuration, parsed once at the edge: defaults, then the environment,
 * then global flags. Everything below receives this frozen object (or a Pick of it)
 * and never reads process.env itself.
 */
import { FormatError } from "@kiln/formats/kiln-error";

export interface CliConfig {
  /** Logical store directory: part of every store path hash. */
  readonly storeDir: string;
  /** Where the store's files really are (defaults to storeDir). */
  readonly realStoreDir: string;
  /** State directory (database, logs, roots, profiles, daemon socket live under `${stateDir}/kiln`). */
  readonly stateDir: string;
  /** Configuration directory: signing keys and the ACL of trusted keys (`/etc/kiln`). */
  readonly configDir: string;
  /** A daemon socket to go through (`KILN_DAEMON_SOCKET`); otherwise the default one, if a daemon listens. */
  readonly daemonSocket?: string;
  /** http_proxy / https_proxy / no_proxy, for downloads (substitutes, fixed-output builds). */
  readonly proxy: {
    readonly httpProxy?: string;
    readonly httpsProxy?: string;
    readonly noProxy?: string;
  };
}

export interface GlobalFlags {
  storeDir?: string;
  realStoreDir?: string;
  stateDir?: string;
  configDir?: string;
}

function checkDirectory(what: string, value: string): string {
  if (!value.startsWith("/") || value.includes("\0")) {
    throw new FormatError(
      "config",
      `${what} must be an absolute path, got ${JSON.stringify(value)}`,
    );
  }
  // A trailing slash would change every hash; normalise it away (but keep "/").
  return value.length > 1 ? value.replace(/\/+$/, "") : value;
}

/** Resolves the CLI configuration from flags and an environment (KILN_STORE_DIR, …). */
export function resolveCliConfig(
  flags: GlobalFlags,
  env: Readonly<Record<string, string | undefined>>,
): CliConfig {
  const storeDir = checkDirectory(
    "the store directory",
    flags.storeDir ?? env.KILN_STORE_DIR ?? "/gnu/store",
  );
  const realStoreDir = checkDirectory(
    "the real store directory",
    flags.realStoreDir ?? env.KILN_REAL_STORE_DIR ?? storeDir,
  );
  const stateDir = checkDirectory(
    "the state directory",
    flags.stateDir ?? env.KILN_STATE_DIR ?? "/var",
  );
  const configDir = checkDirectory(
    "the configuration directory",
    flags.configDir ?? env.KILN_CONFIG_DIR ?? "/etc/kiln",
  );
  const proxy = Object.freeze({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY,
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY,
    noProxy: env.no_proxy ?? env.NO_PROXY,
  });
  return Object.freeze({
    storeDir,
    realStoreDir,
    stateDir,
    configDir,
    daemonSocket: env.KILN_DAEMON_SOCKET || undefined,
    proxy,
  });
}

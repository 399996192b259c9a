/**
 * The environment a builder starts with, in guix-daemon's order: its fixed variables,
 * the derivation's own, the build-tree variables (which the derivation cannot
 * override), and for fixed-output derivations the impure variables it asks for.
 */

export interface BuildEnvironmentOptions {
  /** Logical store directory, e.g. `/gnu/store`. */
  storeDir: string;
  /** The build tree as the builder sees it, e.g. `/tmp/kiln-build-hello-2.12.drv-0`. */
  buildTop: string;
  /** Value of `NIX_BUILD_CORES`. */
  cores: number;
  /** Fixed-output derivations get proxies and `impureEnvVars` from `impureEnv`. */
  fixedOutput: boolean;
  /** The daemon's own environment, read at the edge and passed down; used only for fixed-output builds. */
  impureEnv?: Readonly<Record<string, string | undefined>>;
}

const PROXY_VARIABLES = ["http_proxy", "https_proxy"];

/**
 * Builds the final environment of a builder.
 *
 * For fixed-output derivations, `http_proxy` and `https_proxy` are copied from
 * `impureEnv` when set there (guix-daemon honours them for downloads), and every name in
 * the derivation's `impureEnvVars` is set from `impureEnv`, or to the empty string when
 * unset there, as guix-daemon and Nix do. Other derivations never see `impureEnv`.
 *
 * @example
 * buildEnvironment({ out: "/gnu/store/…-hello" }, {
 *   storeDir: "/gnu/store", buildTop: "/tmp/kiln-build-hello.drv-0", cores: 2, fixedOutput: false,
 * }).HOME // "/homeless-shelter"
 */
export function buildEnvironment(
  drvEnv: Readonly<Record<string, string>>,
  options: BuildEnvironmentOptions,
): Record<string, string> {
  const { storeDir, buildTop, cores, fixedOutput } = options;
  const impureEnv = fixedOutput ? (options.impureEnv ?? {}) : {};
  const env: Record<string, string> = {
    PATH: "/path-not-set",
    HOME: "/homeless-shelter",
    NIX_STORE: storeDir,
    NIX_BUILD_CORES: String(cores),
  };
  for (const name of PROXY_VARIABLES) {
    const value = impureEnv[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, drvEnv);
  // Set after the derivation's variables so that a derivation cannot point its
  // temporary files somewhere else.
  for (const name of ["NIX_BUILD_TOP", "TMPDIR", "TEMPDIR", "TMP", "TEMP", "PWD"]) {
    env[name] = buildTop;
  }
  if (fixedOutput) {
    for (const name of (drvEnv.impureEnvVars ?? "").split(/\s+/)) {
      if (name !== "") env[name] = impureEnv[name] ?? "";
    }
  }
  return env;
}

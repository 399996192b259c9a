/**
 * The hook through which the daemon substitutes instead of building (issue 5 provides
 * the implementation in @kiln/substituter). Without one, or with `--no-substitutes`,
 * nothing is substituted: missing paths are built or reported missing.
 */

/** What a substitute server says about a path it has. */
export interface SubstitutableInfo {
  readonly deriver?: string;
  readonly references: readonly string[];
  readonly downloadSize: number;
  readonly narSize: number;
}

export interface DaemonSubstituter {
  /** Which of `paths` are available from `urls` (the daemon's, or a trusted client's). */
  querySubstitutable(
    paths: readonly string[],
    options: { urls?: readonly string[]; signal?: AbortSignal },
  ): Promise<ReadonlyMap<string, SubstitutableInfo>>;
  /**
   * Fetches `paths` (and the parts of their closures that are missing), checks them and
   * registers them; resolves with the paths that are now valid. Failures are not
   * rejections: a path that could not be substituted is just not in the result.
   */
  substitute(
    paths: readonly string[],
    options: { urls?: readonly string[]; signal?: AbortSignal; log?: (line: string) => void },
  ): Promise<ReadonlySet<string>>;
}

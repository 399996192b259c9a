/** What the store knows about a valid path (Nix's ValidPathInfo). */
export interface PathInfo {
  /** Full logical store path. */
  readonly path: string;
  /** `sha256:<nix32>` of the path's NAR serialisation. */
  readonly narHash: string;
  readonly narSize: number;
  /** Full store paths this path refers to, sorted; may include itself. */
  readonly references: readonly string[];
  /** The derivation that produced it, if known. */
  readonly deriver?: string;
  /** Seconds since the epoch. */
  readonly registrationTime: number;
  /** True when this store built it (rather than substituting or importing it). */
  readonly ultimate: boolean;
  /** Nix `Sig:` values. */
  readonly sigs: readonly string[];
  /** Content address, e.g. `fixed:r:sha256:<nix32>` or `text:sha256:<nix32>`. */
  readonly ca?: string;
}

/** What callers supply when registering a path. */
export type NewPathInfo = Omit<PathInfo, "registrationTime" | "ultimate" | "sigs"> &
  Partial<Pick<PathInfo, "registrationTime" | "ultimate" | "sigs">>;

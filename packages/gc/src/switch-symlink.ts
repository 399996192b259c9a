/**
 * Atomic symlink replacement (Guix's `switch-symlinks`): a profile, a generation link or
 * a root changes target in one rename, so a reader sees the old target or the new one.
 */
import { renameSync, symlinkSync, unlinkSync } from "node:fs";

/**
 * Replaces (or creates) the symlink `link` so that it points at `target`, atomically.
 * @example switchSymlink("/var/kiln/profiles/per-user/ada/kiln-profile", "kiln-profile-4-link")
 */
export function switchSymlink(link: string, target: string): void {
  const pivot = `${link}.new-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  symlinkSync(target, pivot);
  try {
    renameSync(pivot, link);
  } catch (error) {
    unlinkSync(pivot);
    throw error;
  }
}

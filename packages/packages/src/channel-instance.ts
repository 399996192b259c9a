/**
 * A channel as pulled: which repository, branch and commit, and the store item holding
 * its tree. The item is laid out so that the items of several channels merge into one
 * profile without colliding:
 *
 *   ITEM/channels/NAME/        the channel directory at that commit (channel.json, modules)
 *   ITEM/channels/NAME.json    { name, url, branch, commit, directory }
 *
 * `directory` is where the channel directory is in the repository ("" for the top).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PackageError } from "./package-error.ts";

export interface ChannelInstance {
  readonly name: string;
  readonly url: string;
  readonly branch: string;
  /** The full commit. */
  readonly commit: string;
  /** The channel's directory inside the repository ("" for the top). */
  readonly directory: string;
  /** The store item (logical store path). */
  readonly item: string;
}

/** What is written to `ITEM/channels/NAME.json` (the item is not part of its own content). */
export type ChannelRecord = Omit<ChannelInstance, "item">;

/** The channel directory inside an item's real location. */
export function channelInstanceDir(realItem: string, name: string): string {
  return join(realItem, "channels", name);
}

/**
 * Reads the record of channel `name` from `item`, found at `realItem` on this host.
 * @example readChannelInstance(realItem, { name: "sample", item: "/gnu/store/…-kiln-channel-sample-0123456" })
 */
export function readChannelInstance(
  realItem: string,
  { name, item }: { readonly name: string; readonly item: string },
): ChannelInstance {
  const file = join(realItem, "channels", `${name}.json`);
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new PackageError(`${item} is not a channel item (cannot read ${file})`, { cause });
  }
  for (const key of ["name", "url", "branch", "commit", "directory"])
    if (typeof record[key] !== "string")
      throw new PackageError(`${file}: missing string field ${JSON.stringify(key)}`);
  return { ...(record as unknown as ChannelRecord), item };
}

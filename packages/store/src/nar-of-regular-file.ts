/**
 * The NAR serialisation of a single regular file, built in memory: what a text added to
 * the store hashes to, without reading the file back.
 */
import { narString } from "@kiln/formats/nar-tokens";

const HEAD = ["nix-archive-1", "(", "type", "regular"].map((token) => narString(token));
const EXECUTABLE = ["executable", ""].map((token) => narString(token));
const CONTENTS = narString("contents");
const TAIL = narString(")");

/**
 * @example narOfRegularFile(Buffer.from("hello")) // the bytes `nix-store --dump` prints for such a file
 */
export function narOfRegularFile(contents: Uint8Array, executable = false): Buffer {
  return Buffer.concat([
    ...HEAD,
    ...(executable ? EXECUTABLE : []),
    CONTENTS,
    narString(contents),
    TAIL,
  ]);
}

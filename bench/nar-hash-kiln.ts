/**
 * What `kiln hash -S nar DIR` does, as a stand-alone process for bench/nar-hash.ts:
 * hash the NAR of a path and print the digest in nix32, like `nix hash path --base32`.
 */
import { hashPath } from "../packages/formats/src/hash-path.ts";
import { encodeNix32 } from "../packages/formats/src/nix32.ts";

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write("usage: node bench/nar-hash-kiln.ts PATH\n");
  process.exit(2);
}
const { hash } = await hashPath(path);
process.stdout.write(`${encodeNix32(hash.digest)}\n`);

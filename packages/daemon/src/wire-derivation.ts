/**
 * A BasicDerivation on the wire (BuildDerivation): the outputs (name, path, hash
 * algorithm, hash), input sources, system, builder, arguments and environment. Input
 * derivations are not sent: the receiver builds against the sources it is given.
 */
import type { Derivation, DerivationOutput } from "@kiln/formats/derivation";
import type { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { MAX_PATH_LENGTH } from "./wire-path-info.ts";

/** Appends a derivation, leaving out its input derivations. Maps are written sorted, as Nix does. */
export function writeBasicDerivation(out: FrameWriter, drv: Derivation): void {
  const outputs = [...drv.outputs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  out.u64(outputs.length);
  for (const [name, output] of outputs) {
    out.string(name).string(output.path).string(output.hashAlgo).string(output.hash);
  }
  out
    .strings([...drv.inputSrcs].sort())
    .string(drv.system)
    .string(drv.builder)
    .strings(drv.args);
  const env = [...drv.env].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  out.u64(env.length);
  for (const [key, value] of env) out.string(key).string(value);
}

/** Reads a derivation written by writeBasicDerivation; its `inputDrvs` is empty. */
export async function readBasicDerivation(reader: FrameReader): Promise<Derivation> {
  const outputs = new Map<string, DerivationOutput>();
  for (let n = await reader.u64(); n > 0; n--) {
    const name = await reader.string(MAX_PATH_LENGTH);
    const path = await reader.string(MAX_PATH_LENGTH);
    const hashAlgo = await reader.string(64);
    const hash = await reader.string(1024);
    outputs.set(name, { path, hashAlgo, hash });
  }
  const inputSrcs = await reader.strings(MAX_PATH_LENGTH);
  const system = await reader.string(MAX_PATH_LENGTH);
  const builder = await reader.string(MAX_PATH_LENGTH);
  const args = await reader.strings();
  const env = new Map<string, string>();
  for (let n = await reader.u64(); n > 0; n--) {
    const key = await reader.string();
    env.set(key, await reader.string());
  }
  return { outputs, inputDrvs: new Map(), inputSrcs, system, builder, args, env };
}

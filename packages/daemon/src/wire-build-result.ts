/**
 * BuildResult on the wire. BuildDerivation answers with the status and message, then
 * (from 1.29) times built, non-determinism and start/stop times, then (from 1.28) the
 * built outputs. BuildPathsWithResults (1.34) answers each result keyed by the derived
 * path it is for, with every field.
 *
 * Built outputs map a DrvOutput id (`sha256:<hex of hashDerivationModulo>!<output>`) to
 * a Realisation, which Nix sends as JSON text.
 */
import type { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import type { WireFormat } from "./wire-format.ts";
import { MAX_PATH_LENGTH } from "./wire-path-info.ts";

export interface WireBuildResult {
  /** A BuildStatusCode. */
  readonly status: number;
  readonly errorMsg: string;
  readonly timesBuilt: number;
  readonly isNonDeterministic: boolean;
  /** Seconds since the epoch; 0 when nothing ran. */
  readonly startTime: number;
  readonly stopTime: number;
  /** DrvOutput id → Realisation JSON. */
  readonly builtOutputs: ReadonlyMap<string, string>;
}

/** A result of BuildPathsWithResults: the derived path it answers, in wire form. */
export interface KeyedWireBuildResult extends WireBuildResult {
  readonly path: string;
}

function writeBuiltOutputs(out: FrameWriter, builtOutputs: ReadonlyMap<string, string>): void {
  const entries = [...builtOutputs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  out.u64(entries.length);
  for (const [id, realisation] of entries) out.string(id).string(realisation);
}

async function readBuiltOutputs(reader: FrameReader): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (let n = await reader.u64(); n > 0; n--) {
    const id = await reader.string(MAX_PATH_LENGTH);
    map.set(id, await reader.string(1 << 20));
  }
  return map;
}

/** Appends the answer to BuildDerivation. */
export function writeBuildResult(
  out: FrameWriter,
  result: WireBuildResult,
  format: WireFormat,
): void {
  out.u64(result.status).string(result.errorMsg);
  if (format.minor >= 29) {
    out
      .u64(result.timesBuilt)
      .bool(result.isNonDeterministic)
      .u64(result.startTime)
      .u64(result.stopTime);
  }
  if (format.minor >= 28) writeBuiltOutputs(out, result.builtOutputs);
}

export async function readBuildResult(
  reader: FrameReader,
  format: WireFormat,
): Promise<WireBuildResult> {
  const status = await reader.u64();
  const errorMsg = await reader.string();
  let timesBuilt = 0;
  let isNonDeterministic = false;
  let startTime = 0;
  let stopTime = 0;
  if (format.minor >= 29) {
    timesBuilt = await reader.u64();
    isNonDeterministic = await reader.bool();
    startTime = await reader.u64();
    stopTime = await reader.u64();
  }
  const builtOutputs = format.minor >= 28 ? await readBuiltOutputs(reader) : new Map();
  return { status, errorMsg, timesBuilt, isNonDeterministic, startTime, stopTime, builtOutputs };
}

/** Appends the answers to BuildPathsWithResults: a count, then each keyed result. */
export function writeKeyedBuildResults(
  out: FrameWriter,
  results: readonly KeyedWireBuildResult[],
): void {
  out.u64(results.length);
  for (const result of results) {
    out
      .string(result.path)
      .u64(result.status)
      .string(result.errorMsg)
      .u64(result.timesBuilt)
      .bool(result.isNonDeterministic)
      .u64(result.startTime)
      .u64(result.stopTime);
    writeBuiltOutputs(out, result.builtOutputs);
  }
}

export async function readKeyedBuildResults(reader: FrameReader): Promise<KeyedWireBuildResult[]> {
  const results: KeyedWireBuildResult[] = [];
  for (let n = await reader.u64(); n > 0; n--) {
    const path = await reader.string(MAX_PATH_LENGTH);
    const status = await reader.u64();
    const errorMsg = await reader.string();
    const timesBuilt = await reader.u64();
    const isNonDeterministic = await reader.bool();
    const startTime = await reader.u64();
    const stopTime = await reader.u64();
    const builtOutputs = await readBuiltOutputs(reader);
    results.push({
      path,
      status,
      errorMsg,
      timesBuilt,
      isNonDeterministic,
      startTime,
      stopTime,
      builtOutputs,
    });
  }
  return results;
}

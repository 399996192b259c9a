/**
 * Prometheus metrics of one publish server, in a registry of its own (not prom-client's
 * global one, so that two servers in a process, as in tests, do not mix their counts).
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

/** The endpoint label: the route, never the raw URL (which would explode cardinality). */
export type Endpoint =
  | "nix-cache-info"
  | "narinfo"
  | "nar"
  | "log"
  | "file"
  | "signing-key"
  | "metrics"
  | "index"
  | "other";

export interface PublishMetrics {
  readonly registry: Registry;
  /** Counts a finished request. */
  request(endpoint: Endpoint, status: number): void;
  /** Adds bytes of response bodies. */
  bytes(endpoint: Endpoint, count: number): void;
  readonly bakeQueued: Gauge;
  readonly bakeActive: Gauge;
  readonly baked: Counter<"compression">;
  readonly bakeFailures: Counter;
}

/**
 * Creates the metrics: `kiln_publish_requests_total{endpoint,status}`,
 * `kiln_publish_bytes_served_total{endpoint}`, `kiln_publish_bake_queue_length`,
 * `kiln_publish_bake_active`, `kiln_publish_baked_total{compression}`,
 * `kiln_publish_bake_failures_total`, and Node's default process metrics.
 */
export function createPublishMetrics(): PublishMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "kiln_publish_" });
  const requests = new Counter({
    name: "kiln_publish_requests_total",
    help: "HTTP requests answered, by endpoint and status",
    labelNames: ["endpoint", "status"],
    registers: [registry],
  });
  const bytes = new Counter({
    name: "kiln_publish_bytes_served_total",
    help: "Bytes of response bodies sent, by endpoint",
    labelNames: ["endpoint"],
    registers: [registry],
  });
  // Labelled children, looked up once: inc() with a label object hashes it every time.
  const requestChildren = new Map<Endpoint, Map<number, { inc(): void }>>();
  const bytesChildren = new Map<Endpoint, { inc(value: number): void }>();
  return {
    registry,
    request: (endpoint, status) => {
      let byStatus = requestChildren.get(endpoint);
      if (!byStatus) {
        byStatus = new Map();
        requestChildren.set(endpoint, byStatus);
      }
      let child = byStatus.get(status);
      if (!child) {
        child = requests.labels(endpoint, String(status));
        byStatus.set(status, child);
      }
      child.inc();
    },
    bytes: (endpoint, count) => {
      if (count <= 0) return;
      let child = bytesChildren.get(endpoint);
      if (!child) {
        child = bytes.labels(endpoint);
        bytesChildren.set(endpoint, child);
      }
      child.inc(count);
    },
    bakeQueued: new Gauge({
      name: "kiln_publish_bake_queue_length",
      help: "Store items waiting to be baked",
      registers: [registry],
    }),
    bakeActive: new Gauge({
      name: "kiln_publish_bake_active",
      help: "Store items being baked now",
      registers: [registry],
    }),
    baked: new Counter({
      name: "kiln_publish_baked_total",
      help: "Nars baked into the cache, by compression",
      labelNames: ["compression"],
      registers: [registry],
    }),
    bakeFailures: new Counter({
      name: "kiln_publish_bake_failures_total",
      help: "Store items whose baking failed",
      registers: [registry],
    }),
  };
}

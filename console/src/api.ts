// The console's only way to data: the public API beside it (/api), with the signed-in key in a
// header. The key lives in sessionStorage (gone when the tab closes) and never in a URL.

export type Role = "reader" | "operator" | "admin";

const rank: Record<Role, number> = { reader: 1, operator: 2, admin: 3 };
const keyItem = "nms.apiKey";
const functionKeyItem = "nms.functionKey";

/** The API's base: the console is served at /api/console/, the API at /api/. */
const base = new URL("../", new URL(".", location.href));

export interface Me {
  key_id: string;
  name: string;
  role: Role;
}

let me: Me | null = null;
let signedOutListener: (message: string) => void = () => {};

export const session = {
  get signedIn(): boolean {
    return me !== null;
  },
  get me(): Me | null {
    return me;
  },
  can(role: Role): boolean {
    return me !== null && rank[me.role] >= rank[role];
  },
  hasStoredKey(): boolean {
    return sessionStorage.getItem(keyItem) !== null;
  },
  /** Stores the key, then asks the API who it is; a refused key is removed again. */
  async signIn(key: string, functionKey: string): Promise<Me> {
    sessionStorage.setItem(keyItem, key.trim());
    if (functionKey.trim()) sessionStorage.setItem(functionKeyItem, functionKey.trim());
    else sessionStorage.removeItem(functionKeyItem);
    return this.resume();
  },
  async resume(): Promise<Me> {
    try {
      me = await get<Me>("me");
      return me;
    } catch (error) {
      forget();
      throw error;
    }
  },
  signOut(message = ""): void {
    forget();
    signedOutListener(message);
  },
  onSignedOut(listener: (message: string) => void): void {
    signedOutListener = listener;
  },
};

function forget(): void {
  me = null;
  sessionStorage.removeItem(keyItem);
  sessionStorage.removeItem(functionKeyItem);
}

/** An RFC 9457 problem from the API, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly title: string, readonly detail: string, readonly field?: string) {
    super(field ? `${detail} (${field})` : detail || title);
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function url(path: string, query: Query = {}): URL {
  const target = new URL(path, base);
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") target.searchParams.set(name, String(value));
  }
  return target;
}

export async function request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const key = sessionStorage.getItem(keyItem);
  if (key) headers.Authorization = `Bearer ${key}`;
  const functionKey = sessionStorage.getItem(functionKeyItem);
  if (functionKey) headers["x-functions-key"] = functionKey;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(url(path, options.query), { method, headers, body, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
  } catch {
    throw new ApiError(0, "Network error", "The API did not answer: is the app running?");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const problem = (parsed ?? {}) as { title?: string; detail?: string; field?: string };
    const error = new ApiError(response.status, problem.title ?? response.statusText, problem.detail ?? "", problem.field);
    if (response.status === 401 && me !== null) {
      session.signOut(`Signed out: ${error.detail || "the API key was refused"}`);
    }
    throw error;
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const get = <T>(path: string, query?: Query) => request<T>("GET", path, { query });
export const post = <T>(path: string, body: unknown) => request<T>("POST", path, { body });
export const put = <T>(path: string, body: unknown) => request<T>("PUT", path, { body });
export const patch = <T>(path: string, body: unknown) => request<T>("PATCH", path, { body });
export const del = <T>(path: string) => request<T>("DELETE", path);

// ---- the API's shapes (snake_case, as on the wire) ----

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Device {
  id: number;
  ip: string;
  port: number;
  hostname: string | null;
  description: string | null;
  plugin: string;
  credential_profile_id: number | null;
  discovery_profile_id: number | null;
  poll_interval_seconds: number;
  status: "active" | "inactive";
  deactivation_reason: string | null;
  deactivation_error: string | null;
  deactivated_at: string | null;
  failure_count: number;
  last_failure_at: string | null;
  last_failure_reason: string | null;
  last_failure_error: string | null;
  next_poll_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface CredentialProfile {
  id: number;
  name: string;
  protocol: "snmp_v2c" | "snmp_v3" | "ssh";
  user: string | null;
  auth_protocol: string | null;
  priv_protocol: string | null;
  secret_key_id: string;
  created_at: string;
  updated_at: string;
}

export interface DiscoveryProfile {
  id: number;
  name: string;
  target: string;
  address_count: number | null;
  port: number;
  plugin: string;
  credential_profile_ids: number[];
  ping_precheck: boolean;
  timeout_ms: number;
  poll_interval_seconds: number;
  created_at: string;
  updated_at: string;
}

export interface DiscoveryRun {
  id: string;
  discovery_profile_id: number;
  status: "queued" | "running" | "completed";
  targets: number;
  batches_total: number;
  batches_done: number;
  responded: number;
  provisioned: number;
  already_known: number;
  failed: number;
  failure_samples: Array<{ ip: string; error: string }>;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  key_prefix: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface CreatedApiKey extends Omit<ApiKey, "revoked_at" | "last_used_at"> {
  key: string;
}

export interface DeviceHealthSummary {
  active: number;
  inactive: number;
  failing: number;
  window_seconds: number;
  threshold: number;
  recovery_probe_enabled: boolean;
}

export interface Transition {
  device_id: number;
  ip: string;
  port: number;
  hostname: string | null;
  status: "active" | "inactive";
  kind: "deactivated" | "reactivated";
  reason: string;
  error: string | null;
  at: string;
}

export interface HealthReport {
  status: "healthy" | "unhealthy";
  checks: Array<{ name: string; healthy: boolean; error?: string | null; duration_ms: number }>;
}

export interface MetricPoint {
  ts: string;
  value?: number | null;
  avg?: number | null;
  min?: number | null;
  max?: number | null;
  count?: number | null;
}

export interface MetricSeries {
  name: string;
  labels: Record<string, string>;
  points: MetricPoint[];
}

export interface MetricsResponse {
  series: MetricSeries[];
  step_seconds?: number | null;
}

export interface LatestMetric {
  name: string;
  labels: Record<string, string>;
  ts: string;
  value: number;
}

export interface SeriesInfo {
  name: string;
  labels: Record<string, string>;
}

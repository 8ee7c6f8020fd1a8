// What is up, what went down in the last day and why, what discovery is doing, and whether the
// app itself is healthy. Refreshed every few seconds.
import { DeviceHealthSummary, DiscoveryRun, HealthReport, Transition, get } from "../api";
import { h, replace, table } from "../dom";
import { count, time } from "../format";
import { Page, every, progressBar, section, statusBadge } from "../ui";

const refreshMs = 3000;

export const overviewPage: Page = (root) => {
  const errors = h("div", { class: "messages" });
  const statusCard = h("div", { attrs: { id: "overview-status" } });
  const deactivationsCard = h("div", { attrs: { id: "overview-deactivations" } });
  const runsCard = h("div", { attrs: { id: "overview-runs" } });
  const healthCard = h("div", { attrs: { id: "overview-health" } });
  replace(root,
    h("h1", null, "Overview"),
    errors,
    h("div", { class: "grid" },
      section("Devices by status", statusCard),
      section("System health", healthCard)),
    section("Deactivations in the last 24 h", deactivationsCard),
    section("Discovery runs in progress", runsCard));

  return every(refreshMs, async () => {
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    const [summary, transitions, runs, health] = await Promise.all([
      get<DeviceHealthSummary>("device_health", { limit: 1 }),
      get<{ items: Transition[] }>("device_health/transitions", { since, limit: 100 }),
      get<{ items: DiscoveryRun[] }>("discovery_runs", { in_progress: true, limit: 20 }),
      get<HealthReport>("health").catch((): HealthReport => ({ status: "unhealthy", checks: [] })),
    ]);
    drawStatus(statusCard, summary);
    drawDeactivations(deactivationsCard, transitions.items.filter((t) => t.kind === "deactivated"));
    drawRuns(runsCard, runs.items);
    drawHealth(healthCard, health);
  }, errors);
};

function drawStatus(card: Element, summary: DeviceHealthSummary): void {
  replace(card, h("div", { class: "stats" },
    stat("active", summary.active, "Active", "#/devices?status=active"),
    stat("inactive", summary.inactive, "Inactive", "#/devices?status=inactive"),
    stat("failing", summary.failing, "Failing now", "#/devices?status=active")),
    h("p", { class: "hint" }, `A device is deactivated after ${summary.threshold} failures within ${summary.window_seconds} s.`));
}

function stat(kind: string, value: number, label: string, href: string): HTMLElement {
  return h("a", { class: `stat ${kind}`, href, attrs: { "data-stat": kind } }, h("strong", null, count(value)), h("span", null, label));
}

function drawDeactivations(card: Element, items: Transition[]): void {
  if (items.length === 0) {
    replace(card, h("p", { class: "empty" }, "No device was deactivated in the last 24 hours."));
    return;
  }
  replace(card, table(["Device", "Address", "Reason", "Error", "At", "Now"], items.map((t) => [
    h("a", { href: `#/devices/${t.device_id}` }, t.hostname ?? `device ${t.device_id}`),
    `${t.ip}:${t.port}`,
    h("span", { class: `reason ${t.reason}` }, t.reason),
    t.error ?? "",
    time(t.at),
    statusBadge(t.status),
  ]), { attrs: { "data-list": "deactivations" } }));
}

function drawRuns(card: Element, runs: DiscoveryRun[]): void {
  if (runs.length === 0) {
    replace(card, h("p", { class: "empty" }, "No discovery run is in progress."));
    return;
  }
  replace(card, table(["Run", "Progress", "Responded", "Provisioned", "Failed"], runs.map((run) => [
    h("a", { href: `#/discovery/runs/${run.id}` }, run.id.slice(0, 8)),
    progressBar(run.batches_done, run.batches_total, `batches ${run.batches_done} of ${run.batches_total}`),
    count(run.responded),
    count(run.provisioned),
    count(run.failed),
  ])));
}

function drawHealth(card: Element, health: HealthReport): void {
  replace(card,
    h("p", null, statusBadge(health.status)),
    h("ul", { class: "checks" }, health.checks.map((check) =>
      h("li", { class: check.healthy ? "ok" : "bad" }, `${check.healthy ? "✓" : "✗"} ${check.name}`, check.error ? ` — ${check.error}` : ""))));
}

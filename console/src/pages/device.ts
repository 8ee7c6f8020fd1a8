// One device: identity, status and failure history, next poll, its interfaces with current bit
// rates, and charts (traffic from the metrics API's reset-aware rate, CPU, storage, uptime).
import { Device, LatestMetric, MetricSeries, MetricsResponse, Transition, get, patch, session } from "../api";
import { TimeChart, align, colour, points, ranges, stepFor } from "../charts";
import { button, h, notice, replace, table } from "../dom";
import { bitsPerSecond, bytes, duration, relative, time } from "../format";
import { Page, confirmAction, errorText, every, section, statusBadge } from "../ui";

const refreshMs = 10_000;

interface Interface {
  name: string;
  index: number;
  oper: number | null;
  inBits: number | null;
  outBits: number | null;
}

export const devicePage: Page = (root, params, path) => {
  const id = Number(path[1]);
  const messages = h("div", { class: "messages" });
  const identity = h("div", { attrs: { id: "device-identity" } });
  const history = h("div", { attrs: { id: "device-history" } });
  const interfaces = h("div", { attrs: { id: "device-interfaces" } });
  const rangeBar = h("div", { class: "ranges", attrs: { role: "group", "aria-label": "Time range" } });
  const interfaceChoice = h("select", { name: "interface", attrs: { "aria-label": "Interface" } });
  const charts = h("div", { class: "charts" });
  const state = {
    device: null as Device | null,
    range: params.get("range") ?? "1h",
    zoom: null as [number, number] | null,
    selected: params.get("interface") ?? "",
    interfaces: [] as Interface[],
    latest: [] as LatestMetric[],
  };

  const zoom = (from: number, to: number) => {
    state.zoom = [from, to];
    drawRanges();
    void drawCharts();
  };
  const traffic = new TimeChart("Traffic (bits/s)", bitsPerSecond, zoom);
  const cpu = new TimeChart("CPU load (%)", (v) => `${v.toFixed(0)} %`, zoom);
  const storage = new TimeChart("Storage used", bytes, zoom);
  const uptime = new TimeChart("Uptime", (v) => duration(v), zoom);
  charts.append(traffic.element, cpu.element, storage.element, uptime.element);

  let first = true;
  const drawRanges = () => replace(rangeBar,
    ranges.map(([name]) => button(name, () => { state.range = name; state.zoom = null; drawRanges(); void drawCharts(); },
      { class: name === state.range && !state.zoom ? "range current" : "range", attrs: { "data-range": name } })),
    state.zoom ? button("Reset zoom", () => { state.zoom = null; drawRanges(); void drawCharts(); }, { class: "secondary" }) : null);

  interfaceChoice.addEventListener("change", () => { state.selected = interfaceChoice.value; void drawCharts(); });

  const span = (): [number, number] => {
    if (state.zoom) return state.zoom;
    const seconds = ranges.find(([name]) => name === state.range)?.[1] ?? 3600;
    const now = Date.now() / 1000;
    return [now - seconds, now];
  };

  const query = (chart: TimeChart, name: string, fn: string, labels: Record<string, string> = {}) => {
    const [from, to] = span();
    const floor = state.device?.poll_interval_seconds ?? 60;
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) extra[`labels[${k}]`] = v;
    return get<MetricsResponse>(`devices/${id}/metrics`, {
      name, fn, from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString(),
      step: `${stepFor(to - from, chart.width, floor)}s`, ...extra,
    });
  };

  let chartGeneration = 0;
  // Every chart's request starts at once: CPU, storage and uptime need nothing but the device;
  // traffic needs the interface, known from the URL or the previous refresh, else from `chosen`
  // (the interface with the most octets, once the latest values are in).
  const drawCharts = async (chosen: Promise<void> = Promise.resolve()) => {
    const mine = ++chartGeneration;
    const started = performance.now();
    const [from, to] = span();
    const uptimeName = state.device?.plugin === "ssh" ? "uptime_seconds" : "sys_uptime_seconds";
    try {
      const trafficData = (state.selected ? Promise.resolve() : chosen).then((): Promise<Array<MetricsResponse | null>> | Array<MetricsResponse | null> => state.selected
        ? Promise.all([query(traffic, "if_in_octets_total", "rate", { interface: state.selected }), query(traffic, "if_out_octets_total", "rate", { interface: state.selected })])
        : [null, null]);
      const [[inRate, outRate], cpuData, storageData, uptimeData] = await Promise.all([
        trafficData,
        query(cpu, "cpu_load_percent", "avg"),
        query(storage, "storage_used_bytes", "avg"),
        query(uptime, uptimeName, "max"),
      ]);
      if (mine !== chartGeneration) return;
      const fetched = performance.now();
      const iface = state.selected;
      const draws: Array<Promise<void>> = [];
      draws.push(traffic.show([{ label: `${iface || "no interface"} in`, stroke: colour(0) }, { label: `${iface || "no interface"} out`, stroke: colour(1) }],
        align([points(inRate?.series[0], 8), points(outRate?.series[0], 8)]), from, to));
      draws.push(many(cpu, cpuData, (s) => `cpu ${s.labels.cpu ?? ""}`, from, to));
      draws.push(many(storage, storageData, (s) => s.labels.storage ?? "storage", from, to));
      draws.push(many(uptime, uptimeData, () => "uptime", from, to));
      await Promise.all(draws);
      const range = state.zoom ? "zoom" : state.range;
      performance.measure(`nms:device:charts:${range}`, { start: started, end: performance.now() });
      performance.measure(`nms:device:draw:${range}`, { start: fetched, end: performance.now() });
      performance.mark("nms:device:charts-drawn");
    } catch (error) {
      replace(messages, notice("error", `Charts: ${errorText(error)}`));
    }
  };

  /** The device first (its poll interval is the charts' finest step), then everything else at once. */
  const loadDevice = async () => {
    const device = state.device = await get<Device>(`devices/${id}`);
    const latest = get<{ metrics: LatestMetric[] }>(`devices/${id}/metrics/latest`);
    const transitions = get<{ items: Transition[] }>("device_health/transitions", { device_id: id, since: new Date(Date.now() - 30 * 86400_000).toISOString(), limit: 50 });
    const rates = currentRates(id, device);
    const listed = Promise.all([latest, rates]).then(([l, r]) => showInterfaces(l.metrics, r));
    // The traffic chart does not wait for the current rates (one more round trip): with no interface
    // chosen yet it starts with the one that has carried the most octets, known from the latest values.
    const chosen = latest.then((l) => { if (!state.selected) state.selected = mostTraffic(l.metrics) ?? ""; });
    const charts = first || !state.zoom ? drawCharts(chosen.catch(() => {})) : null;
    drawIdentity(identity, device, () => void loadDevice().catch((e) => replace(messages, notice("error", errorText(e)))));
    const historyShown = transitions.then((t) => drawHistory(history, device, t.items));
    await Promise.all([historyShown, listed, charts]);
    first = false;
  };

  const showInterfaces = (latest: LatestMetric[], rates: [MetricsResponse, MetricsResponse]) => {
    state.latest = latest;
    state.interfaces = interfacesOf(latest, rates);
    if (!state.selected || !state.interfaces.some((i) => i.name === state.selected)) {
      state.selected = busiest(state.interfaces)?.name ?? "";
    }
    drawInterfaces(interfaces, state.interfaces, state.selected, (name) => { state.selected = name; interfaceChoice.value = name; void drawCharts(); });
    replace(interfaceChoice, state.interfaces.map((i) => h("option", { value: i.name }, i.name)));
    interfaceChoice.value = state.selected;
  };

  replace(root,
    h("p", null, h("a", { href: "#/devices" }, "← Devices")),
    messages,
    h("div", { class: "grid" }, section("Device", identity), section("Status and failure history", history)),
    h("section", { class: "card" }, h("h2", null, "Charts"), h("div", { class: "chart-controls" }, rangeBar, h("label", null, "Interface ", interfaceChoice)), charts),
    section("Interfaces", interfaces));
  drawRanges();

  const stop = every(refreshMs, loadDevice, messages);
  const onResize = () => { for (const chart of [traffic, cpu, storage, uptime]) chart.resize(); };
  window.addEventListener("resize", onResize);
  return () => {
    stop();
    window.removeEventListener("resize", onResize);
    for (const chart of [traffic, cpu, storage, uptime]) chart.destroy();
  };
};

function many(chart: TimeChart, response: MetricsResponse, label: (s: MetricSeries) => string, from: number, to: number): Promise<void> {
  const series = response.series.slice(0, 8);
  return chart.show(series.map((s, i) => ({ label: label(s), stroke: colour(i) })), align(series.map((s) => points(s))), from, to);
}

/** Every interface's in and out rate over the last few polls: the table's current bit rates. */
function currentRates(id: number, device: Device): Promise<[MetricsResponse, MetricsResponse]> {
  const step = Math.max(device.poll_interval_seconds, 10);
  const from = new Date(Date.now() - step * 6 * 1000).toISOString();
  const rate = (name: string) => get<MetricsResponse>(`devices/${id}/metrics`, { name, fn: "rate", from, step: `${step}s` }).catch(() => ({ series: [] }) as MetricsResponse);
  return Promise.all([rate("if_in_octets_total"), rate("if_out_octets_total")]);
}

/** Interfaces from the latest oper status, with the current in/out rate from the last rate point. */
function interfacesOf(latest: LatestMetric[], [inRate, outRate]: [MetricsResponse, MetricsResponse]): Interface[] {
  const last = (response: MetricsResponse, name: string) => {
    const series = response.series.find((s) => s.labels.interface === name);
    const values = points(series, 8).filter(([, v]) => v !== null);
    return values.length ? values[values.length - 1][1] : null;
  };
  return latest.filter((m) => m.name === "if_oper_status" && m.labels.interface).map((m) => ({
    name: m.labels.interface,
    index: Number(m.labels.if_index ?? 0),
    oper: m.value,
    inBits: last(inRate, m.labels.interface),
    outBits: last(outRate, m.labels.interface),
  })).sort((a, b) => a.index - b.index || a.name.localeCompare(b.name));
}

/** The interface whose in + out octet counters are highest: the busiest since the counters started. */
function mostTraffic(latest: LatestMetric[]): string | undefined {
  const octets = new Map<string, number>();
  for (const m of latest) {
    const name = m.labels.interface;
    if (name && (m.name === "if_in_octets_total" || m.name === "if_out_octets_total")) octets.set(name, (octets.get(name) ?? 0) + m.value);
  }
  return [...octets].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function busiest(list: Interface[]): Interface | undefined {
  return [...list].sort((a, b) => (b.inBits ?? 0) + (b.outBits ?? 0) - (a.inBits ?? 0) - (a.outBits ?? 0))[0];
}

const operStatus: Record<number, string> = { 1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "not present", 7: "lower layer down" };

function drawInterfaces(container: Element, list: Interface[], selected: string, choose: (name: string) => void): void {
  if (list.length === 0) {
    replace(container, h("p", { class: "empty" }, "No interface metrics yet: they appear after the first poll."));
    return;
  }
  replace(container, h("table", { class: "interfaces" },
    h("thead", null, h("tr", null, ["Interface", "Oper status", "In", "Out"].map((t) => h("th", null, t)))),
    h("tbody", null, list.map((i) => h("tr", { class: i.name === selected ? "selected" : "", attrs: { "data-interface": i.name } },
      h("td", null, h("a", { href: "#", on: { click: (e) => { e.preventDefault(); choose(i.name); } } }, i.name)),
      h("td", null, h("span", { class: `badge ${i.oper === 1 ? "active" : "inactive"}` }, i.oper === null ? "–" : operStatus[i.oper] ?? String(i.oper))),
      h("td", null, bitsPerSecond(i.inBits)),
      h("td", null, bitsPerSecond(i.outBits)))))));
}

function drawIdentity(container: Element, device: Device, changed: () => void): void {
  const rows: Array<[string, string]> = [
    ["Hostname", device.hostname ?? "–"],
    ["Address", `${device.ip}:${device.port}`],
    ["Plugin", device.plugin],
    ["Description", device.description ?? "–"],
    ["Credential profile", device.credential_profile_id == null ? "–" : String(device.credential_profile_id)],
    ["Found by discovery profile", device.discovery_profile_id == null ? "by hand" : String(device.discovery_profile_id)],
    ["Poll interval", `${device.poll_interval_seconds} s`],
    ["Created", time(device.created_at)],
  ];
  const actions = session.can("operator")
    ? h("div", { class: "actions" }, device.status === "active"
      ? button("Deactivate", async () => {
        if (!await confirmAction("Deactivate this device?", "It stops being polled until reactivated.", "deactivate")) return;
        await patch(`devices/${device.id}`, { status: "inactive" });
        changed();
      }, { requires: "operator" })
      : button("Reactivate", async () => {
        await patch(`devices/${device.id}`, { status: "active" });
        changed();
      }, { requires: "operator" }))
    : null;
  replace(container, h("h1", { class: "device-name" }, device.hostname ?? `device ${device.id}`),
    h("dl", null, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)])), actions);
}

function drawHistory(container: Element, device: Device, transitions: Transition[]): void {
  const facts: Array<[string, Node | string]> = [
    ["Status", statusBadge(device.status)],
    ["Next poll", device.status === "active" ? `${time(device.next_poll_at)} (${relative(device.next_poll_at)})` : "not scheduled"],
    ["Failures in window", String(device.failure_count)],
    ["Last failure", device.last_failure_at ? `${time(device.last_failure_at)} ${device.last_failure_reason ?? ""}: ${device.last_failure_error ?? ""}` : "–"],
  ];
  if (device.status === "inactive") {
    facts.push(["Deactivated", `${time(device.deactivated_at)} (${device.deactivation_reason ?? ""}) ${device.deactivation_error ?? ""}`]);
  }
  replace(container,
    h("dl", null, facts.map(([k, v]) => [h("dt", null, k), h("dd", null, v)])),
    h("h3", null, "Last 30 days"),
    transitions.length === 0
      ? h("p", { class: "empty" }, "No deactivation or reactivation.")
      : table(["At", "What", "Reason", "Error"], transitions.map((t) => [time(t.at), t.kind, t.reason, t.error ?? ""])));
}

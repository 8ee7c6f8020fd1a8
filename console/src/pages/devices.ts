// The device list: search and filters on the server, keyset pages (the API's cursor), adding a
// device by hand, and bulk deactivate / reactivate / delete behind a confirmation.
import { CredentialProfile, Device, Page as ApiPage, del, get, patch, post, session } from "../api";
import { button, field, h, input, notice, replace, select } from "../dom";
import { relative } from "../format";
import { Page, confirmAction, errorText, formValues, intOrUndefined, statusBadge } from "../ui";

const pageSize = 50;
const plugins: Array<[string, string]> = [["", "any plugin"], ["snmp", "snmp"], ["ssh", "ssh"]];

export const devicesPage: Page = (root, params) => {
  const state = {
    q: params.get("q") ?? "",
    status: params.get("status") ?? "",
    plugin: params.get("plugin") ?? "",
    cursors: [] as Array<string | null>,
    cursor: null as string | null,
    next: null as string | null,
    devices: [] as Device[],
    selected: new Set<number>(),
  };
  const messages = h("div", { class: "messages" });
  const list = h("div", { attrs: { id: "device-list" } });
  const pager = h("div", { class: "pager" });
  const bulk = h("div", { class: "bulk" });
  const search = input("q", { value: state.q, placeholder: "hostname contains, or IP starts with", attrs: { type: "search", "aria-label": "Search devices" } });
  const status = select("status", [["", "any status"], ["active", "active"], ["inactive", "inactive"]], state.status);
  const plugin = select("plugin", plugins, state.plugin);
  let generation = 0;

  const load = async () => {
    const mine = ++generation;
    const started = performance.now();
    try {
      const page = await get<ApiPage<Device>>("devices", { q: state.q, status: state.status, plugin: state.plugin, limit: pageSize, cursor: state.cursor });
      if (mine !== generation) return;
      state.devices = page.items;
      state.next = page.next_cursor ?? null;
      state.selected.clear();
      draw();
      performance.measure("nms:devices:page", { start: started, end: performance.now() });
      performance.mark("nms:devices:rendered");
    } catch (error) {
      replace(messages, notice("error", errorText(error)));
    }
  };

  const restart = () => {
    state.cursor = null;
    state.cursors = [];
    void load();
  };

  let debounce = 0;
  search.addEventListener("input", () => {
    window.clearTimeout(debounce);
    debounce = window.setTimeout(() => {
      state.q = search.value.trim();
      restart();
    }, 250);
  });
  status.addEventListener("change", () => { state.status = status.value; restart(); });
  plugin.addEventListener("change", () => { state.plugin = plugin.value; restart(); });

  const draw = () => {
    const all = h("input", { type: "checkbox", attrs: { "aria-label": "Select all on this page" } });
    all.addEventListener("change", () => {
      for (const device of state.devices) all.checked ? state.selected.add(device.id) : state.selected.delete(device.id);
      draw();
    });
    all.checked = state.devices.length > 0 && state.devices.every((d) => state.selected.has(d.id));
    const operator = session.can("operator");
    const rows = state.devices.map((device) => {
      const box = h("input", { type: "checkbox", checked: state.selected.has(device.id), attrs: { "aria-label": `Select device ${device.id}` } });
      box.addEventListener("change", () => {
        box.checked ? state.selected.add(device.id) : state.selected.delete(device.id);
        drawBulk();
      });
      return h("tr", { attrs: { "data-device-id": device.id } },
        operator ? h("td", null, box) : null,
        h("td", null, h("a", { href: `#/devices/${device.id}` }, device.hostname ?? `device ${device.id}`)),
        h("td", null, `${device.ip}:${device.port}`),
        h("td", null, device.plugin),
        h("td", null, statusBadge(device.status)),
        h("td", null, device.status === "inactive" ? device.deactivation_reason ?? "" : String(device.failure_count)),
        h("td", null, device.status === "active" ? relative(device.next_poll_at) : "–"));
    });
    replace(list, state.devices.length === 0
      ? h("p", { class: "empty" }, "No devices match.")
      : h("table", { class: "devices" },
        h("thead", null, h("tr", null, operator ? h("th", null, all) : null,
          ["Device", "Address", "Plugin", "Status", "Failures / reason", "Next poll"].map((t) => h("th", null, t)))),
        h("tbody", null, rows)));
    replace(pager,
      button("First", () => restart(), { disabled: state.cursor === null, class: "secondary" }),
      button("Previous", () => { state.cursor = state.cursors.pop() ?? null; void load(); }, { disabled: state.cursor === null, class: "secondary" }),
      h("span", { class: "page-no" }, `page ${state.cursors.length + 1}`),
      button("Next", () => { state.cursors.push(state.cursor); state.cursor = state.next; void load(); }, { disabled: state.next === null, class: "secondary" }));
    drawBulk();
  };

  const drawBulk = () => {
    if (!session.can("operator")) {
      bulk.replaceChildren();
      return;
    }
    const chosen = () => state.devices.filter((d) => state.selected.has(d.id));
    const none = state.selected.size === 0;
    replace(bulk,
      h("span", null, `${state.selected.size} selected`),
      button("Deactivate", () => void bulkAction("deactivate", chosen()), { disabled: none, requires: "operator" }),
      button("Reactivate", () => void bulkAction("reactivate", chosen()), { disabled: none, requires: "operator" }),
      button("Delete", () => void bulkAction("delete", chosen()), { disabled: none, class: "danger", requires: "operator" }));
  };

  const bulkAction = async (action: "deactivate" | "reactivate" | "delete", devices: Device[]) => {
    const detail = action === "delete"
      ? "Their settings and schedule are removed; metrics stay until retention drops them. This cannot be undone."
      : action === "deactivate" ? "They stop being polled until reactivated." : "They are polled again from now on.";
    if (!await confirmAction(`${action[0].toUpperCase()}${action.slice(1)} ${devices.length} device${devices.length === 1 ? "" : "s"}?`, detail, action)) return;
    const failures: string[] = [];
    const queue = [...devices];
    const worker = async () => {
      for (let device = queue.shift(); device; device = queue.shift()) {
        try {
          if (action === "delete") await del(`devices/${device.id}`);
          else await patch(`devices/${device.id}`, { status: action === "deactivate" ? "inactive" : "active" });
        } catch (error) {
          failures.push(`${device.ip}: ${errorText(error)}`);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    replace(messages, failures.length
      ? notice("error", `${devices.length - failures.length} of ${devices.length} done; failed: ${failures.join("; ")}`)
      : notice("ok", `${action}: ${devices.length} device${devices.length === 1 ? "" : "s"} done.`));
    void load();
  };

  replace(root,
    h("h1", null, "Devices"),
    messages,
    h("div", { class: "filters" }, search, status, plugin),
    session.can("operator") ? addDeviceForm(messages, restart) : null,
    bulk,
    list,
    pager);
  void load();
  return () => window.clearTimeout(debounce);
};

function addDeviceForm(messages: Element, added: () => void): HTMLElement {
  const credentials = select("credential_profile_id", [["", "no credential profile"]]);
  void get<{ items: CredentialProfile[] }>("credential_profiles").then((list) => {
    for (const profile of list.items) credentials.append(h("option", { value: String(profile.id) }, `${profile.name} (${profile.protocol})`));
  }).catch(() => {});
  const form = h("form", { class: "inline-form", attrs: { "aria-label": "Add a device" } },
    field("IP address", input("ip", { required: true })),
    field("Port", input("port", { value: "161", attrs: { inputmode: "numeric" } })),
    field("Plugin", select("plugin", [["snmp", "snmp"], ["ssh", "ssh"]])),
    field("Credentials", credentials),
    field("Hostname", input("hostname")),
    field("Poll interval (s)", input("poll_interval_seconds", { value: "60", attrs: { inputmode: "numeric" } })),
    h("button", { type: "submit" }, "Add device"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    try {
      const device = await post<Device>("devices", {
        ip: v.get("ip"),
        port: intOrUndefined(v.get("port")),
        plugin: v.get("plugin"),
        hostname: v.get("hostname"),
        credential_profile_id: intOrUndefined(v.get("credential_profile_id")),
        poll_interval_seconds: intOrUndefined(v.get("poll_interval_seconds")),
      });
      replace(messages, notice("ok", `Added device ${device.id} (${device.ip}:${device.port}).`));
      form.reset();
      added();
    } catch (error) {
      replace(messages, notice("error", `Not added: ${errorText(error)}`));
    }
  });
  return h("details", { class: "card", requires: "operator" }, h("summary", null, "Add a device"), form);
}

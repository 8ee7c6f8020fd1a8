// Discovery profiles (admins define them, with their credentials; operators run them) and runs,
// with their progress live and the failure samples as plain text.
import { CredentialProfile, DiscoveryProfile, DiscoveryRun, get, post, put, session } from "../api";
import { button, field, h, input, notice, replace, select, table } from "../dom";
import { count, time } from "../format";
import { Page, errorText, every, formValues, intOrUndefined, progressBar, section, statusBadge } from "../ui";

export const discoveryPage: Page = (root) => {
  const messages = h("div", { class: "messages" });
  const profilesBox = h("div", { attrs: { id: "discovery-profiles" } });
  const runsBox = h("div", { attrs: { id: "discovery-runs" } });
  const editor = h("div");
  let credentials: CredentialProfile[] = [];
  let profiles: DiscoveryProfile[] = [];

  // The form lists the credential profiles: open it only once they are loaded.
  const edit = async (profile: DiscoveryProfile | null) => {
    await loaded;
    replace(editor, profileForm(profile, credentials, messages, async () => {
      editor.replaceChildren();
      await loadProfiles();
    }));
  };

  const loadProfiles = async () => {
    [profiles, credentials] = await Promise.all([
      get<{ items: DiscoveryProfile[] }>("discovery_profiles").then((r) => r.items),
      get<{ items: CredentialProfile[] }>("credential_profiles").then((r) => r.items),
    ]);
    const names = new Map(credentials.map((c) => [c.id, c.name]));
    replace(profilesBox, profiles.length === 0 ? h("p", { class: "empty" }, "No discovery profile yet.") : table(
      ["Name", "Target", "Addresses", "Port", "Plugin", "Credentials", ""],
      profiles.map((p) => [
        p.name, p.target, p.address_count == null ? "?" : count(p.address_count), String(p.port), p.plugin,
        p.credential_profile_ids.map((id) => names.get(id) ?? `#${id}`).join(", "),
        h("span", { class: "actions" },
          session.can("operator") ? button("Run", () => void run(p), { requires: "operator", attrs: { "data-run-profile": p.name } }) : null,
          session.can("admin") ? button("Edit", () => void edit(p), { class: "secondary", requires: "admin" }) : null),
      ])));
  };

  const run = async (profile: DiscoveryProfile) => {
    try {
      const started = await post<DiscoveryRun>(`discovery_profiles/${profile.id}/run`, {});
      location.hash = `#/discovery/runs/${started.id}`;
    } catch (error) {
      replace(messages, notice("error", `Not started: ${errorText(error)}`));
    }
  };

  replace(root,
    h("h1", null, "Discovery"),
    messages,
    section("Profiles", profilesBox,
      session.can("admin") ? button("New profile", () => void edit(null), { requires: "admin" }) : null, editor),
    section("Recent runs", runsBox));
  const loaded = loadProfiles().catch((error) => replace(messages, notice("error", errorText(error))));
  return every(2000, async () => {
    const runs = await get<{ items: DiscoveryRun[] }>("discovery_runs", { limit: 20 });
    const names = new Map(profiles.map((p) => [p.id, p.name]));
    replace(runsBox, runs.items.length === 0 ? h("p", { class: "empty" }, "No run yet.") : runsTable(runs.items, names));
  }, messages);
};

function runsTable(runs: DiscoveryRun[], names: Map<number, string>): HTMLElement {
  return table(["Run", "Profile", "Status", "Progress", "Responded", "Provisioned", "Failed", "Started"], runs.map((r) => [
    h("a", { href: `#/discovery/runs/${r.id}` }, r.id.slice(0, 8)),
    names.get(r.discovery_profile_id) ?? `#${r.discovery_profile_id}`,
    statusBadge(r.status),
    progressBar(r.batches_done, r.batches_total, "batches done"),
    count(r.responded), count(r.provisioned), count(r.failed),
    time(r.started_at ?? r.created_at),
  ]));
}

function profileForm(profile: DiscoveryProfile | null, credentials: CredentialProfile[], messages: Element, saved: () => Promise<void>): HTMLElement {
  const chosen = new Set(profile?.credential_profile_ids ?? []);
  const credentialBoxes = credentials.map((c) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "credential_profile_ids", value: String(c.id), checked: chosen.has(c.id) }), `${c.name} (${c.protocol})`));
  const precheck = h("input", { type: "checkbox", name: "ping_precheck", value: "true", checked: profile?.ping_precheck ?? false });
  const form = h("form", { class: "stack-form", attrs: { "aria-label": profile ? "Edit discovery profile" : "New discovery profile" } },
    h("h3", null, profile ? `Edit ${profile.name}` : "New discovery profile"),
    field("Name", input("name", { value: profile?.name ?? "", required: true })),
    field("Target", input("target", { value: profile?.target ?? "", required: true, placeholder: "10.0.0.0/24, 10.0.1.1-10.0.1.50" })),
    field("Port", input("port", { value: String(profile?.port ?? 161) })),
    field("Plugin", select("plugin", [["snmp", "snmp"], ["ssh", "ssh"]], profile?.plugin ?? "snmp")),
    h("fieldset", null, h("legend", null, "Credential profiles, tried in this order"), credentialBoxes.length ? credentialBoxes : h("p", { class: "empty" }, "Create a credential profile first.")),
    h("label", { class: "check" }, precheck, "Ping before probing"),
    field("Timeout (ms)", input("timeout_ms", { value: String(profile?.timeout_ms ?? 2000) })),
    field("Poll interval of found devices (s)", input("poll_interval_seconds", { value: String(profile?.poll_interval_seconds ?? 60) })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, profile ? "Save" : "Create")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = {
      name: v.get("name"),
      target: v.get("target"),
      port: intOrUndefined(v.get("port")),
      plugin: v.get("plugin"),
      credential_profile_ids: new FormData(form).getAll("credential_profile_ids").map(Number),
      ping_precheck: precheck.checked,
      timeout_ms: intOrUndefined(v.get("timeout_ms")),
      poll_interval_seconds: intOrUndefined(v.get("poll_interval_seconds")),
    };
    try {
      if (profile) await put(`discovery_profiles/${profile.id}`, body);
      else await post("discovery_profiles", body);
      replace(messages, notice("ok", `Saved discovery profile ${body.name}.`));
      await saved();
    } catch (error) {
      replace(messages, notice("error", `Not saved: ${errorText(error)}`));
    }
  });
  return form;
}

export const discoveryRunPage: Page = (root, _params, path) => {
  const id = path[2];
  const messages = h("div", { class: "messages" });
  const box = h("div", { attrs: { id: "discovery-run" } });
  replace(root, h("p", null, h("a", { href: "#/discovery" }, "← Discovery")), h("h1", null, "Discovery run"), messages, box);
  let finished = false;
  const stop = every(1000, async () => {
    if (finished) return;
    const run = await get<DiscoveryRun>(`discovery_runs/${id}`);
    finished = run.status === "completed";
    drawRun(box, run);
  }, messages);
  return stop;
};

function drawRun(box: Element, run: DiscoveryRun): void {
  replace(box,
    h("div", { class: "run", attrs: { "data-run-status": run.status } },
      h("p", null, statusBadge(run.status), ` ${count(run.targets)} addresses in ${count(run.batches_total)} batches`),
      progressBar(run.batches_done, run.batches_total, "batches done"),
      h("p", { class: "run-batches" }, `${count(run.batches_done)} of ${count(run.batches_total)} batches done`),
      h("dl", { class: "counts" },
        [["Responded", run.responded], ["Provisioned", run.provisioned], ["Already known", run.already_known], ["Failed", run.failed]]
          .map(([k, v]) => [h("dt", null, String(k)), h("dd", { attrs: { "data-count": String(k).toLowerCase().replace(" ", "_") } }, count(Number(v)))])),
      h("p", { class: "hint" }, `Created ${time(run.created_at)}, started ${time(run.started_at)}, finished ${time(run.finished_at)}`)),
    h("h2", null, "Failure samples"),
    run.failure_samples.length === 0
      ? h("p", { class: "empty" }, "None.")
      : table(["Address", "Error"], run.failure_samples.map((s) => [s.ip, s.error]), { attrs: { "data-list": "failure-samples" } }));
}

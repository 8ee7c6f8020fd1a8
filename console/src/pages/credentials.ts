// Credential profiles. Secrets are write-only: the API never returns them, the form never
// prefills them, and after a submit the inputs are emptied and the form is thrown away, so the
// page keeps no copy.
import { CredentialProfile, get, post, put, session } from "../api";
import { button, field, h, input, notice, replace, secretInput, select, table } from "../dom";
import { time } from "../format";
import { Page, errorText, section } from "../ui";

type Protocol = CredentialProfile["protocol"];

export const credentialsPage: Page = (root) => {
  const messages = h("div", { class: "messages" });
  const listBox = h("div", { attrs: { id: "credential-profiles" } });
  const editor = h("div");

  const load = async () => {
    const list = await get<{ items: CredentialProfile[] }>("credential_profiles");
    replace(listBox, list.items.length === 0 ? h("p", { class: "empty" }, "No credential profile yet.") : table(
      ["Name", "Protocol", "User", "Auth / privacy", "Sealed under key", "Updated", ""],
      list.items.map((p) => [
        p.name, p.protocol, p.user ?? "–", p.protocol === "snmp_v3" ? `${p.auth_protocol ?? "none"} / ${p.priv_protocol ?? "none"}` : "–",
        p.secret_key_id, time(p.updated_at),
        session.can("admin") ? button("Replace", () => open(p), { class: "secondary", requires: "admin" }) : "",
      ])));
  };

  const open = (profile: CredentialProfile | null) => replace(editor, credentialForm(profile, messages, async () => {
    editor.replaceChildren();
    await load();
  }));

  replace(root,
    h("h1", null, "Credential profiles"),
    messages,
    section("Profiles", listBox, session.can("admin") ? button("New credential profile", () => open(null), { requires: "admin" }) : null, editor));
  void load().catch((error) => replace(messages, notice("error", errorText(error))));
};

const secretFields: Record<Protocol, Array<[string, string]>> = {
  snmp_v2c: [["community", "Community"]],
  snmp_v3: [["auth_key", "Authentication key"], ["priv_key", "Privacy key"]],
  ssh: [["password", "Password"], ["private_key", "Private key (PEM)"], ["private_key_passphrase", "Private key passphrase"]],
};

function credentialForm(profile: CredentialProfile | null, messages: Element, saved: () => Promise<void>): HTMLElement {
  const protocol = select("protocol", [["snmp_v2c", "SNMP v2c"], ["snmp_v3", "SNMP v3"], ["ssh", "SSH"]], profile?.protocol ?? "snmp_v2c");
  const settings = h("div");
  const form = h("form", { class: "stack-form", attrs: { "aria-label": profile ? "Replace credential profile" : "New credential profile", autocomplete: "off" } },
    h("h3", null, profile ? `Replace ${profile.name}` : "New credential profile"),
    h("p", { class: "hint" }, "Secrets are write-only: they are never shown again. Replacing a profile needs its secrets again."),
    field("Name", input("name", { value: profile?.name ?? "", required: true })),
    field("Protocol", protocol),
    settings,
    h("div", { class: "actions" }, h("button", { type: "submit" }, profile ? "Replace" : "Create")));

  const drawSettings = () => {
    const p = protocol.value as Protocol;
    const user = p === "snmp_v2c" ? null : field("User", input("user", { value: profile?.user ?? "", required: true }));
    const v3 = p === "snmp_v3" ? [
      field("Authentication", select("auth_protocol", [["none", "none"], ["sha1", "SHA-1"], ["sha256", "SHA-256"]], profile?.auth_protocol ?? "sha256")),
      field("Privacy", select("priv_protocol", [["none", "none"], ["aes128", "AES-128"]], profile?.priv_protocol ?? "aes128")),
    ] : [];
    const secrets = secretFields[p].map(([name, label]) =>
      name === "private_key"
        ? field(label, h("textarea", { name, attrs: { autocomplete: "off", spellcheck: "false", rows: 4 } }))
        : field(label, secretInput(name, p === "snmp_v2c")));
    replace(settings, user, v3, secrets);
  };
  protocol.addEventListener("change", drawSettings);
  drawSettings();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body: Record<string, string> = {};
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string" && value !== "") body[name] = value;
    }
    if (body.protocol === "snmp_v3") {
      if (body.auth_protocol === "none") delete body.auth_protocol;
      if (body.priv_protocol === "none") delete body.priv_protocol;
    }
    forgetSecrets(form);
    try {
      if (profile) await put(`credential_profiles/${profile.id}`, body);
      else await post("credential_profiles", body);
      replace(messages, notice("ok", `Saved credential profile ${body.name}.`));
      await saved();
    } catch (error) {
      replace(messages, notice("error", `Not saved (enter the secrets again): ${errorText(error)}`));
    } finally {
      for (const name of Object.keys(body)) delete body[name];
    }
  });
  return form;
}

/** Empties every secret control at once: what was typed leaves the page with the request. */
function forgetSecrets(form: HTMLFormElement): void {
  for (const control of form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input[type=password], textarea")) {
    control.value = "";
  }
}

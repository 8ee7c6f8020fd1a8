// API keys, for admins: create one (shown once, with a copy button), revoke one.
import { ApiKey, CreatedApiKey, del, get, post } from "../api";
import { button, field, h, input, notice, replace, select, table } from "../dom";
import { time } from "../format";
import { Page, confirmAction, errorText, section } from "../ui";

export const apiKeysPage: Page = (root) => {
  const messages = h("div", { class: "messages" });
  const listBox = h("div", { attrs: { id: "api-keys" } });
  const shown = h("div", { attrs: { id: "new-key" } });

  const load = async () => {
    const list = await get<{ items: ApiKey[] }>("api_keys");
    replace(listBox, table(["Name", "Role", "Prefix", "Created", "Last used", "Revoked", ""], list.items.map((k) => [
      k.name, k.role, k.key_prefix, time(k.created_at), time(k.last_used_at), k.revoked_at ? time(k.revoked_at) : "–",
      k.revoked_at ? "" : button("Revoke", () => void revoke(k), { class: "danger", requires: "admin" }),
    ])));
  };

  const revoke = async (key: ApiKey) => {
    if (!await confirmAction(`Revoke the key "${key.name}"?`, "Requests with it are refused from now on. This cannot be undone.", "revoke")) return;
    try {
      await del(`api_keys/${key.id}`);
      replace(messages, notice("ok", `Revoked ${key.name}.`));
      await load();
    } catch (error) {
      replace(messages, notice("error", errorText(error)));
    }
  };

  const form = h("form", { class: "inline-form", attrs: { "aria-label": "New API key" } },
    field("Name", input("name", { required: true })),
    field("Role", select("role", [["reader", "reader"], ["operator", "operator"], ["admin", "admin"]])),
    h("button", { type: "submit", requires: "admin" }, "Create key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const created = await post<CreatedApiKey>("api_keys", { name: data.get("name"), role: data.get("role") });
      form.reset();
      showOnce(shown, created);
      await load();
    } catch (error) {
      replace(messages, notice("error", `Not created: ${errorText(error)}`));
    }
  });

  replace(root, h("h1", null, "API keys"), messages, shown, section("New key", form), section("Keys", listBox));
  void load().catch((error) => replace(messages, notice("error", errorText(error))));
};

/** The only time a key is on screen: until "Done" or leaving the page. */
function showOnce(box: Element, created: CreatedApiKey): void {
  const value = h("code", { class: "secret-once", attrs: { "data-new-key": "" } }, created.key);
  const status = h("span", { class: "hint" });
  replace(box, h("section", { class: "card once" },
    h("h2", null, `Key for ${created.name} (${created.role})`),
    h("p", null, "Copy it now: it is shown only this once and cannot be read again."),
    value,
    h("div", { class: "actions" },
      button("Copy", async () => {
        try {
          await navigator.clipboard.writeText(created.key);
          status.textContent = "Copied.";
        } catch {
          status.textContent = "Copying is not allowed here: select the key and copy it by hand.";
        }
      }),
      button("Done", () => box.replaceChildren(), { class: "secondary" }),
      status)));
}

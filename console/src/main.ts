// The console's shell: sign-in, navigation, and a hash router (#/devices/12), so deep links need
// nothing from the server and nothing but a page name and ids is ever in the URL.
import "./styles.css";
import { session } from "./api";
import { h, notice, replace } from "./dom";
import { Page, errorText } from "./ui";
import { overviewPage } from "./pages/overview";
import { devicesPage } from "./pages/devices";
import { devicePage } from "./pages/device";
import { discoveryPage, discoveryRunPage } from "./pages/discovery";
import { credentialsPage } from "./pages/credentials";
import { apiKeysPage } from "./pages/apikeys";

const app = document.getElementById("app")!;
let leavePage: (() => void) | void;
let signInMessage = "";

interface Route {
  match: (path: string[]) => boolean;
  page: Page;
}

const routes: Route[] = [
  { match: (p) => p.length === 0 || p[0] === "overview", page: overviewPage },
  { match: (p) => p[0] === "devices" && p.length === 1, page: devicesPage },
  { match: (p) => p[0] === "devices" && p.length === 2, page: devicePage },
  { match: (p) => p[0] === "discovery" && p[1] === "runs" && p.length === 3, page: discoveryRunPage },
  { match: (p) => p[0] === "discovery" && p.length === 1, page: discoveryPage },
  { match: (p) => p[0] === "credentials", page: credentialsPage },
  { match: (p) => p[0] === "keys", page: apiKeysPage },
];

const nav: Array<[string, string, "reader" | "admin"]> = [
  ["#/", "Overview", "reader"],
  ["#/devices", "Devices", "reader"],
  ["#/discovery", "Discovery", "reader"],
  ["#/credentials", "Credentials", "reader"],
  ["#/keys", "API keys", "admin"],
];

function parseHash(): { path: string[]; params: URLSearchParams } {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?", 2);
  return { path: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query ?? "") };
}

function render(): void {
  if (leavePage) leavePage();
  leavePage = undefined;
  if (!session.signedIn) {
    renderSignIn();
    return;
  }
  const { path, params } = parseHash();
  const route = routes.find((r) => r.match(path));
  const main = h("main", { attrs: { id: "page" } });
  replace(app, header(path[0] ?? ""), main);
  if (!route) {
    replace(main, notice("error", "No such page."));
    return;
  }
  leavePage = route.page(main, params, path);
}

function header(current: string): HTMLElement {
  const me = session.me!;
  return h("header", { class: "top" },
    h("a", { class: "brand", href: "#/" }, "Nms"),
    h("nav", null, nav.filter(([, , role]) => session.can(role)).map(([href, label]) =>
      h("a", { href, class: href.slice(2) === current || (href === "#/" && (current === "" || current === "overview")) ? "current" : "" }, label))),
    h("span", { class: "who", attrs: { "data-role": me.role } }, `${me.name} · ${me.role}`),
    h("button", { type: "button", class: "secondary", on: { click: () => session.signOut("Signed out.") } }, "Sign out"));
}

function renderSignIn(): void {
  const keyInput = h("input", { name: "api_key", type: "password", required: true, attrs: { autocomplete: "off", spellcheck: "false", "aria-label": "API key" } });
  const functionKeyInput = h("input", { name: "function_key", type: "password", attrs: { autocomplete: "off", spellcheck: "false", "aria-label": "Function key" } });
  const message = h("div", { class: "messages" }, signInMessage ? notice(signInMessage.startsWith("Signed out.") ? "info" : "error", signInMessage) : null);
  const form = h("form", { class: "signin card", attrs: { "aria-label": "Sign in" } },
    h("h1", null, "Nms console"),
    h("label", { class: "field" }, h("span", null, "API key"), keyInput),
    h("details", null, h("summary", null, "Azure function key (only where the app requires one)"),
      h("label", { class: "field" }, h("span", null, "Function key"), functionKeyInput)),
    h("button", { type: "submit" }, "Sign in"),
    message,
    h("p", { class: "hint" }, "The key is kept in this tab's session storage only, and sent in the Authorization header."));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = keyInput.value;
    const functionKey = functionKeyInput.value;
    keyInput.value = "";
    functionKeyInput.value = "";
    try {
      await session.signIn(key, functionKey);
      signInMessage = "";
      render();
    } catch (error) {
      replace(message, notice("error", `Sign-in failed: ${errorText(error)}`));
    }
  });
  replace(app, form);
  keyInput.focus();
}

session.onSignedOut((message) => {
  signInMessage = message;
  render();
});

window.addEventListener("hashchange", render);

async function start(): Promise<void> {
  if (session.hasStoredKey()) {
    try {
      await session.resume();
    } catch (error) {
      signInMessage = `Signed out: ${errorText(error)}`;
    }
  }
  render();
}

void start();

// Pieces every page uses: a confirmation dialog, badges, error display, refresh timers.
import { ApiError } from "./api";
import { button, h, notice, replace } from "./dom";

/** A page draws into `root` and returns what stops its timers when the operator leaves it. */
export type Page = (root: HTMLElement, params: URLSearchParams, path: string[]) => (() => void) | void;

/** A modal confirmation (a <dialog>, so it needs no inline script or style). Resolves true on confirm. */
export function confirmAction(question: string, detail: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", attrs: { "aria-label": question } });
    const finish = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(
      h("h3", null, question),
      h("p", null, detail),
      h("div", { class: "actions" },
        button("Cancel", () => finish(false), { class: "secondary" }),
        button(confirmLabel, () => finish(true), { class: "danger", attrs: { "data-confirm": "yes" } })));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

export function statusBadge(status: string): HTMLElement {
  return h("span", { class: `badge ${status}` }, status);
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.status ? `${error.status} ${error.title}: ${error.message}` : error.message;
  return error instanceof Error ? error.message : String(error);
}

export function showError(container: Element, error: unknown): void {
  replace(container, notice("error", errorText(error)));
}

/** Calls `tick` now and every `ms` while the page is open; errors show in `errors`, the timer keeps going. */
export function every(ms: number, tick: () => Promise<void>, errors?: Element): () => void {
  let stopped = false;
  let timer = 0;
  const run = async () => {
    try {
      await tick();
      if (errors) errors.replaceChildren();
    } catch (error) {
      if (errors && !stopped) showError(errors, error);
    }
    if (!stopped) timer = window.setTimeout(run, ms);
  };
  void run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

export function progressBar(done: number, total: number, label: string): HTMLElement {
  const pct = total <= 0 ? 100 : Math.min(100, Math.round((100 * done) / total));
  return h("div", { class: "progress" },
    h("progress", { attrs: { max: 100, value: pct, "aria-label": label } }),
    h("span", { class: "pct" }, `${pct}%`));
}

export function section(title: string, ...children: Array<Node | null>): HTMLElement {
  return h("section", { class: "card" }, h("h2", null, title), children);
}

/** Reads a form's named controls as strings; empty ones are left out. */
export function formValues(form: HTMLFormElement): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && value !== "") values.set(name, value);
  }
  return values;
}

export function intOrUndefined(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isInteger(value) ? value : Number.NaN;
}

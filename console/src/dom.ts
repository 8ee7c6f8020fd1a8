// The only way the console makes DOM: elements and text nodes. Strings always become text
// (textContent), never markup, so whatever a device reports (sysName, sysDescr, errors) is shown
// as the characters it is. There is no innerHTML in this code base.

export type Child = Node | string | number | null | undefined | false | Child[];

export interface Props {
  class?: string;
  title?: string;
  href?: string;
  type?: string;
  name?: string;
  value?: string;
  placeholder?: string;
  required?: boolean;
  disabled?: boolean;
  checked?: boolean;
  /** Attributes set with setAttribute (never `style` or `on…`). */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
  /** The write control needs this role: tests and readers rely on it being absent otherwise. */
  requires?: "operator" | "admin";
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props) {
    applyProps(element, props);
  }
  append(element, children);
  return element;
}

function applyProps(element: HTMLElement, props: Props): void {
  if (props.class) element.className = props.class;
  if (props.title) element.title = props.title;
  if (props.href !== undefined) (element as HTMLAnchorElement).href = props.href;
  if (props.type !== undefined) element.setAttribute("type", props.type);
  if (props.name !== undefined) element.setAttribute("name", props.name);
  if (props.value !== undefined) (element as HTMLInputElement).value = props.value;
  if (props.placeholder !== undefined) element.setAttribute("placeholder", props.placeholder);
  if (props.required) element.setAttribute("required", "");
  if (props.disabled) (element as HTMLButtonElement).disabled = true;
  if (props.checked) (element as HTMLInputElement).checked = true;
  if (props.requires) element.dataset.requires = props.requires;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    if (name === "style" || name.toLowerCase().startsWith("on")) throw new Error(`refusing attribute ${name}`);
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const [event, handler] of Object.entries(props.on ?? {})) {
    element.addEventListener(event, handler as EventListener);
  }
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) {
      append(parent, child);
    } else if (child instanceof Node) {
      parent.appendChild(child);
    } else {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }
}

/** Replaces everything inside `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return h("label", { class: "field" }, h("span", null, label), control, hint ? h("small", null, hint) : null);
}

export function input(name: string, props: Props = {}): HTMLInputElement {
  return h("input", { name, type: "text", ...props, attrs: { autocomplete: "off", ...props.attrs } });
}

/** A write-only secret input: never prefilled, not remembered by the browser. */
export function secretInput(name: string, required = false): HTMLInputElement {
  return h("input", { name, type: "password", required, attrs: { autocomplete: "new-password", spellcheck: "false" } });
}

export function select(name: string, options: Array<[string, string]>, selected?: string): HTMLSelectElement {
  const element = h("select", { name });
  for (const [value, label] of options) {
    const option = h("option", { value }, label);
    if (value === selected) option.selected = true;
    element.appendChild(option);
  }
  return element;
}

export function button(label: string, onClick: (event: MouseEvent) => void, props: Props = {}): HTMLButtonElement {
  return h("button", { type: "button", ...props, on: { click: onClick } }, label);
}

export function table(headers: string[], rows: Child[][], props: Props = {}): HTMLTableElement {
  return h("table", props,
    h("thead", null, h("tr", null, headers.map((header) => h("th", null, header)))),
    h("tbody", null, rows.map((cells) => h("tr", null, cells.map((cell) => h("td", null, cell))))));
}

/** A status message area that replaces its content on each call. */
export function notice(kind: "error" | "info" | "ok", text: string): HTMLElement {
  return h("p", { class: `notice ${kind}`, attrs: { role: kind === "error" ? "alert" : "status" } }, text);
}

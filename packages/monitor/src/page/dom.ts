// Small DOM helpers.

type Child = Node | string;

/** A new element with attributes (the key `text` sets its text instead) and children (strings become text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string>> = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

/** An element of the page's HTML (renderPage writes every one the script looks up). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`gradpipe report: the page has no #${id}`);
  return node as T;
}

/** A canvas's 2D context (a canvas made by the page always has one). */
export function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('gradpipe report: no 2D canvas context');
  return ctx;
}

/** Canvas pixels per CSS pixel. */
export function pixelRatio(): number {
  return window.devicePixelRatio || 1;
}

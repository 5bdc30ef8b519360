/**
 * A dimension as far as it is known before the model runs: a number when static; a string when symbolic — a
 * product of the model's named dims with an integer factor, such as `'batch'` or `'8*batch*seq'`, so that
 * reshapes of a dynamic batch keep their meaning; undefined when unknown. A symbolic dim is never assumed to be 1.
 */
export type Dim = number | string | undefined;

/** A symbolic dim as a factor and its sorted symbol names. */
interface Monomial {
  factor: number;
  names: string[];
}

/** The symbol for a model's named dim (`dim_param`): `*` is reserved for products, so it is replaced. */
export function symbol(dimParam: string): string {
  const clean = dimParam.replace(/\*/g, '_');
  return /^\d/.test(clean) ? `_${clean}` : clean;
}

function parse(d: number | string): Monomial {
  if (typeof d === 'number') return { factor: d, names: [] };
  const parts = d.split('*');
  const factor = /^-?\d+$/.test(parts[0]!) ? Number(parts.shift()) : 1;
  return { factor, names: parts };
}

function format(m: Monomial): Dim {
  if (m.names.length === 0 || m.factor === 0) return m.factor;
  const names = [...m.names].sort().join('*');
  return m.factor === 1 ? names : `${m.factor}*${names}`;
}

/** a · b, symbolically. */
export function mulDim(a: Dim, b: Dim): Dim {
  if (a === undefined || b === undefined) return a === 0 || b === 0 ? 0 : undefined;
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const x = parse(a);
  const y = parse(b);
  return format({ factor: x.factor * y.factor, names: [...x.names, ...y.names] });
}

/** a / b when it divides exactly (symbols cancel, factors divide); otherwise undefined. */
export function divDim(a: Dim, b: Dim): Dim {
  if (a === undefined || b === undefined || b === 0) return undefined;
  if (typeof a === 'number' && typeof b === 'number') return a % b === 0 ? a / b : undefined;
  const x = parse(a);
  const y = parse(b);
  const names = [...x.names];
  for (const n of y.names) {
    const at = names.indexOf(n);
    if (at < 0) return undefined;
    names.splice(at, 1);
  }
  if (x.factor % y.factor !== 0) return undefined;
  return format({ factor: x.factor / y.factor, names });
}

/** a + b when both are numbers or multiples of the same symbols; otherwise undefined. */
export function addDim(a: Dim, b: Dim): Dim {
  if (a === undefined || b === undefined) return undefined;
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const x = parse(a);
  const y = parse(b);
  if (x.names.length === 0 && x.factor === 0) return b;
  if (y.names.length === 0 && y.factor === 0) return a;
  if ([...x.names].sort().join('*') !== [...y.names].sort().join('*')) return undefined;
  return format({ factor: x.factor + y.factor, names: x.names });
}

/** a − b when both are numbers or multiples of the same symbols; otherwise undefined. */
export function subDim(a: Dim, b: Dim): Dim {
  if (typeof b === 'number') return addDim(a, -b);
  if (b === undefined) return undefined;
  const y = parse(b);
  return addDim(a, format({ factor: -y.factor, names: y.names }));
}

/** The product of dims (1 for none). */
export function productDim(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((p, d) => mulDim(p, d), 1);
}

/** Whether two dims are known to be equal (both static and equal, or the same symbolic product). */
export function sameDim(a: Dim, b: Dim): boolean {
  return a !== undefined && a === b;
}

/** The value of a dim once the model's named dims are bound to sizes; undefined if a symbol is unbound. */
export function evaluateDim(d: Dim, sizes: ReadonlyMap<string, number>): number | undefined {
  if (typeof d === 'number') return d;
  if (d === undefined) return undefined;
  const m = parse(d);
  let value = m.factor;
  for (const n of m.names) {
    const size = sizes.get(n);
    if (size === undefined) return undefined;
    value *= size;
  }
  return value;
}

/** The symbol names a dim depends on. */
export function dimSymbols(d: Dim): string[] {
  return typeof d === 'string' ? parse(d).names : [];
}

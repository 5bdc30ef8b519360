// Typed checks of untrusted JSON: each reads a value of one type out of `unknown`, or records why it cannot.
// `object<T>()` takes one check per key of T, so a check of the ChartData type must name every field the type has
// with a check of the field's type: when ChartData changes, the page's check stops compiling until it follows.

const NON_FINITE_TEXT = ['NaN', 'Infinity', '-Infinity'];
/** At most this many problems are listed; the count says how many there were. */
const LIST_AT_MOST = 8;

/** What is wrong with a value, collected as the checks run (they go on after a problem, to list a few). */
export class Problems {
  /** The first few problems: where (e.g. `runs[1].norms.after[17]`) and what. */
  readonly first: { path: string; message: string }[] = [];
  /** How many problems there were in all. */
  count = 0;

  add(path: string, message: string): void {
    this.count++;
    if (this.first.length < LIST_AT_MOST) this.first.push({ path, message });
  }

  /** The listed problems as `where: what` lines, and a last line for those left out. */
  lines(): string[] {
    const lines = this.first.map((p) => `${p.path === '' ? 'the data' : p.path}: ${p.message}`);
    if (this.count > this.first.length) lines.push(`… and ${this.count - this.first.length} more`);
    return lines;
  }
}

/**
 * Reads a T at `path` (for messages, e.g. `runs[1].norms.after`). On a problem it records it and returns a stand-in
 * of the wrong type: a caller must not use the result once `problems.count` has grown.
 */
export type Check<T> = (value: unknown, path: string, problems: Problems) => T;

/** A short description of a value for a message: `"abc"`, `12`, `null`, `an object`, `an array of 3`, `nothing`. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function fail<T>(problems: Problems, path: string, expected: string, value: unknown): T {
  problems.add(path, `expected ${expected}, got ${describe(value)}`);
  return value as T;
}

export const string: Check<string> = (v, path, problems) => (typeof v === 'string' ? v : fail(problems, path, 'a string', v));

/** A check of single values that also says, fast, which values it takes as they are (most of a series). */
export type ValueCheck<T> = Check<T> & { readonly plain: (value: unknown) => boolean };

function valueCheck<T>(plain: (value: unknown) => boolean, check: Check<T>): ValueCheck<T> {
  return Object.assign(check, { plain });
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A finite number (steps, counts, sizes). */
export const finite: ValueCheck<number> = valueCheck(isFiniteNumber, (v, path, problems) =>
  isFiniteNumber(v) ? v : fail(problems, path, 'a finite number', v),
);

/**
 * Any number, non-finite ones included: the page's data spells NaN and ±Infinity out as the log does (`"NaN"`,
 * `"Infinity"`, `"-Infinity"`; see stringifyKeepingNonFinite), and this reads them back into numbers.
 */
export const figure: Check<number> = (v, path, problems) => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NON_FINITE_TEXT.includes(v)) return Number(v);
  return fail(problems, path, 'a number, "NaN", "Infinity" or "-Infinity"', v);
};

/** A point of a drawn series: a number, or null for a gap; a non-finite number (spelled out) is a gap too. */
export const point: ValueCheck<number | null> = valueCheck(
  (v) => v === null || isFiniteNumber(v),
  (v, path, problems) => {
    if (v === null || isFiniteNumber(v)) return v;
    if (typeof v === 'string' && NON_FINITE_TEXT.includes(v)) return null;
    return fail(problems, path, 'a number or null', v);
  },
);

/** A mark of a series: 1 where the step is marked, else 0. */
export const flag: ValueCheck<0 | 1> = valueCheck(
  (v) => v === 0 || v === 1,
  (v, path, problems) => (v === 0 || v === 1 ? v : fail(problems, path, '0 or 1', v)),
);

/** One of the given strings. */
export function oneOf<T extends string>(...values: T[]): Check<T> {
  return (v, path, problems) =>
    (values as unknown[]).includes(v) ? (v as T) : fail(problems, path, values.map((x) => JSON.stringify(x)).join(' or '), v);
}

export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, path, problems) => (v === null ? null : check(v, path, problems));
}

/** A field JSON leaves out when it is undefined. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path, problems) => (v === undefined ? undefined : check(v, path, problems));
}

/** An array of T. */
export function arrayOf<T>(check: Check<T>): Check<T[]> {
  return (v, path, problems) => {
    if (!Array.isArray(v)) return fail(problems, path, 'an array', v);
    const out: T[] = new Array<T>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = check(v[i], `${path}[${i}]`, problems);
    return out;
  };
}

/**
 * A drawn series: an array of single values (thousands of them), checked fast. Only its first bad element is named,
 * with how many there are. The array itself is returned when every element was taken as it is.
 */
export function seriesOf<T>(check: ValueCheck<T>): Check<T[]> {
  return (v, path, problems) => {
    if (!Array.isArray(v)) return fail(problems, path, 'an array', v);
    const { plain } = check;
    let out: unknown[] | null = null;
    const bad = new Problems();
    for (let i = 0; i < v.length; i++) {
      const value: unknown = v[i];
      if (plain(value)) {
        out?.push(value);
        continue;
      }
      out ??= v.slice(0, i);
      out.push(check(value, `${path}[${i}]`, bad));
    }
    const first = bad.first[0];
    if (first !== undefined) {
      problems.add(first.path, bad.count === 1 ? first.message : `${first.message} (${bad.count} bad values in ${path})`);
    }
    return (out ?? v) as T[];
  };
}

/** Every key of T, each with a check of its own type. Keys T does not have are ignored. */
export type Shape<T> = { [K in keyof T]-?: Check<T[K]> };

export function object<T>(shape: Shape<T>): Check<T> {
  return (v, path, problems) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(problems, path, 'an object', v);
    const source = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(shape) as (keyof T & string)[]) {
      const field = Object.hasOwn(source, key) ? source[key] : undefined;
      const value = shape[key](field, path === '' ? key : `${path}.${key}`, problems);
      if (value !== undefined) out[key] = value;
    }
    return out as T;
  };
}

/** `check`, then `more` on its result when `check` found nothing wrong (for rules between fields). */
export function refine<T>(check: Check<T>, more: (value: T, path: string, problems: Problems) => void): Check<T> {
  return (v, path, problems) => {
    const before = problems.count;
    const value = check(v, path, problems);
    if (problems.count === before) more(value, path, problems);
    return value;
  };
}

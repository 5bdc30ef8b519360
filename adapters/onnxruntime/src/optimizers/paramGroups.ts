import type { JsonObject, JsonValue } from '@gradpipe/core';
import { describeValue, GradpipeError } from '@gradpipe/core';
import { isPlainObject, rejectUnknownKeys } from '@gradpipe/core/internal';

/**
 * Which parameters a param group is for: a RegExp tested on the initializer name, the names themselves, or a
 * predicate. (Groups are matched once, to the names; a saved optimizer keeps the names.)
 */
export type ParamSelector = RegExp | readonly string[] | ((name: string) => boolean);

/** A param group as it is saved: the names it resolved to, and its options. */
interface SavedGroup {
  names: string[];
  options: JsonObject;
}

/**
 * The param groups of an optimizer: checked at creation, matched to parameter names on the first update (or
 * `resolve`), saved by name.
 */
export class ParamGroups<Resolved extends { lr: number }> {
  private readonly groups: { params: ParamSelector; options: Record<string, unknown> }[];
  private assignment: Map<string, number> | undefined;
  /** Saved groups come with their names, which are checked against the parameters once they are known. */
  private savedChecked = false;
  private readonly resolvedOptions: Resolved[];

  constructor(
    private readonly fn: string,
    given: unknown,
    /** The option keys a group may set (besides `params`). */
    keys: readonly string[],
    /** Completes a group's options with the optimizer's own, checking the values. */
    complete: (options: Record<string, unknown>, index: number) => Resolved,
  ) {
    if (given === undefined) given = [];
    if (!Array.isArray(given)) throw new GradpipeError(fn, `groups must be an array of { params, …options }, got ${describeValue(given)}`);
    this.groups = given.map((g, i) => {
      if (typeof g !== 'object' || g === null) throw new GradpipeError(fn, `groups[${i}] must be an object, got ${describeValue(g)}`);
      rejectUnknownKeys(fn, g, ['params', 'names', ...keys]);
      const { params, names, ...options } = g as { params?: unknown; names?: unknown };
      const selector = params !== undefined ? params : names; // saved groups carry `names`
      const ok =
        selector instanceof RegExp ||
        typeof selector === 'function' ||
        (Array.isArray(selector) && selector.every((n) => typeof n === 'string'));
      if (!ok)
        throw new GradpipeError(
          fn,
          `groups[${i}].params must be a RegExp, an array of parameter names or a predicate, got ${describeValue(selector)}`,
        );
      return { params: selector as ParamSelector, options };
    });
    this.resolvedOptions = this.groups.map((g, i) => complete(g.options, i));
    const saved = given.length > 0 && given.every((g) => Array.isArray((g as { names?: unknown }).names));
    if (saved) {
      this.assignment = new Map();
      this.groups.forEach((g, i) => {
        for (const name of g.params as string[]) {
          if (this.assignment!.has(name))
            throw new GradpipeError(fn, `the saved groups name ${JSON.stringify(name)} twice (each parameter is in one group at most)`);
          this.assignment!.set(name, i);
        }
      });
    }
  }

  /** Matches the groups to these parameter names (once; later calls check nothing new). */
  resolve(names: readonly string[]): void {
    if (this.assignment && !this.savedChecked) {
      const unknown = [...this.assignment.keys()].find((n) => !names.includes(n));
      if (unknown !== undefined)
        throw new GradpipeError(
          this.fn,
          `the saved groups name ${JSON.stringify(unknown)}, which is not a parameter (${names.join(', ')})`,
        );
    }
    this.savedChecked = true;
    if (this.assignment) return;
    const assignment = new Map<string, number>();
    for (const name of names) {
      const i = this.groups.findIndex(({ params }) =>
        params instanceof RegExp
          ? new RegExp(params.source, params.flags.replace('g', '')).test(name)
          : typeof params === 'function'
            ? params(name) === true
            : params.includes(name),
      );
      if (i >= 0) assignment.set(name, i);
    }
    this.groups.forEach((g, i) => {
      if (Array.isArray(g.params)) {
        const unknown = g.params.find((n) => !names.includes(n));
        if (unknown !== undefined)
          throw new GradpipeError(this.fn, `groups[${i}] names ${JSON.stringify(unknown)}, which is not a parameter (${names.join(', ')})`);
      }
    });
    this.assignment = assignment;
  }

  /** The options of a parameter's group, or undefined for the optimizer's own. */
  of(name: string): Resolved | undefined {
    const i = this.assignment?.get(name);
    return i === undefined ? undefined : this.resolvedOptions[i];
  }

  /** Every group's resolved options (to rescale learning rates). */
  get all(): readonly Resolved[] {
    return this.resolvedOptions;
  }

  /** The groups by name, for saving; a group that was never matched to names keeps its list or RegExp source. */
  toJSON(): JsonValue {
    if (this.groups.length === 0) return [];
    if (!this.assignment)
      throw new GradpipeError(
        `${this.fn}.toJSON`,
        'param groups are matched to parameters on the first update: save after it (OrtTrainer does this at create)',
      );
    return this.groups.map(
      (g, i): SavedGroup => ({
        names: [...this.assignment!].filter(([, k]) => k === i).map(([n]) => n),
        options: g.options as JsonObject,
      }),
    ) as unknown as JsonValue;
  }
}

/** Saved groups (`{ names, options }`, checked) back into the `groups` option form. */
export function groupsFromJSON(fn: string, json: unknown): unknown {
  if (!Array.isArray(json)) throw new GradpipeError(fn, `config.groups must be an array of saved groups, got ${describeValue(json)}`);
  return Array.from(json, (g: unknown, i) => {
    if (!isPlainObject(g))
      throw new GradpipeError(fn, `config.groups[${i}] must be a saved group { names, options }, got ${describeValue(g)}`);
    rejectUnknownKeys(fn, g, ['names', 'options'], 'key');
    if (!Array.isArray(g.names) || !Array.from(g.names).every((n) => typeof n === 'string')) {
      throw new GradpipeError(fn, `config.groups[${i}].names must be an array of parameter names, got ${describeValue(g.names)}`);
    }
    if (!isPlainObject(g.options))
      throw new GradpipeError(fn, `config.groups[${i}].options must be an object, got ${describeValue(g.options)}`);
    if (Object.hasOwn(g.options, 'params') || Object.hasOwn(g.options, 'names'))
      throw new GradpipeError(fn, `config.groups[${i}].options cannot choose parameters: the group's names do`);
    return { names: [...(g.names as string[])], ...g.options };
  });
}

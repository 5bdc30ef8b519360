/** Where one scalar will be among the values read back: handed out by {@link ReadBack.add}. */
export interface Handle {
  readonly index: number;
}

/**
 * The scalars a step reads back in one call, and handles to find each value afterwards. Every scalar is asked
 * for by whoever needs it and found again by its handle, never by a position computed elsewhere.
 */
export class ReadBack<S> {
  readonly scalars: S[] = [];

  /** Adds a scalar to the read; its value will be `values[handle.index]`. */
  add(scalar: S): Handle {
    this.scalars.push(scalar);
    return { index: this.scalars.length - 1 };
  }
}

/** The values of a {@link ReadBack}, looked up by handle. */
export class ReadValues {
  constructor(private readonly values: readonly number[]) {}

  get(handle: Handle): number {
    return this.values[handle.index]!;
  }

  /** The value of an optional handle: `undefined` when the scalar was never asked for. */
  maybe(handle: Handle | undefined): number | undefined {
    return handle === undefined ? undefined : this.values[handle.index];
  }
}

import type { TensorOps } from '../../backends/TensorOps.js';

/** 1 when any flag is 1, else 0: a transform's `clipped` figure from its per-tensor flags. */
export function anyOf<T, S>(ops: TensorOps<T, S>, flags: readonly S[]): S {
  let any = ops.scalar(0);
  for (const f of flags) any = ops.max(any, f);
  return any;
}

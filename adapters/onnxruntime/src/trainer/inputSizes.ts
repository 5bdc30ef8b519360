import { GradpipeError } from '@gradpipe/core';
import type * as ort from 'onnxruntime-node';

/**
 * The sizes of the model's named dims (`dim_param`, e.g. `'batch'`) in a step's feeds; the same name must have
 * one size in every input. Dropout masks and target checks are sized from these.
 */
export function inputSizes(
  fn: string,
  inputDims: Readonly<Record<string, readonly (number | string | null)[] | null>>,
  feeds: Readonly<Record<string, ort.Tensor>>,
): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const [input, dims] of Object.entries(inputDims)) {
    const tensor = feeds[input];
    if (!dims || !tensor) continue;
    dims.forEach((d, i) => {
      if (typeof d !== 'string') return;
      const size = tensor.dims[i];
      const known = sizes.get(d);
      if (known !== undefined && known !== size)
        throw new GradpipeError(
          fn,
          `feeds disagree on the size of dim ${JSON.stringify(d)}: ${known} and ${size} (input ${JSON.stringify(input)})`,
        );
      if (size !== undefined) sizes.set(d, size);
    });
  }
  return sizes;
}

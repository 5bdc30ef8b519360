import type { NodeAttributes } from '../../autodiff/NodeAttributes.js';
import type { Dim } from '../../shapes/Dim.js';

/** Kernel, strides, dilations and padding of a convolution or pooling node, one entry per spatial axis. */
export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** `NOTSET`, `VALID`, `SAME_UPPER` or `SAME_LOWER`. */
  autoPad: string;
  /** Explicit pads `[begin…, end…]` (from the attribute; for `auto_pad` see {@link resolvePads}). */
  pads: number[];
}

/** Reads a node's window; the kernel comes from `kernel_shape` or, for convolutions, the weight's dims. */
export function readWindow(attr: NodeAttributes, spatial: number, kernelFromWeight?: readonly Dim[]): Window | undefined {
  const kernel =
    attr.ints('kernel_shape') ?? (kernelFromWeight?.every((d) => typeof d === 'number') ? (kernelFromWeight as number[]) : undefined);
  if (!kernel || kernel.length !== spatial) return undefined;
  return {
    kernel,
    strides: attr.ints('strides') ?? kernel.map(() => 1),
    dilations: attr.ints('dilations') ?? kernel.map(() => 1),
    autoPad: attr.string('auto_pad', 'NOTSET'),
    pads: attr.ints('pads') ?? new Array<number>(2 * spatial).fill(0),
  };
}

/**
 * The explicit pads of a window for the given input sizes, as ONNX Runtime computes them for `auto_pad`
 * (pooling uses the undilated kernel there, as ORT does); undefined when a size it needs is unknown.
 */
export function resolvePads(w: Window, sizes: readonly Dim[], pooling = false): number[] | undefined {
  if (w.autoPad === 'NOTSET') return w.pads;
  if (w.autoPad === 'VALID') return w.pads.map(() => 0);
  if (!sizes.every((d) => typeof d === 'number')) return undefined;
  const begin: number[] = [];
  const end: number[] = [];
  (sizes as number[]).forEach((size, i) => {
    const s = w.strides[i]!;
    const extent = pooling ? w.kernel[i]! : (w.kernel[i]! - 1) * w.dilations[i]! + 1;
    const needed = Math.max(0, (Math.ceil(size / s) - 1) * s + extent - size);
    const head = w.autoPad === 'SAME_LOWER' ? Math.ceil(needed / 2) : Math.floor(needed / 2);
    begin.push(head);
    end.push(needed - head);
  });
  return [...begin, ...end];
}

/** One spatial output size (floor, or ceil_mode's ceil with ORT's rule that the last window starts inside). */
export function windowOutput(size: Dim, w: Window, pads: readonly number[], i: number, ceil = false): Dim {
  if (typeof size !== 'number') return undefined;
  const spatial = w.kernel.length;
  const numerator = size + pads[i]! + pads[spatial + i]! - w.dilations[i]! * (w.kernel[i]! - 1) - 1;
  const s = w.strides[i]!;
  if (!ceil) return Math.floor(numerator / s) + 1;
  let out = Math.ceil(numerator / s) + 1;
  if ((out - 1) * s >= size + pads[i]!) out--;
  return out;
}

/** The spatial output sizes of a window over input sizes `sizes` (undefined entries where unknown). */
export function windowOutputs(sizes: readonly Dim[], w: Window, pooling: boolean, ceil = false): Dim[] {
  const pads = resolvePads(w, sizes, pooling);
  return sizes.map((size, i) => (pads ? windowOutput(size, w, pads, i, ceil) : undefined));
}

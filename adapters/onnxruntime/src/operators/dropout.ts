import type { OperatorRule } from '../autodiff/OperatorRule.js';
import { DataType } from '../onnx/onnxProto.js';

/**
 * Dropout in inference form, the identity. (The training form — a fresh random mask each step — is rewritten
 * into a multiplication by a mask the trainer feeds, before differentiation: see `lowerTrainingForms`.)
 */
export const dropoutRules = {
  Dropout: {
    differentiable: [0],
    shape: (c) => [
      { type: c.input(0).type, shape: c.input(0).shape },
      { type: DataType.BOOL, shape: c.input(0).shape },
    ],
    grad: (c) => [c.dy[0]],
  },
} satisfies Record<string, OperatorRule>;

// Training
export { OrtTrainer } from './OrtTrainer.js';
export type { OrtFeeds, OrtStepResult, OrtTrainerOptions, OrtTrainerState } from './OrtTrainer.js';

// The gradient graph
export { buildTrainingModel, TARGET_INPUT, LOSS_OUTPUT } from './buildTrainingModel.js';
export type { LossKind, TrainingModel, TrainingModelOptions, TrainingSignature } from './buildTrainingModel.js';

// Optimizers
export { sgd } from './sgd.js';
export type { SgdOptions } from './sgd.js';
export { adam } from './adam.js';
export { adamw } from './adamw.js';
export type { AdamOptions } from './adam.js';
export { optimizerFromJSON } from './optimizerFromJSON.js';
export type { Optimizer, OptimizerJson } from './Optimizer.js';

// Models to start from
export { mlpModel } from './mlpModel.js';
export type { MlpModelOptions } from './mlpModel.js';

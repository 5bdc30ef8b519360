// Training

export type { MlpModelOptions } from './models/mlpModel.js';
// Models to start from
export { mlpModel } from './models/mlpModel.js';
export type { AdamGroup, AdamOptions } from './optimizers/adam.js';
export { adam } from './optimizers/adam.js';
export { adamw } from './optimizers/adamw.js';
export type { Optimizer, OptimizerJson } from './optimizers/Optimizer.js';
export { optimizerFromJSON } from './optimizers/optimizerFromJSON.js';
export type { ParamSelector } from './optimizers/paramGroups.js';
export type { SgdGroup, SgdOptions } from './optimizers/sgd.js';
// Optimizers
export { sgd } from './optimizers/sgd.js';
export { modelFingerprint } from './trainer/fingerprint.js';
export type {
  ExportOptions,
  OrtFeeds,
  OrtStepResult,
  OrtTrainerLoadOptions,
  OrtTrainerOptions,
  OrtTrainerState,
} from './trainer/OrtTrainer.js';
export { OrtTrainer } from './trainer/OrtTrainer.js';
export type { TrainingModel, TrainingModelOptions, TrainingSignature } from './training/buildTrainingModel.js';
// The gradient graph
export { buildTrainingModel, LOSS_OUTPUT } from './training/buildTrainingModel.js';
export type { LossKind, LossName, LossOptions, TargetSpec } from './training/losses.js';
export { TARGET_INPUT } from './training/losses.js';
export type { DropoutMask, RunningStatistics } from './training/lowerTrainingForms.js';

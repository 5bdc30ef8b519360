import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GradpipeError, describeValue } from '@gradpipe/core';
import { decodeModel } from '../onnx/onnxProto.js';
import type { OrtTrainerState } from './TrainerState.js';

/** The files of a checkpoint directory. */
export const CHECKPOINT_FILES = { model: 'model.onnx', state: 'trainer.json' } as const;

/** Writes a file whole or not at all: to a temporary name beside it, then renamed over it. */
async function writeWhole(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/** Writes a checkpoint: the model (training form, current weights) and the trainer's state. */
export async function writeCheckpoint(fn: string, dir: string, model: Uint8Array, state: OrtTrainerState): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new GradpipeError(fn, `dir must be a directory path, got ${describeValue(dir)}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeWhole(join(dir, CHECKPOINT_FILES.model), model);
    await writeWhole(join(dir, CHECKPOINT_FILES.state), JSON.stringify(state));
  } catch (e) {
    throw new GradpipeError(fn, `cannot write the checkpoint to ${JSON.stringify(dir)}: ${(e as Error).message}`);
  }
}

/** Reads a checkpoint; a missing, truncated or foreign file gets a clear error naming it. */
export async function readCheckpoint(fn: string, dir: string): Promise<{ model: Uint8Array; state: OrtTrainerState }> {
  if (typeof dir !== 'string' || dir === '') throw new GradpipeError(fn, `dir must be a checkpoint directory, got ${describeValue(dir)}`);
  const read = async (file: string) => {
    try {
      return await readFile(join(dir, file));
    } catch (e) {
      throw new GradpipeError(fn, `cannot read ${JSON.stringify(join(dir, file))}: ${(e as Error).message}`);
    }
  };
  const [modelBytes, stateText] = await Promise.all([read(CHECKPOINT_FILES.model), read(CHECKPOINT_FILES.state)]);
  const model = new Uint8Array(modelBytes);
  decodeModel(`${fn} (${CHECKPOINT_FILES.model})`, model);
  let state: OrtTrainerState;
  try {
    state = JSON.parse(stateText.toString('utf8')) as OrtTrainerState;
  } catch (e) {
    throw new GradpipeError(fn, `${JSON.stringify(join(dir, CHECKPOINT_FILES.state))} is not valid JSON (a truncated file?): ${(e as Error).message}`);
  }
  return { model, state };
}

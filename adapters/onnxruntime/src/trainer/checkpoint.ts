import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { describeValue, GradpipeError } from '@gradpipe/core';
import { isPlainObject, rejectUnknownKeys } from '@gradpipe/core/internal';
import { decodeModel } from '../onnx/onnxProto.js';
import type { OrtTrainerState } from './TrainerState.js';

/** The files of a checkpoint directory: the model, the trainer's state, and the manifest that commits them. */
export const CHECKPOINT_FILES = { model: 'model.onnx', state: 'trainer.json', manifest: 'checkpoint.json' } as const;
type DataFile = typeof CHECKPOINT_FILES.model | typeof CHECKPOINT_FILES.state;
const DATA_FILES: readonly DataFile[] = [CHECKPOINT_FILES.model, CHECKPOINT_FILES.state];

/** A file written but not yet moved into place: beside its final name, in the same directory (so a rename moves it). */
const staged = (file: string) => `${file}.next`;

/** What checkpoint.json records: each file's size and SHA-256, so that a load knows the files are the ones saved together. */
interface Manifest {
  format: 'gradpipe.ortCheckpoint';
  version: 1;
  files: Record<DataFile, { bytes: number; sha256: string }>;
}

/** The points of a save, in order (an interruption after any of them leaves a loadable checkpoint). */
export type SaveStep = 'staged' | 'committed' | 'moved';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Writes a file and makes it durable before anything refers to it. */
async function writeSynced(path: string, data: Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Syncs a directory, so that its renames survive a power cut (not supported everywhere: then a no-op). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot open a directory; the renames are still atomic there.
  }
}

/**
 * Writes a checkpoint so that an interruption at any point — a crash, kill -9, a full disk — leaves either the
 * previous checkpoint or the new one, complete, never a mix of the two:
 * 1. a save interrupted after its commit is finished first (its staged files moved into place);
 * 2. the model and the state are written whole under staged names (`model.onnx.next`, `trainer.json.next`) and synced;
 * 3. checkpoint.json, with their sizes and SHA-256, replaces the previous one by a rename — the commit;
 * 4. the staged files are renamed into place.
 * `readCheckpoint` takes each file from its final or its staged name, whichever matches checkpoint.json.
 * `interrupted` is for tests: called after each step, it may throw to stop the save there, as a kill would.
 */
export async function writeCheckpoint(
  fn: string,
  dir: string,
  model: Uint8Array,
  state: OrtTrainerState,
  interrupted: (step: SaveStep) => void = () => undefined,
): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new GradpipeError(fn, `dir must be a directory path, got ${describeValue(dir)}`);
  const data: Record<DataFile, Uint8Array> = {
    [CHECKPOINT_FILES.model]: model,
    [CHECKPOINT_FILES.state]: new TextEncoder().encode(JSON.stringify(state)),
  } as Record<DataFile, Uint8Array>;
  try {
    await mkdir(dir, { recursive: true });
    await finishInterruptedSave(dir);
    for (const file of DATA_FILES) await writeSynced(join(dir, staged(file)), data[file]);
    interrupted('staged');
    const manifest: Manifest = {
      format: 'gradpipe.ortCheckpoint',
      version: 1,
      files: Object.fromEntries(
        DATA_FILES.map((file) => [file, { bytes: data[file].byteLength, sha256: sha256(data[file]) }]),
      ) as Manifest['files'],
    };
    const manifestPath = join(dir, CHECKPOINT_FILES.manifest);
    await writeSynced(staged(manifestPath), new TextEncoder().encode(JSON.stringify(manifest)));
    await rename(staged(manifestPath), manifestPath);
    await syncDirectory(dir);
    interrupted('committed');
    for (const file of DATA_FILES) await rename(join(dir, staged(file)), join(dir, file));
    await syncDirectory(dir);
    interrupted('moved');
  } catch (e) {
    throw new GradpipeError(fn, `cannot write the checkpoint to ${JSON.stringify(dir)}: ${(e as Error).message}`);
  }
}

/**
 * Before staging new files over the old staged ones: a staged file that checkpoint.json describes belongs to a
 * committed save that was interrupted before it moved it into place — move it now, or it would be lost.
 */
async function finishInterruptedSave(dir: string): Promise<void> {
  const manifest = await readManifest('finish', dir).catch(() => undefined);
  if (!manifest) return;
  for (const file of DATA_FILES) {
    const bytes = await readFile(join(dir, staged(file))).catch(() => undefined);
    if (bytes && matches(bytes, manifest.files[file])) await rename(join(dir, staged(file)), join(dir, file));
  }
}

const matches = (bytes: Uint8Array, recorded: { bytes: number; sha256: string }) =>
  bytes.byteLength === recorded.bytes && sha256(bytes) === recorded.sha256;

/** Reads and checks checkpoint.json. */
async function readManifest(fn: string, dir: string): Promise<Manifest> {
  const path = join(dir, CHECKPOINT_FILES.manifest);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file: not a directory OrtTrainer.save wrote, or its first save was interrupted' : (e as Error).message;
    throw new GradpipeError(fn, `cannot read ${JSON.stringify(path)} (${why})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new GradpipeError(fn, `${JSON.stringify(path)} is not valid JSON (a truncated file?): ${(e as Error).message}`);
  }
  const entryOk = (entry: unknown) =>
    isPlainObject(entry) &&
    Number.isSafeInteger(entry.bytes) &&
    (entry.bytes as number) >= 0 &&
    typeof entry.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(entry.sha256);
  if (
    !isPlainObject(json) ||
    json.format !== 'gradpipe.ortCheckpoint' ||
    json.version !== 1 ||
    !isPlainObject(json.files) ||
    !DATA_FILES.every((file) => entryOk((json.files as Record<string, unknown>)[file]))
  ) {
    throw new GradpipeError(fn, `${JSON.stringify(path)} is not a checkpoint manifest written by OrtTrainer.save`);
  }
  rejectUnknownKeys(fn, json, ['format', 'version', 'files'], `key in ${CHECKPOINT_FILES.manifest}`);
  rejectUnknownKeys(fn, json.files, DATA_FILES, `file in ${CHECKPOINT_FILES.manifest}`);
  return json as unknown as Manifest;
}

/** One file of the checkpoint: under its name, or its staged name after a save interrupted between commit and move. */
async function readVerified(fn: string, dir: string, file: DataFile, recorded: { bytes: number; sha256: string }): Promise<Uint8Array> {
  const path = join(dir, file);
  let bytes: Uint8Array | undefined;
  let problem: string;
  try {
    bytes = new Uint8Array(await readFile(path));
    problem =
      bytes.byteLength !== recorded.bytes
        ? `it has ${bytes.byteLength} bytes, ${CHECKPOINT_FILES.manifest} records ${recorded.bytes}`
        : `its SHA-256 is not the one ${CHECKPOINT_FILES.manifest} records`;
  } catch (e) {
    problem = `cannot read it: ${(e as Error).message}`;
  }
  if (bytes && matches(bytes, recorded)) return bytes;
  const next = await readFile(join(dir, staged(file))).catch(() => undefined);
  if (next && matches(next, recorded)) return new Uint8Array(next);
  throw new GradpipeError(
    fn,
    `${JSON.stringify(path)} is not the file saved with this checkpoint (${problem}): truncated, changed or replaced after the save`,
  );
}

/** Reads a checkpoint, every file checked against checkpoint.json, then the model decoded and the state parsed. */
export async function readCheckpoint(fn: string, dir: string): Promise<{ model: Uint8Array; state: OrtTrainerState }> {
  if (typeof dir !== 'string' || dir === '') throw new GradpipeError(fn, `dir must be a checkpoint directory, got ${describeValue(dir)}`);
  const manifest = await readManifest(fn, dir);
  const model = await readVerified(fn, dir, CHECKPOINT_FILES.model, manifest.files[CHECKPOINT_FILES.model]);
  const stateBytes = await readVerified(fn, dir, CHECKPOINT_FILES.state, manifest.files[CHECKPOINT_FILES.state]);
  decodeModel(`${fn} (${CHECKPOINT_FILES.model})`, model);
  let state: OrtTrainerState;
  try {
    state = JSON.parse(new TextDecoder().decode(stateBytes)) as OrtTrainerState;
  } catch (e) {
    throw new GradpipeError(fn, `${JSON.stringify(join(dir, CHECKPOINT_FILES.state))} is not valid JSON: ${(e as Error).message}`);
  }
  return { model, state };
}

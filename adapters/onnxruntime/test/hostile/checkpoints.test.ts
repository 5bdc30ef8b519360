// Checkpoints on disk, corrupted and interrupted: OrtTrainer.load must refuse every file that is not the one
// saved (truncated, a flipped byte, another save's file, missing) and every corrupt field of a consistent-looking
// checkpoint, with a GradpipeError; and a save interrupted at any point — as kill -9 would stop it — must leave
// the previous checkpoint or the new one, complete, never a half-written one in its place.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OrtTrainerState } from '@gradpipe/onnxruntime';
import { OrtTrainer } from '@gradpipe/onnxruntime';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SaveStep } from '../../src/trainer/checkpoint.js';
import { CHECKPOINT_FILES, writeCheckpoint } from '../../src/trainer/checkpoint.js';
import { batchOf, corruptions, trainedTrainer } from './savedStates.js';
import { FC, refusal } from './support.js';

const FILES = [CHECKPOINT_FILES.model, CHECKPOINT_FILES.state, CHECKPOINT_FILES.manifest];
const root = mkdtempSync(join(tmpdir(), 'gradpipe-hostile-checkpoints-'));
let n = 0;
const freshDir = () => join(root, `c${n++}`);
const copyOf = (dir: string) => {
  const copy = freshDir();
  cpSync(dir, copy, { recursive: true });
  return copy;
};
const load = (dir: string) => OrtTrainer.load(dir, { loss: 'mse' });

/** Two saves of one run, an update apart (`older`, `newer`), and the weights each holds. */
let trainer: OrtTrainer;
let older: string;
let newer: string;
const weights: Record<'older' | 'newer', Record<string, Float32Array>> = { older: {}, newer: {} };
beforeAll(async () => {
  trainer = await trainedTrainer('layernorm');
  older = freshDir();
  await trainer.save(older);
  weights.older = trainer.parameters();
  for (let i = 5; i < 7; i++) await trainer.step(batchOf('layernorm', i).feeds, batchOf('layernorm', i).target);
  newer = freshDir();
  await trainer.save(newer);
  weights.newer = trainer.parameters();
  expect(weights.newer).not.toEqual(weights.older);
});
afterAll(async () => {
  await trainer.release();
  rmSync(root, { recursive: true, force: true });
});

/** The weights a checkpoint loads with (and the loaded trainer released). */
async function loadedWeights(dir: string): Promise<Record<string, Float32Array>> {
  const loaded = await load(dir);
  const w = loaded.parameters();
  await loaded.release();
  return w;
}

describe('files that are not the ones saved are refused', () => {
  const byteCorruption = fc.record({
    file: fc.constantFrom(...FILES),
    kind: fc.constantFrom('truncate', 'flip', 'append', 'empty', 'delete', 'swap'),
    at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    mask: fc.integer({ min: 1, max: 255 }),
  });

  test("a truncated file, a flipped byte, bytes appended, an empty or missing file, the other save's file (property)", async () => {
    await fc.assert(
      fc.asyncProperty(byteCorruption, async ({ file, kind, at, mask }) => {
        const dir = copyOf(older);
        const path = join(dir, file);
        const bytes = readFileSync(path);
        const i = Math.floor(at * bytes.length);
        if (kind === 'truncate') truncateSync(path, i);
        if (kind === 'flip')
          writeFileSync(path, Buffer.concat([bytes.subarray(0, i), Buffer.from([bytes[i]! ^ mask]), bytes.subarray(i + 1)]));
        if (kind === 'append') writeFileSync(path, Buffer.concat([bytes, Buffer.from([mask])]));
        if (kind === 'empty') writeFileSync(path, '');
        if (kind === 'delete') rmSync(path);
        if (kind === 'swap') cpSync(join(newer, file), path);
        const error = await refusal(() => load(dir));
        expect(error.message).toMatch(/^OrtTrainer\.load: /);
        expect(error.message).toContain(dir);
        rmSync(dir, { recursive: true });
      }),
      { ...FC, numRuns: 120 },
    );
    expect(await loadedWeights(older)).toEqual(weights.older); // the pristine checkpoint still loads
  });

  test('each file truncated to half or deleted: a message that names it', async () => {
    for (const file of FILES) {
      const truncated = copyOf(older);
      const size = readFileSync(join(truncated, file)).length;
      truncateSync(join(truncated, file), Math.floor(size / 2));
      const deleted = copyOf(older);
      rmSync(join(deleted, file));
      const [t, d] = [(await refusal(() => load(truncated))).message, (await refusal(() => load(deleted))).message];
      if (file === CHECKPOINT_FILES.manifest) {
        expect(t).toBe(
          `OrtTrainer.load: ${JSON.stringify(join(truncated, file))} is not valid JSON (a truncated file?): ${errorOf(() => JSON.parse(readFileSync(join(truncated, file), 'utf8')))}`,
        );
        expect(d).toBe(
          `OrtTrainer.load: cannot read ${JSON.stringify(join(deleted, file))} (no such file: not a directory OrtTrainer.save wrote, or its first save was interrupted)`,
        );
      } else {
        expect(t).toBe(
          `OrtTrainer.load: ${JSON.stringify(join(truncated, file))} is not the file saved with this checkpoint (it has ${Math.floor(size / 2)} bytes, checkpoint.json records ${size}): truncated, changed or replaced after the save`,
        );
        expect(d).toMatch(
          new RegExp(
            `^OrtTrainer\\.load: ${escape(JSON.stringify(join(deleted, file)))} is not the file saved with this checkpoint \\(cannot read it: ENOENT`,
          ),
        );
      }
    }
  });
});

describe('a consistent checkpoint with a corrupt state is refused', () => {
  test('every corruption of trainer.json, with checkpoint.json re-signed to match it (property)', async () => {
    const state = JSON.parse(readFileSync(join(older, CHECKPOINT_FILES.state), 'utf8')) as OrtTrainerState;
    await fc.assert(
      fc.asyncProperty(corruptions(state, true), async ([label, corrupted]) => {
        const dir = copyOf(older);
        const text = JSON.stringify(corrupted);
        writeFileSync(join(dir, CHECKPOINT_FILES.state), text);
        const manifest = JSON.parse(readFileSync(join(dir, CHECKPOINT_FILES.manifest), 'utf8'));
        manifest.files[CHECKPOINT_FILES.state] = {
          bytes: Buffer.byteLength(text),
          sha256: createHash('sha256').update(text).digest('hex'),
        };
        writeFileSync(join(dir, CHECKPOINT_FILES.manifest), JSON.stringify(manifest));
        const error = await refusal(() => load(dir));
        expect(error.message.startsWith('OrtTrainer.load: '), `${label}: ${error.message}`).toBe(true);
        rmSync(dir, { recursive: true });
      }),
      { ...FC, numRuns: 150 },
    );
  });
});

describe('a save interrupted at any point (as kill -9 stops it) leaves the previous checkpoint or the new one', () => {
  const STEPS: SaveStep[] = ['staged', 'committed', 'moved'];
  const model = () => trainer.exportModel({ mode: 'training' });
  /** Saves the trainer's current state into `dir`, stopped right after `step`. */
  const interruptedSave = async (dir: string, step: SaveStep) => {
    const stop = new Error(`killed after ${step}`);
    const error = await refusal(() =>
      writeCheckpoint('OrtTrainer.save', dir, model(), trainer.toJSON(), (s) => {
        if (s === step) throw stop;
      }),
    );
    expect(error.message).toContain(`killed after ${step}`);
  };

  test.each(STEPS)('over a good checkpoint, stopped after %s', async (step) => {
    const dir = copyOf(older);
    const before = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f))]));
    await interruptedSave(dir, step); // the trainer now holds the newer weights
    if (step === 'staged') {
      // nothing is committed: the files in place are untouched, byte for byte, and load gives the older run
      for (const f of FILES) expect(readFileSync(join(dir, f)).equals(before[f]!), f).toBe(true);
      expect(await loadedWeights(dir)).toEqual(weights.older);
    } else {
      expect(await loadedWeights(dir)).toEqual(weights.newer);
    }
    // and the next save, complete, is what loads then
    await trainer.save(dir);
    expect(await loadedWeights(dir)).toEqual(weights.newer);
    expect(existsSync(join(dir, `${CHECKPOINT_FILES.model}.next`))).toBe(false);
  });

  test.each(STEPS)('the first save into a directory, stopped after %s', async (step) => {
    const dir = freshDir();
    await interruptedSave(dir, step);
    if (step === 'staged') {
      expect((await refusal(() => load(dir))).message).toBe(
        `OrtTrainer.load: cannot read ${JSON.stringify(join(dir, CHECKPOINT_FILES.manifest))} (no such file: not a directory OrtTrainer.save wrote, or its first save was interrupted)`,
      );
    } else {
      expect(await loadedWeights(dir)).toEqual(weights.newer);
    }
  });

  test('a save stopped after its commit, then another stopped while staging: the committed one still loads', async () => {
    // The second save must first move the first one's staged files into place: staging over them would lose
    // the only copy of the committed checkpoint.
    const dir = copyOf(older);
    await interruptedSave(dir, 'committed'); // newer, committed, still staged
    const resumed = await load(dir);
    await resumed.step(batchOf('layernorm', 9).feeds, batchOf('layernorm', 9).target);
    await resumed.step(batchOf('layernorm', 10).feeds, batchOf('layernorm', 10).target);
    const stop = new Error('killed while staging');
    await refusal(() =>
      writeCheckpoint('OrtTrainer.save', dir, resumed.exportModel({ mode: 'training' }), resumed.toJSON(), (s) => {
        if (s === 'staged') throw stop;
      }),
    );
    await resumed.release();
    expect(await loadedWeights(dir)).toEqual(weights.newer);
  });

  test('saves of one trainer that are not awaited run one after the other: the last one loads', async () => {
    const dir = freshDir();
    await Promise.all([trainer.save(dir), trainer.save(dir), trainer.save(dir)]);
    expect(await loadedWeights(dir)).toEqual(weights.newer);
  });
});

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

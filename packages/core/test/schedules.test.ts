// The schedules against torch.optim.lr_scheduler and optax's formulas (tests/fixtures/schedules/make_schedules.py).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test as propTest } from '@fast-check/vitest';
import type { Schedule } from '@gradpipe/core';
import {
  chainSchedules,
  constant,
  cosineDecay,
  exponentialDecay,
  linearWarmup,
  oneCycle,
  polynomialDecay,
  scheduleFromJSON,
  stepDecay,
} from '@gradpipe/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';

interface ScheduleCase {
  name: string;
  kind: string;
  options: Record<string, unknown>;
  source: string;
  lrs: number[];
}
const { cases } = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../tests/fixtures/schedules/schedules.json', import.meta.url)), 'utf8'),
) as { cases: ScheduleCase[] };

const FACTORIES: Record<string, (options: never) => Schedule> = {
  constant: (o: { value: number }) => constant(o.value),
  linearWarmup,
  cosineDecay,
  stepDecay,
  exponentialDecay,
  polynomialDecay,
  oneCycle,
};
function make(kind: string, options: Record<string, unknown>): Schedule {
  if (kind === 'chainSchedules') {
    const parts = options.schedules as { kind: string; options: Record<string, unknown> }[];
    return chainSchedules(
      parts.map((p) => make(p.kind, p.options)),
      options.boundaries as number[],
    );
  }
  return FACTORIES[kind]!(options as never);
}

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test(`${c.kind} gives ${c.source}'s learning rates (relative 1e-12)`, () => {
    const schedule = make(c.kind, c.options);
    c.lrs.forEach((expected, t) =>
      expect(Math.abs(schedule(t) - expected), `step ${t}`).toBeLessThanOrEqual(1e-12 * Math.max(1e-12, Math.abs(expected))),
    );
  });
  test('survives JSON exactly', () => {
    const schedule = make(c.kind, c.options);
    const copy = scheduleFromJSON(JSON.parse(JSON.stringify(schedule)));
    c.lrs.forEach((_, t) => expect(copy(t)).toBe(schedule(t)));
  });
});

describe('promises', () => {
  propTest.prop(
    [
      fc.double({ min: 1e-6, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 500 }),
      fc.integer({ min: 0, max: 499 }),
      fc.double({ min: 0, max: 0.9, noNaN: true }),
    ],
    { seed: 42, numRuns: 500 },
  )('cosineDecay stays within [floor, peak] after the warm-up, and reaches both ends', (peak, decaySteps, warmupSeed, floorShare) => {
    const warmupSteps = warmupSeed % decaySteps;
    const floor = peak * floorShare;
    const s = cosineDecay({ peak, decaySteps, warmupSteps, floor });
    for (const t of [warmupSteps, Math.floor((warmupSteps + decaySteps) / 2), decaySteps, decaySteps + 100]) {
      expect(s(t)).toBeGreaterThanOrEqual(floor - 1e-15);
      expect(s(t)).toBeLessThanOrEqual(peak + 1e-15);
    }
    expect(s(warmupSteps)).toBeCloseTo(peak, 12);
    expect(s(decaySteps)).toBeCloseTo(floor, 12);
  });
});

describe('bad options', () => {
  test('name the schedule, the option and the value', () => {
    expect(() => cosineDecay({ peak: -1, decaySteps: 10 })).toThrow('cosineDecay: peak must be a finite number >= 0, got -1');
    expect(() => cosineDecay({ peak: 1, decaySteps: 10, warmupSteps: 10 })).toThrow(
      'cosineDecay: warmupSteps (10) must be smaller than decaySteps (10), which includes it',
    );
    expect(() => linearWarmup({ peak: 1, warmupSteps: 0 })).toThrow('linearWarmup: warmupSteps must be an integer >= 1, got 0');
    expect(() => linearWarmup({ peak: 1, warmup: 5 } as never)).toThrow(
      'linearWarmup: unknown option "warmup" (known: peak, warmupSteps, init)',
    );
    expect(() => stepDecay({ init: 1 })).toThrow('stepDecay: give exactly one of stepSize and milestones');
    expect(() => stepDecay({ init: 1, milestones: [5, 3] })).toThrow(
      'stepDecay: milestones must be increasing integers >= 1, got Array(2)',
    );
    expect(() => oneCycle({ maxLr: 1, totalSteps: 10, pctStart: 1 })).toThrow('oneCycle: pctStart must be a number in (0, 1), got 1');
    expect(() => chainSchedules([constant(1)], [3])).toThrow(
      'chainSchedules: boundaries must have 0 entries (one fewer than schedules), got Array(1)',
    );
    expect(() => chainSchedules([constant(1), (() => 1) as never], [3])).toThrow(
      'chainSchedules: schedules[1] must be a schedule such as cosineDecay',
    );
    expect(() => constant(0.1)(-1)).toThrow('constant: the step must be an integer >= 0, got -1');
    expect(() => scheduleFromJSON({ kind: 'toString', config: {} })).toThrow('scheduleFromJSON: unknown schedule kind "toString"');
    expect(constant(0)(3)).toBe(0); // a learning rate of 0 is allowed (warm-ups start there)
  });
});

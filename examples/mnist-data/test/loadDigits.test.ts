import { describe, expect, it } from 'vitest';
import { loadDigits } from '../src/loadDigits.js';

describe('loadDigits', () => {
  it('splits the real digits of the mnist package per digit into disjoint training and held-out sets', () => {
    const { train, test } = loadDigits({ perDigit: 50, testFraction: 0.2 });
    expect(train.labels).toHaveLength(400);
    expect(test.labels).toHaveLength(100);
    expect(train.pixels).toHaveLength(400 * 784);
    expect(test.labels.filter((l) => l === 7)).toHaveLength(10);
    expect(Math.min(...train.pixels.subarray(0, 784))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...train.pixels.subarray(0, 784))).toBeLessThanOrEqual(1);
    // the held-out images are the last ones of each digit: none of them is a training image
    const all = loadDigits({ perDigit: 50, testFraction: 0 });
    const firstTest = test.pixels.subarray(0, 784).join(',');
    const trainingImages = new Set(Array.from({ length: 400 }, (_, i) => train.pixels.subarray(i * 784, (i + 1) * 784).join(',')));
    expect(trainingImages.has(firstTest)).toBe(false);
    expect(all.train.labels.length).toBe(490); // at least one image of each digit is held out
    expect(all.test.labels.length).toBe(10);
  });
});

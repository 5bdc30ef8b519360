import { GradpipeError } from '@gradpipe/core';

// Small option checks shared by the optimizers; messages follow core's: "fn: name must be …, got value".

export function requirePositiveFinite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new GradpipeError(fn, `${name} must be a positive finite number, got ${show(value)}`);
  }
  return value;
}

export function requireNonNegativeFinite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new GradpipeError(fn, `${name} must be a finite number >= 0, got ${show(value)}`);
  }
  return value;
}

export function requireInRange(fn: string, name: string, value: unknown, lo: number, hi: number, openLo = false, openHi = false): number {
  const ok = typeof value === 'number' && !Number.isNaN(value) && (openLo ? value > lo : value >= lo) && (openHi ? value < hi : value <= hi);
  if (!ok) throw new GradpipeError(fn, `${name} must be a number in ${openLo ? '(' : '['}${lo}, ${hi}${openHi ? ')' : ']'}, got ${show(value)}`);
  return value as number;
}

export function rejectUnknownKeys(fn: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new GradpipeError(fn, `unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`);
  }
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === 'object' && value !== null) return value.constructor?.name && value.constructor.name !== 'Object' ? `${value.constructor.name} instance` : 'object';
  return String(value);
}

// The worst finite-difference error per operator, printed after each rules test file (the docs quote them).
import type { RuleCheck } from './gradientCheck.js';
import { worstError } from './gradientCheck.js';

const worst = new Map<string, number>();

export function recordWorst(op: string, check: RuleCheck): void {
  worst.set(op, Math.max(worst.get(op) ?? 0, worstError(check)));
}

export function reportWorst(family: string): void {
  const entries = [...worst].sort(([a], [b]) => a.localeCompare(b)).map(([op, e]) => `${op} ${e.toExponential(1)}`);
  console.log(`finite differences, ${family}: worst relative error per operator: ${entries.join(', ')}`);
}

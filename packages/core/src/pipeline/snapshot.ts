/**
 * Freezes a step's stats and everything inside them: the object a step returns is the one its event carries, so
 * a subscriber that edits its event must not edit the caller's `result.stats` (or the next subscriber's event).
 */
export function deepFreeze<V>(value: V): V {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

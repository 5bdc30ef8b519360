// vitest's `expect` for a page: @vitest/expect's matchers on chai, as vitest assembles them (without its runner).
import { chai, JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

/** `expect(value, message?)` with vitest's matchers (toBe, toEqual, toBeCloseTo, toThrow…). */
export const expect = ((value: unknown, message?: string) => chai.expect(value, message)) as unknown as typeof import('vitest').expect;

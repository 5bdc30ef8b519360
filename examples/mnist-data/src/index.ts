export { loadDigits } from './loadDigits.js';
export type { DigitArrays, LoadDigitsOptions } from './loadDigits.js';

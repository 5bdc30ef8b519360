export type { DigitArrays, LoadDigitsOptions } from './loadDigits.js';
export { loadDigits } from './loadDigits.js';
